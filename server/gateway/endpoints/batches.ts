/**
 * The OpenAI Batch API: POST /batches, GET /batches (newest first, `after`/`limit`), GET /batches/{id},
 * POST /batches/{id}/cancel. Batches belong to the calling key's organization and team; the batch worker
 * (server/batch) runs them.
 */
import { z } from "zod";
import { BATCH_ENDPOINTS, batchObject, listPage } from "../../batch/objects";
import { createJob, findJob, listJobs, requestCancel, type Scope } from "../../batch/store";
import { readJsonBody } from "../body";
import type { Gateway } from "../context";
import { AppError } from "../errors";
import { parseOrThrow, safeString } from "../schemas/common";

const createBatch = z.strictObject({
  input_file_id: z.string().min(1).max(256),
  endpoint: z.enum(BATCH_ENDPOINTS),
  completion_window: z.literal("24h"),
  metadata: z
    .record(z.string().max(64), safeString(512))
    .refine((m) => Object.keys(m).length <= 16, "at most 16 keys")
    .nullable()
    .optional(),
  output_expires_after: z.strictObject({ anchor: z.literal("created_at"), seconds: z.number().int().min(3600).max(2_592_000) }).optional(),
});

/** `after` and `limit` (1–100, default 20) of a list request; `max` caps limit where OpenAI allows more. */
export function pageQuery(url: URL, max = 100): { after?: string; limit: number } {
  const raw = url.searchParams.get("limit");
  const limit = raw === null ? 20 : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new AppError(400, "invalid_value", `Invalid value for 'limit': expected an integer from 1 to ${max}`, { param: "limit" });
  }
  const after = url.searchParams.get("after") ?? undefined;
  return after ? { after, limit } : { limit };
}

export async function batches(gw: Gateway, request: Request, path: string): Promise<Response> {
  const key = await gw.auth.authenticate(request.headers);
  const scope: Scope = { orgId: key.orgId, teamId: key.teamId, apiKeyId: key.apiKeyId };
  const db = gw.rt.db.prisma;
  const [, , id, action, ...rest] = path.split("/");
  if (id === undefined) {
    if (request.method === "POST") {
      const body = parseOrThrow(createBatch, await readJsonBody(request, gw.rt.env.SWITCHYARD_MAX_BODY_BYTES));
      const job = await createJob(db, scope, {
        inputFileId: body.input_file_id,
        endpoint: body.endpoint,
        completionWindow: body.completion_window,
        metadata: body.metadata ?? null,
      });
      gw.rt.batch.kick();
      return Response.json(batchObject(job));
    }
    if (request.method !== "GET") throw methodNotAllowed(request.method, path);
    const page = await listJobs(db, scope, pageQuery(new URL(request.url)));
    return Response.json(listPage(page.rows.map(batchObject), page.hasMore));
  }
  const batchId = decodeURIComponent(id);
  if (action === undefined) {
    if (request.method !== "GET") throw methodNotAllowed(request.method, path);
    return Response.json(batchObject(await findJob(db, scope, batchId)));
  }
  if (action === "cancel" && rest.length === 0) {
    if (request.method !== "POST") throw methodNotAllowed(request.method, path);
    const job = await requestCancel(db, scope, batchId);
    gw.rt.batch.kick();
    return Response.json(batchObject(job));
  }
  throw new AppError(404, "unknown_url", `Unknown request URL: ${request.method} /api/v1${path}`);
}

function methodNotAllowed(method: string, path: string): AppError {
  return new AppError(405, "method_not_allowed", `Method ${method} is not allowed on /api/v1${path}`);
}
