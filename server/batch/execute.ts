/**
 * Running lines: admission (budgets and rate limits, as for live calls), recording a line's result (item row, call
 * log, admission ticket), and the direct pool — lines whose target has no batch API go through the normal adapter
 * path (retries, fallback) at a controlled rate: a bounded number at once, a bounded number started per second.
 */
import type { AuthContext } from "../gateway/auth";
import { toAppError } from "../gateway/errors";
import type { Plan, Target } from "../gateway/resolve";
import { send, withFallback, type AttemptRecord } from "../gateway/upstream";
import { TransportError } from "../providers/transport";
import { UpstreamError, type ChatRequest } from "../providers/types";
import type { WorkerContext } from "./context";
import type { LineRequest } from "./input";
import { callRecord, chatUsage, embeddingUsage, failureResult, livePlanRow, successResult, type LineResult, type RowPlan } from "./lines";

/** A line ready to run: its row, owner, plan, and request as it goes upstream (after compression and caps). */
export interface PreparedLine {
  item: { id: string; batchId: string; callId: string };
  owner: { orgId: string; teamId: string; apiKeyId: string };
  key: AuthContext;
  line: LineRequest;
  plan: Plan;
  /** It runs on the normal path because its provider batch could not run it (recorded in its route). */
  fellBack?: boolean;
}

/** The fields of a line the call log describes (a line that failed validation is known by its url only). */
function lineMeta(p: { item: { callId: string; batchId: string; url?: string }; line: LineRequest | null }) {
  return {
    callId: p.item.callId,
    batchId: p.item.batchId,
    kind: p.line?.kind ?? (p.item.url === "/v1/embeddings" ? ("embeddings" as const) : ("chat" as const)),
    requestedModel: p.line?.request.model ?? null,
    endUser: p.line?.request.user ?? null,
  };
}

/**
 * Records a line's result: the item (only if it is still in `from`: a cancelled line keeps its cancellation),
 * its call-log row (always: whatever ran upstream is spend), and settles or releases its admission ticket.
 */
export async function finishLine(
  ctx: WorkerContext,
  p: { item: { id: string; batchId: string; callId: string; url?: string }; owner: PreparedLine["owner"]; line: LineRequest | null },
  result: LineResult,
  from: string,
  plan: RowPlan | null,
  attempts: AttemptRecord[] = [],
): Promise<void> {
  await ctx.db.batchItem.updateMany({
    where: { id: p.item.id, status: from },
    data: { status: result.ok ? "succeeded" : "failed", response: result.response as object, finishedAt: new Date() },
  });
  ctx.touched.add(p.item.batchId);
  ctx.gw.rt.calls.write(callRecord(lineMeta(p), p.owner, plan, result.record, attempts));
  const ticket = takeTicket(ctx, p.item.id);
  if (!ticket) return;
  if (result.ok) await ticket.settle(result.record.costUsd ?? "0", result.usage).catch((err) => ctx.log.warn({ err }, "batch: settling an admission ticket failed"));
  else await releaseTicket(ctx, ticket);
}

/** The admission ticket a line holds, no longer held by it. */
function takeTicket(ctx: WorkerContext, itemId: string) {
  const ticket = ctx.tickets.get(itemId);
  ctx.tickets.delete(itemId);
  return ticket;
}

async function releaseTicket(ctx: WorkerContext, ticket: NonNullable<ReturnType<typeof takeTicket>>): Promise<void> {
  await ticket.release().catch((err) => ctx.log.warn({ err }, "batch: releasing an admission ticket failed"));
}

/** Answers admission for a line: true when admitted (or already holding a ticket). */
export async function admitLine(ctx: WorkerContext, p: PreparedLine): Promise<boolean> {
  if (ctx.tickets.has(p.item.id)) return true;
  const canonical: ChatRequest =
    p.line.kind === "chat"
      ? p.line.request
      : // Admission prices a chat-shaped request: the embedding input as one prompt and no output (as the live endpoint).
        { model: p.line.request.model, messages: [{ role: "user", content: embeddingText(p.line.request.input) }], max_completion_tokens: 1 };
  try {
    const ticket = await ctx.gw.admission.admit({
      key: p.key,
      endpoint: p.line.kind === "chat" ? "chat.completions" : "embeddings",
      canonical,
      plan: p.plan,
      headers: new Headers({ "x-switchyard-batch": p.item.batchId }),
      callId: p.item.callId,
    });
    ctx.tickets.set(p.item.id, ticket);
    return true;
  } catch (error) {
    const appError = toAppError(error);
    const retryAfterMs = Number(appError.options.headers?.["retry-after"] ?? Number.NaN) * 1000;
    // A rate limit asks to come back in a moment, and an unavailable counter store is momentary: the line waits.
    // Anything else (a budget that is spent, a model the key may not use) is the line's answer.
    const wait = appError.status === 503 ? 5_000 : appError.status === 429 && retryAfterMs <= ctx.options().maxAdmissionWaitMs ? Math.max(retryAfterMs, 1_000) : null;
    if (wait !== null) {
      await ctx.db.batchItem.updateMany({ where: { id: p.item.id, status: "pending" }, data: { notBefore: new Date(Date.now() + wait) } });
      return false;
    }
    const row = livePlanRow(p.plan);
    await finishLine(ctx, p, failureResult(p.item.callId, appError, row, null, false), "pending", row);
    return false;
  }
}

