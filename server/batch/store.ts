/**
 * Database access for the batch API endpoints. Every read and write is scoped to the calling key's organization
 * and team: another team's ids answer 404, exactly like ids that do not exist.
 */
import type { Db } from "../db/client";
import { AppError } from "../gateway/errors";
import type { BatchEndpoint } from "./objects";
import { newBatchId, newFileId, newItemId } from "./objects";

/** Who owns an object: the calling API key's organization and team. */
export interface Scope {
  orgId: string;
  teamId: string;
  apiKeyId: string;
}

/** Batch input files are kept 30 days, as OpenAI keeps them by default. */
export const FILE_TTL_MS = 30 * 24 * 3600 * 1000;
export const COMPLETION_WINDOW_MS = 24 * 3600 * 1000;

const FILE_SELECT = { id: true, purpose: true, filename: true, bytes: true, createdAt: true, expiresAt: true } as const;

export async function createFile(db: Db, scope: Scope, file: { purpose: string; filename: string; content: Uint8Array }, now = new Date()) {
  return db.batchFile.create({
    data: {
      id: newFileId(),
      ...scope,
      purpose: file.purpose,
      filename: file.filename,
      bytes: file.content.byteLength,
      content: Buffer.from(file.content),
      createdAt: now,
      expiresAt: new Date(now.getTime() + FILE_TTL_MS),
    },
    select: FILE_SELECT,
  });
}

export async function findFile(db: Db, scope: Scope, id: string) {
  const file = await db.batchFile.findFirst({ where: { id, orgId: scope.orgId, teamId: scope.teamId }, select: FILE_SELECT });
  if (!file) throw new AppError(404, "file_not_found", `No such File object: ${id}`, { param: "file_id" });
  return file;
}

export async function fileContent(db: Db, scope: Scope, id: string): Promise<{ filename: string; content: Uint8Array }> {
  const file = await db.batchFile.findFirst({ where: { id, orgId: scope.orgId, teamId: scope.teamId }, select: { filename: true, content: true } });
  if (!file) throw new AppError(404, "file_not_found", `No such File object: ${id}`, { param: "file_id" });
  return file;
}

/** Newest first; `after` is the id of the last object of the previous page. */
export interface PageQuery {
  after?: string;
  limit: number;
}

async function cursorWhere(find: () => Promise<{ id: string; createdAt: Date } | null>, after: string | undefined) {
  if (!after) return {};
  const cursor = await find();
  if (!cursor) throw new AppError(400, "invalid_value", `Invalid value for 'after': no object with id '${after}'`, { param: "after" });
  return { OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] };
}

export async function listFiles(db: Db, scope: Scope, query: PageQuery & { purpose?: string }) {
  const owned = { orgId: scope.orgId, teamId: scope.teamId };
  const cursor = await cursorWhere(() => db.batchFile.findFirst({ where: { id: query.after, ...owned }, select: { id: true, createdAt: true } }), query.after);
  const rows = await db.batchFile.findMany({
    where: { ...owned, ...(query.purpose ? { purpose: query.purpose } : {}), ...cursor },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: query.limit + 1,
    select: FILE_SELECT,
  });
  return { rows: rows.slice(0, query.limit), hasMore: rows.length > query.limit };
}

export const JOB_SELECT = {
  id: true,
  endpoint: true,
  inputFileId: true,
  completionWindow: true,
  status: true,
  outputFileId: true,
  errorFileId: true,
  metadata: true,
  errors: true,
  requestTotal: true,
  requestCompleted: true,
  requestFailed: true,
  createdAt: true,
  expiresAt: true,
  inProgressAt: true,
  finalizingAt: true,
  completedAt: true,
  failedAt: true,
  expiredAt: true,
  cancellingAt: true,
  cancelledAt: true,
} as const;

