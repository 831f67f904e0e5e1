/**
 * Batch input files: JSONL lines of `{custom_id, method: "POST", url, body}`. File-level problems (a line that is
 * not JSON, a missing or duplicate custom_id, a url other than the batch's endpoint) fail the whole batch, as the
 * OpenAI Batch API's validation does. Each body is then validated with the live endpoint's own schema, so a line
 * that would be a 400 as a live request is a 400 line in the error file.
 */
import type { EmbeddingRequest } from "../providers/adapter";
import type { ChatRequest } from "../providers/types";
import { AppError } from "../gateway/errors";
import { chatCompletionRequest } from "../gateway/schemas/chat";
import { assertNoForbiddenKeys, parseOrThrow } from "../gateway/schemas/common";
import { embeddingsRequest } from "../gateway/schemas/embeddings";
import type { BatchEndpoint } from "./objects";

/** OpenAI's limits: 50,000 requests per batch; custom_id is the caller's key, kept short enough to index. */
export const INPUT_LIMITS = { lines: 50_000, customId: 512, reportedErrors: 100 } as const;

export interface InputLine {
  /** 1-based line number in the file. */
  line: number;
  customId: string;
  url: BatchEndpoint;
  body: unknown;
}

export interface InputError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

export type ParsedInput = { ok: true; lines: InputLine[] } | { ok: false; errors: InputError[] };

export function parseInputFile(text: string, endpoint: BatchEndpoint): ParsedInput {
  const lines: InputLine[] = [];
  const errors: InputError[] = [];
  const seen = new Set<string>();
  const fail = (line: number | null, code: string, message: string, param: string | null = null) => {
    if (errors.length < INPUT_LIMITS.reportedErrors) errors.push({ code, message, param, line });
  };
  const rows = text.split(/\r?\n/);
  for (let i = 0; i < rows.length; i += 1) {
    const row = rows[i]!.trim();
    if (!row) continue;
    const n = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(row);
    } catch {
      fail(n, "invalid_json_line", "This line is not parseable as valid JSON.");
      continue;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      fail(n, "invalid_json_line", "Each line must be a JSON object.");
      continue;
    }
    const { custom_id: customId, method, url, body } = value as Record<string, unknown>;
    if (typeof customId !== "string" || customId.length === 0) {
      fail(n, "missing_required_parameter", "Missing required parameter: 'custom_id'.", "custom_id");
      continue;
    }
    if (customId.length > INPUT_LIMITS.customId) {
      fail(n, "invalid_value", `'custom_id' must be at most ${INPUT_LIMITS.customId} characters.`, "custom_id");
      continue;
    }
    if (seen.has(customId)) {
      fail(n, "duplicate_custom_id", "The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.", "custom_id");
      continue;
    }
    seen.add(customId);
    if (method !== "POST") {
      fail(n, "invalid_value", "Invalid value for 'method': only 'POST' is supported.", "method");
      continue;
    }
    if (url !== endpoint) {
      fail(n, "mismatched_endpoint", `The url '${String(url)}' does not match the batch's endpoint '${endpoint}'.`, "url");
      continue;
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      fail(n, "invalid_value", "Invalid value for 'body': expected a JSON object.", "body");
      continue;
    }
    lines.push({ line: n, customId, url: endpoint, body });
  }
  if (lines.length + errors.length === 0) fail(null, "empty_file", "The input file has no requests.");
  if (lines.length > INPUT_LIMITS.lines) fail(null, "too_many_requests", `A batch may hold at most ${INPUT_LIMITS.lines} requests.`);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, lines };
}

/** A validated line body: what the live endpoint would have passed on. */
export type LineRequest = { kind: "chat"; request: ChatRequest } | { kind: "embeddings"; request: EmbeddingRequest };

/**
 * Validates one body with the live endpoint's schema. Streaming makes no sense in a batch and is refused.
 * @throws AppError 400 naming the parameter, exactly as the live endpoint would answer.
 */
export function validateLine(url: BatchEndpoint, body: unknown): LineRequest {
  assertNoForbiddenKeys(body);
  if (url === "/v1/embeddings") {
    const parsed = parseOrThrow(embeddingsRequest, body);
    return { kind: "embeddings", request: parsed };
  }
  const parsed = parseOrThrow(chatCompletionRequest, body);
  if (parsed.stream) throw new AppError(400, "invalid_value", "Invalid value for 'stream': batch requests cannot stream.", { param: "stream" });
  const { switchyard: _overrides, ...canonical } = parsed;
  return { kind: "chat", request: canonical as ChatRequest };
}
