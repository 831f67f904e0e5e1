/**
 * Shared error classification. Each adapter extracts the message and codes from its protocol's error body;
 * this module turns them, with the status and headers, into an UpstreamError whose `kind` drives routing:
 * retry (rate_limited, server_error, overloaded, timeout, connection), fall back (context_length, auth,
 * not_found, content_filter where configured) or give up (bad_request).
 */
import { UpstreamError, type UpstreamErrorKind } from "./types";

export interface ErrorInfo {
  message: string;
  /** Provider codes and types found in the body, most specific first; the first becomes `providerCode`. */
  codes: string[];
  /** A wait the body asked for (Gemini RetryInfo), which wins over headers. */
  retryAfterMs?: number;
}

/** Codes meaning the credential cannot serve requests. `insufficient_quota` (a 429) is billing, not a burst:
 * retrying the same key is futile, so it is classified with auth failures to trigger a fallback. */
const AUTH_CODES = new Set([
  "invalid_api_key",
  "insufficient_quota",
  "authentication_error",
  "permission_error",
  "API_KEY_INVALID",
  "UNAUTHENTICATED",
  "PERMISSION_DENIED",
]);

const CONTEXT_CODES = new Set(["context_length_exceeded", "model_context_window_exceeded"]);
const CONTEXT_PATTERNS = [
  /maximum context length/i,
  /context (length|window)/i,
  /prompt is too long/i,
  /input length and `?max_tokens`? exceed/i,
  /input token count.*exceeds the maximum/i,
  /too many (input )?tokens/i,
];

const CONTENT_FILTER_CODES = new Set(["content_filter", "content_policy_violation", "ResponsibleAIPolicyViolation"]);
const CONTENT_FILTER_PATTERNS = [
  /content (management )?polic(y|ies)/i,
  /content filter/i,
  /safety (system|filter)/i,
  /content exists risk/i, // DeepSeek's moderation refusal
];

function kindFor(status: number, info: ErrorInfo): UpstreamErrorKind {
  const codes = info.codes;
  // 402 is an exhausted balance (DeepSeek, OpenRouter): the credential cannot serve until someone pays.
  if (codes.some((c) => AUTH_CODES.has(c)) || status === 401 || status === 402 || status === 403) return "auth";
  if (status === 429) return "rate_limited";
  if (status === 529 || status === 503 || codes.includes("overloaded_error")) return "overloaded";
  if (status === 408 || status === 504) return "timeout";
  if (status >= 500) return "server_error";
  if (codes.some((c) => CONTEXT_CODES.has(c)) || CONTEXT_PATTERNS.some((p) => p.test(info.message))) {
    return "context_length";
  }
  if (codes.some((c) => CONTENT_FILTER_CODES.has(c)) || CONTENT_FILTER_PATTERNS.some((p) => p.test(info.message))) {
    return "content_filter";
  }
  if (status === 404) return "not_found";
  return "bad_request";
}

const MAX_MESSAGE = 500;

/** Builds the classified error for a non-2xx upstream response. */
export function classifyHttpError(status: number, info: ErrorInfo, headers: Headers, now = Date.now()): UpstreamError {
  const retryAfterMs = info.retryAfterMs ?? retryAfterFromHeaders(headers, now);
  const message = (info.message.trim() || `upstream returned HTTP ${status}`).slice(0, MAX_MESSAGE);
  const providerCode = info.codes[0];
  return new UpstreamError(kindFor(status, info), message, {
    status,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(providerCode !== undefined ? { providerCode } : {}),
  });
}

/**
 * `retry-after-ms` (OpenAI, milliseconds) wins over `retry-after` (seconds, or an HTTP date — RFC 9110 §10.2.3).
 */
export function retryAfterFromHeaders(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "") {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  }
  const raw = headers.get("retry-after");
  if (raw === null || raw.trim() === "") return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Parses a protobuf Duration string as JSON encodes it (`"37s"`, `"0.5s"`). */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

/** JSON.parse that answers undefined instead of throwing (error bodies are often HTML or empty). */
export function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Parses one SSE `data` payload; malformed JSON is an upstream fault, never a crash. */
export function parseStreamJson(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    throw new UpstreamError("server_error", "upstream sent a malformed stream chunk (invalid JSON)", { status: 502 });
  }
}

/** The error for a 2xx body that does not have the protocol's shape. */
export function malformedResponse(what: string): UpstreamError {
  return new UpstreamError("server_error", `upstream returned a malformed ${what}`, { status: 502 });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