export async function createJob(
  db: Db,
  scope: Scope,
  input: { inputFileId: string; endpoint: BatchEndpoint; completionWindow: string; metadata: Record<string, string> | null },
  now = new Date(),
) {
  const file = await db.batchFile.findFirst({ where: { id: input.inputFileId, orgId: scope.orgId, teamId: scope.teamId }, select: { purpose: true } });
  if (!file) throw new AppError(404, "file_not_found", `No such File object: ${input.inputFileId}`, { param: "input_file_id" });
  if (file.purpose !== "batch") {
    throw new AppError(400, "invalid_value", `The file '${input.inputFileId}' must have purpose 'batch' to be used as batch input`, { param: "input_file_id" });
  }
  return db.batchJob.create({
    data: {
      id: newBatchId(),
      ...scope,
      endpoint: input.endpoint,
      inputFileId: input.inputFileId,
      completionWindow: input.completionWindow,
      status: "validating",
      metadata: input.metadata ?? undefined,
      createdAt: now,
      expiresAt: new Date(now.getTime() + COMPLETION_WINDOW_MS),
    },
    select: JOB_SELECT,
  });
}

export async function findJob(db: Db, scope: Scope, id: string) {
  const job = await db.batchJob.findFirst({ where: { id, orgId: scope.orgId, teamId: scope.teamId }, select: JOB_SELECT });
  if (!job) throw new AppError(404, "batch_not_found", `No batch found with id '${id}'`, { param: "batch_id" });
  return job;
}

export async function listJobs(db: Db, scope: Scope, query: PageQuery) {
  const owned = { orgId: scope.orgId, teamId: scope.teamId };
  const cursor = await cursorWhere(() => db.batchJob.findFirst({ where: { id: query.after, ...owned }, select: { id: true, createdAt: true } }), query.after);
  const rows = await db.batchJob.findMany({
    where: { ...owned, ...cursor },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: query.limit + 1,
    select: JOB_SELECT,
  });
  return { rows: rows.slice(0, query.limit), hasMore: rows.length > query.limit };
}

/**
 * Asks for a batch to be cancelled: `cancelling` now, `cancelled` once the worker has stopped its lines.
 * Cancelling an ended batch is a 409; cancelling twice answers the batch as it is.
 */
export async function requestCancel(db: Db, scope: Scope, id: string, now = new Date()) {
  const job = await findJob(db, scope, id);
  if (job.status === "validating" || job.status === "in_progress") {
    const changed = await db.batchJob.updateMany({ where: { id, status: job.status }, data: { status: "cancelling", cancellingAt: now } });
    if (changed.count === 0) return requestCancel(db, scope, id, now);
    return findJob(db, scope, id);
  }
  if (job.status === "cancelling" || job.status === "cancelled") return job;
  throw new AppError(409, "batch_not_cancellable", `Cannot cancel a batch with status '${job.status}'`);
}

/**
 * A deferred chat request as a one-line batch: its input file, the job (already validated, in progress) and the
 * line, waiting `notBefore` so that requests arriving together reach the provider in one batch.
 */
export async function createDeferredJob(
  db: Db,
  scope: Scope,
  input: { requestId: string; body: unknown; headers: Record<string, string>; deadline: Date; notBefore: Date; webhookUrl: string | null; callId: string },
  now = new Date(),
) {
  const line = JSON.stringify({ custom_id: input.requestId, method: "POST", url: "/v1/chat/completions", body: input.body });
  const content = Buffer.from(line + "\n");
  const fileId = newFileId();
  const jobId = newBatchId();
  const [, job] = await db.$transaction([
    db.batchFile.create({
      data: { id: fileId, ...scope, purpose: "batch", filename: `deferred-${input.requestId}.jsonl`, bytes: content.byteLength, content, createdAt: now, expiresAt: new Date(now.getTime() + FILE_TTL_MS) },
    }),
    db.batchJob.create({
      data: {
        id: jobId,
        ...scope,
        endpoint: "/v1/chat/completions",
        inputFileId: fileId,
        completionWindow: "24h",
        status: "in_progress",
        requestTotal: 1,
        deferred: true,
        webhookUrl: input.webhookUrl,
        createdAt: now,
        inProgressAt: now,
        expiresAt: input.deadline,
        items: {
          create: {
            id: newItemId(),
            line: 1,
            customId: input.requestId,
            url: "/v1/chat/completions",
            body: input.body as object,
            headers: input.headers,
            notBefore: input.notBefore,
            callId: input.callId,
          },
        },
      },
      select: JOB_SELECT,
    }),
  ]);
  return job;
}
