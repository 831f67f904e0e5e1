/**
 * Deferrable requests: a chat completion sent with `x-switchyard-defer: <deadline>` (an ISO 8601 instant, or
 * seconds from now) — or by an API key marked deferrable — is validated and planned like a live request, then
 * accepted with 202 and a batch object instead of an answer. The line waits a short grouping window so requests
 * arriving together share one provider batch, and is billed at batch prices. The headers routing reads
 * (x-switchyard-policy, header conditions) are kept with the line, so it is planned as the live request would be.
 * The client reads the result with GET /batches/{id} and its output file, or receives it at `x-switchyard-webhook`
 * (checked by the SSRF guard).
 */
import { randomUUID } from "node:crypto";
import type { AuthContext } from "../gateway/auth";
import { readJsonBody } from "../gateway/body";
import type { Gateway } from "../gateway/context";
import { AppError } from "../gateway/errors";
import type { ChatRequest } from "../providers/types";
import { prepareCall, storableHeaders } from "../routing/resolve";
import { chatCompletionRequest } from "../gateway/schemas/chat";
import { assertNoForbiddenKeys, parseOrThrow } from "../gateway/schemas/common";
import { checkUrlSyntax } from "../providers/ssrf";
import { batchObject } from "./objects";
import { createDeferredJob } from "./store";

export const DEFER_HEADER = "x-switchyard-defer";
export const WEBHOOK_HEADER = "x-switchyard-webhook";

/** Deadlines: at least a second away, at most a week; a deferrable key without the header gets a day. */
export const DEFER_LIMITS = { minMs: 1_000, maxMs: 7 * 24 * 3600_000, defaultMs: 24 * 3600_000 } as const;

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Parses `x-switchyard-defer`: seconds from now ("3600") or an ISO 8601 instant with a time zone
 * ("2030-01-01T09:00:00Z").
 * @throws AppError 400 for anything else, or a deadline outside DEFER_LIMITS.
 */
export function parseDeadline(value: string, now: number): Date {
  const text = value.trim();
  let at: number;
  if (/^\d+(\.\d+)?$/.test(text)) at = now + Number(text) * 1000;
  else if (ISO_INSTANT.test(text)) at = Date.parse(text);
  else at = Number.NaN;
  if (!Number.isFinite(at)) {
    throw new AppError(400, "invalid_defer", `Invalid ${DEFER_HEADER}: expected seconds from now or an ISO 8601 instant with a time zone`);
  }
  if (at - now < DEFER_LIMITS.minMs) throw new AppError(400, "invalid_defer", `Invalid ${DEFER_HEADER}: the deadline must be at least 1 second away`);
  if (at - now > DEFER_LIMITS.maxMs) throw new AppError(400, "invalid_defer", `Invalid ${DEFER_HEADER}: the deadline must be within 7 days`);
  return new Date(at);
}

/**
 * The deferral check at the start of POST /chat/completions. Returns the 202 for a deferred request, or
 * `{ live }` when the request runs live (no header and a key that is not deferrable, or a deferrable key's
 * streaming request, which cannot be answered later) — with the key it authenticated, so the live pipeline does
 * not authenticate again (null: authentication failed, and the pipeline answers and logs that).
 */
export async function deferChatRequest(gw: Gateway, request: Request, requestId: string): Promise<Response | { live: AuthContext | null }> {
  const header = request.headers.get(DEFER_HEADER);
  let key: AuthContext;
  let source = request;
  if (header === null) {
    try {
      key = await gw.auth.authenticate(request.headers);
    } catch {
      return { live: null };
    }
    if (!key.deferrable) return { live: key };
    // The body may still go to the live pipeline (a streaming request), so it is read from a copy.
    source = request.clone();
  } else {
    key = await gw.auth.authenticate(request.headers);
  }
  const now = Date.now();
  const deadline = header === null ? new Date(now + DEFER_LIMITS.defaultMs) : parseDeadline(header, now);
  const raw = await readJsonBody(source, gw.rt.env.SWITCHYARD_MAX_BODY_BYTES);
  assertNoForbiddenKeys(raw);
  const parsed = parseOrThrow(chatCompletionRequest, raw);
  if (parsed.stream) {
    if (header === null) return { live: key };
    throw new AppError(400, "invalid_value", `A deferred request cannot stream: remove 'stream' or the ${DEFER_HEADER} header`, { param: "stream" });
  }
  // Unknown models and policies (x-switchyard-policy too), models the key may not use and invalid `switchyard`
  // options are refused now, not hours later.
  const { switchyard: _overrides, ...canonical } = parsed;
  prepareCall(gw.rt.snapshot.current(), key, { canonical: canonical as ChatRequest, headers: request.headers, raw });
  const options = gw.rt.batch.options();
  const webhookUrl = request.headers.get(WEBHOOK_HEADER);
  if (webhookUrl !== null) {
    const check = checkUrlSyntax(webhookUrl, { allowPrivate: options.webhookAllowPrivate });
    if (!check.ok) throw new AppError(400, "invalid_webhook", `Invalid ${WEBHOOK_HEADER}: ${check.message}`);
  }
  const window = Math.min(options.deferWindowMs, (deadline.getTime() - now) / 2);
  const job = await createDeferredJob(
    gw.rt.db.prisma,
    { orgId: key.orgId, teamId: key.teamId, apiKeyId: key.apiKeyId },
    { requestId, body: raw, headers: storableHeaders(request.headers), deadline, notBefore: new Date(now + window), webhookUrl, callId: randomUUID() },
    new Date(now),
  );
  return Response.json(batchObject(job), { status: 202, headers: { "x-switchyard-batch-id": job.id, location: `/api/v1/batches/${job.id}` } });
}
