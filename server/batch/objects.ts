/**
 * The OpenAI-compatible shapes of the batch tier: file objects, batch objects, list pages and output-file lines
 * (checked against openai-node 6.x `resources/batches` and `resources/files`). Pure: rows in, JSON out.
 */
import { randomBytes } from "node:crypto";
import { scrubSecrets } from "../obs/log";
import type { AppError } from "../gateway/errors";

/** The batch endpoints a line may target. */
export const BATCH_ENDPOINTS = ["/v1/chat/completions", "/v1/embeddings"] as const;
export type BatchEndpoint = (typeof BATCH_ENDPOINTS)[number];

/** Job statuses, as OpenAI names them. */
export type BatchStatus = "validating" | "failed" | "in_progress" | "finalizing" | "completed" | "expired" | "cancelling" | "cancelled";
/** Statuses after which nothing changes any more. */
export const TERMINAL_STATUSES: readonly BatchStatus[] = ["failed", "completed", "expired", "cancelled"];

/** Item statuses: waiting, inside a provider batch, on the normal adapter path, done. */
export type ItemStatus = "pending" | "queued" | "running" | "succeeded" | "failed";
export const OPEN_ITEM_STATUSES: readonly ItemStatus[] = ["pending", "queued", "running"];

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomToken(length: number): string {
  const bytes = randomBytes(length);
  return Array.from(bytes, (b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join("");
}

export const newFileId = () => `file-${randomToken(24)}`;
export const newBatchId = () => `batch_${randomToken(24)}`;
/** Also the custom_id sent to provider batch APIs, so it stays within Anthropic's `^[a-zA-Z0-9_-]{1,64}$`. */
export const newItemId = () => `batch_req_${randomToken(24)}`;
export const newProviderBatchId = () => `pb_${randomToken(24)}`;

export interface FileRow {
  id: string;
  purpose: string;
  filename: string;
  bytes: number;
  createdAt: Date;
  expiresAt: Date | null;
}

export interface JobRow {
  id: string;
  endpoint: string;
  inputFileId: string;
  completionWindow: string;
  status: string;
  outputFileId: string | null;
  errorFileId: string | null;
  metadata: unknown;
  errors: unknown;
  requestTotal: number;
  requestCompleted: number;
  requestFailed: number;
  createdAt: Date;
  expiresAt: Date;
  inProgressAt: Date | null;
  finalizingAt: Date | null;
  completedAt: Date | null;
  failedAt: Date | null;
  expiredAt: Date | null;
  cancellingAt: Date | null;
  cancelledAt: Date | null;
}

const seconds = (date: Date | null): number | null => (date ? Math.floor(date.getTime() / 1000) : null);

export function fileObject(file: FileRow) {
  return {
    id: file.id,
    object: "file" as const,
    bytes: file.bytes,
    created_at: seconds(file.createdAt)!,
    filename: file.filename,
    purpose: file.purpose,
    status: "processed" as const,
    status_details: null,
    ...(file.expiresAt ? { expires_at: seconds(file.expiresAt)! } : {}),
  };
}

export function batchObject(job: JobRow) {
  const errors = Array.isArray(job.errors) ? { object: "list" as const, data: job.errors } : null;
  return {
    id: job.id,
    object: "batch" as const,
    endpoint: job.endpoint,
    errors,
    input_file_id: job.inputFileId,
    completion_window: job.completionWindow,
    status: job.status as BatchStatus,
    output_file_id: job.outputFileId,
    error_file_id: job.errorFileId,
    created_at: seconds(job.createdAt)!,
    in_progress_at: seconds(job.inProgressAt),
    expires_at: seconds(job.expiresAt),
    finalizing_at: seconds(job.finalizingAt),
    completed_at: seconds(job.completedAt),
    failed_at: seconds(job.failedAt),
    expired_at: seconds(job.expiredAt),
    cancelling_at: seconds(job.cancellingAt),
    cancelled_at: seconds(job.cancelledAt),
    request_counts: { total: job.requestTotal, completed: job.requestCompleted, failed: job.requestFailed },
    metadata: (job.metadata ?? null) as Record<string, string> | null,
  };
}

export type BatchObject = ReturnType<typeof batchObject>;

/** A cursor page as the OpenAI list endpoints return it. */
export function listPage<T extends { id: string }>(data: T[], hasMore: boolean) {
  return { object: "list" as const, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore };
}

/** The `response` of an output line: the HTTP answer the line would have had as a live request. */
export interface LineResponse {
  status_code: number;
  request_id: string;
  body: unknown;
}

/** The `error` of an output line that never got an HTTP answer (cancelled, expired). */
export interface LineError {
  code: string;
  message: string;
}

export interface OutputLine {
  id: string;
  custom_id: string;
  response: LineResponse | null;
  error: LineError | null;
}

/** The OpenAI error body for an AppError (5xx messages are already generic; secrets are scrubbed). */
export function errorBody(error: AppError) {
  return { error: { message: scrubSecrets(error.message), type: error.type, param: error.options.param ?? null, code: error.code } };
}

export function lineErrorResponse(error: AppError, requestId: string): LineResponse {
  return { status_code: error.status, request_id: requestId, body: errorBody(error) };
}

export const CANCELLED: LineError = { code: "batch_cancelled", message: "This request was cancelled before it was executed." };
export const EXPIRED: LineError = { code: "batch_expired", message: "This request could not be executed before the completion window expired." };

/** The request id reported for a line (derived from its call-log id, so the call log can be searched by it). */
export const lineRequestId = (callId: string) => `req_${callId.replace(/-/g, "")}`;