function embeddingText(input: string | string[] | number[] | number[][]): string {
  if (typeof input === "string") return input;
  return input.every((i) => typeof i === "string") ? (input as string[]).join("\n") : "";
}

/** Runs one line on the normal adapter path (retries with backoff, then the plan's fallback targets). */
async function runDirect(ctx: WorkerContext, p: PreparedLine): Promise<void> {
  const attempts: AttemptRecord[] = [];
  const row = livePlanRow(p.plan);
  const started = performance.now();
  const upstream = { transport: ctx.gw.transport, plan: p.plan, signal: ctx.signal, attempts };
  const malformed = (t: Target) => new UpstreamError("server_error", `provider '${t.provider.name}' returned a malformed response`, { status: 502 });
  const readJson = async (res: { json(): Promise<unknown> }, t: Target) => {
    try {
      return await res.json();
    } catch (error) {
      if (error instanceof TransportError) throw error;
      throw malformed(t);
    }
  };
  let result: LineResult;
  try {
    if (p.line.kind === "chat") {
      const request = p.line.request;
      // As the live pipeline: the policy's per-target parameters and provider prompt caching come with `a`.
      const { result: response, target } = await withFallback(upstream, async (t, adapter, up, a) => {
        const spec = adapter.buildRequest(a.prepare(request), up, { dropParams: a.dropParams });
        return adapter.parseResponse(await readJson(await send(ctx.gw.transport, adapter, spec, ctx.signal, t.provider.allowPrivate), t), up);
      });
      result = successResult({ callId: p.item.callId, body: response, ...chatUsage(request, response), target, plan: row, viaBatchApi: false, fellBack: p.fellBack });
    } else {
      const request = p.line.request;
      const { result: response, target } = await withFallback(upstream, async (t, adapter, up) => {
        if (!adapter.embeddings) throw new UpstreamError("bad_request", `provider '${t.provider.name}' does not serve embeddings`, { status: 400 });
        const spec = adapter.embeddings.buildRequest(request, up);
        return adapter.embeddings.parseResponse(await readJson(await send(ctx.gw.transport, adapter, spec, ctx.signal, t.provider.allowPrivate), t), up, request);
      });
      result = successResult({ callId: p.item.callId, body: response, ...embeddingUsage(request, response), target, plan: row, viaBatchApi: false, fellBack: p.fellBack });
    }
  } catch (error) {
    if (ctx.signal.aborted) return; // stopping: the line stays `running` and runs again after the restart
    const wait = upstreamRateLimitWait(error);
    if (wait !== null) {
      // Work that can wait waits out a provider's rate limit (it was not charged): the line runs again after the
      // Retry-After, while its batch has not expired (the expiry sweep answers it then).
      await ctx.db.batchItem.updateMany({ where: { id: p.item.id, status: "running" }, data: { status: "pending", notBefore: new Date(Date.now() + wait) } });
      const ticket = takeTicket(ctx, p.item.id);
      if (ticket) await releaseTicket(ctx, ticket);
      ctx.log.debug({ batchId: p.item.batchId, waitMs: wait }, "batch: a line was rate limited upstream; it runs again after the Retry-After");
      ctx.kick();
      return;
    }
    result = failureResult(p.item.callId, error, row, null, false, p.fellBack);
  }
  result.record.latencyMs = Math.round(performance.now() - started);
  await finishLine(ctx, p, result, "running", row, attempts);
  ctx.kick();
}

/** For a line every target of which rate limited (429 upstream_rate_limited): how long to wait (≥ 1 s), else null. */
export function upstreamRateLimitWait(error: unknown): number | null {
  const appError = toAppError(error);
  if (appError.status !== 429 || appError.code !== "upstream_rate_limited") return null;
  const seconds = Number(appError.options.headers?.["retry-after"] ?? Number.NaN);
  return Number.isFinite(seconds) && seconds > 0 ? Math.max(1_000, seconds * 1000) : 1_000;
}

/** The normal-path queue: at most `directConcurrency` lines at once, starts spaced by 1/`directRatePerSecond`. */
export class DirectPool {
  readonly #queue: PreparedLine[] = [];
  readonly #running = new Set<Promise<void>>();
  #lastStart = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly ctx: WorkerContext) {}

  push(line: PreparedLine): void {
    this.#queue.push(line);
    this.#pump();
  }

  /** Lines queued or running. */
  size(): number {
    return this.#queue.length + this.#running.size;
  }

  #pump(): void {
    const { directConcurrency, directRatePerSecond } = this.ctx.options();
    while (!this.ctx.signal.aborted && this.#queue.length > 0 && this.#running.size < directConcurrency) {
      const wait = this.#lastStart + 1000 / directRatePerSecond - Date.now();
      if (wait > 0) {
        this.#timer ??= setTimeout(() => {
          this.#timer = null;
          this.#pump();
        }, wait);
        return;
      }
      this.#lastStart = Date.now();
      const line = this.#queue.shift()!;
      const run: Promise<void> = runDirect(this.ctx, line)
        .catch((err) => this.ctx.log.error({ err, item: line.item.id }, "batch: a direct line failed unexpectedly"))
        .finally(() => {
          this.#running.delete(run);
          this.#pump();
        });
      this.#running.add(run);
    }
  }

  /** Stops starting lines and waits for the running ones to end (they were aborted by the worker's signal). */
  async drain(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#queue.length = 0;
    await Promise.all([...this.#running]);
  }
}
