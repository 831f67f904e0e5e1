/**
 * Error bodies exactly as each provider sends them: OpenAI `{error:{message,type,param,code}}`, Anthropic
 * `{type:"error",error:{type,message},request_id}`, Gemini `{error:{code,message,status,details?}}`.
 */
import type { FaultSpec, Protocol } from "./faults";

/** A complete non-streaming answer: status, JSON body and extra headers. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function openaiError(
  status: number,
  message: string,
  options: { type?: string; code?: string | null; param?: string | null; headers?: Record<string, string> } = {},
): Reply {
  return {
    status,
    body: { error: { message, type: options.type ?? "invalid_request_error", param: options.param ?? null, code: options.code ?? null } },
    headers: options.headers,
  };
}

export function anthropicError(status: number, type: string, message: string, requestId: string, headers?: Record<string, string>): Reply {
  return { status, body: { type: "error", error: { type, message }, request_id: requestId }, headers };
}

export function geminiError(status: number, statusName: string, message: string, details?: unknown[]): Reply {
  return { status, body: { error: { code: status, message, status: statusName, ...(details ? { details } : {}) } } };
}

/** Context window per model family (tokens); only the families the simulator is used with need to be right. */
export function contextWindow(protocol: Protocol, model: string): number {
  if (protocol === "anthropic") return 200_000;
  if (protocol === "gemini") return 1_048_576;
  if (/^gpt-4\.1/.test(model)) return 1_047_576;
  if (/^gpt-5/.test(model)) return 400_000;
  if (/^o\d/.test(model)) return 200_000;
  if (/^gpt-3\.5/.test(model)) return 16_385;
  return 128_000;
}

/** The provider's "prompt too long" error for `promptTokens` tokens. */
export function contextLengthReply(protocol: Protocol, model: string, promptTokens: number, requestId: string): Reply {
  const window = contextWindow(protocol, model);
  const tokens = Math.max(promptTokens, window + 1);
  if (protocol === "openai") {
    return openaiError(
      400,
      `This model's maximum context length is ${window} tokens. However, your messages resulted in ${tokens} tokens. Please reduce the length of the messages.`,
      { param: "messages", code: "context_length_exceeded" },
    );
  }
  if (protocol === "anthropic") {
    return anthropicError(400, "invalid_request_error", `prompt is too long: ${tokens} tokens > ${window} maximum`, requestId);
  }
  return geminiError(400, "INVALID_ARGUMENT", `The input token count (${tokens}) exceeds the maximum number of tokens allowed (${window}).`);
}

function retryHeaders(protocol: Protocol, spec: FaultSpec): Record<string, string> {
  const headers: Record<string, string> = {};
  if (protocol === "gemini") return headers; // Gemini states the delay in the body (RetryInfo), not in headers.
  if (spec.retryAfterSeconds !== undefined) headers["retry-after"] = String(spec.retryAfterSeconds);
  if (protocol === "openai" && spec.retryAfterMs !== undefined) headers["retry-after-ms"] = String(spec.retryAfterMs);
  return headers;
}

/**
 * The error reply of a fault that is an HTTP error (rate_limit, server_error, unavailable, context_length);
 * undefined for faults that shape the transport or the content instead.
 */
export function faultErrorReply(protocol: Protocol, spec: FaultSpec, model: string, requestId: string): Reply | undefined {
  switch (spec.fault) {
    case "rate_limit": {
      const headers = retryHeaders(protocol, spec);
      const wait = spec.retryAfterMs !== undefined ? spec.retryAfterMs / 1000 : (spec.retryAfterSeconds ?? 1);
      if (protocol === "openai") {
        return openaiError(
          429,
          `Rate limit reached for ${model} in organization org-simulator on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in ${wait}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
          { type: "requests", code: "rate_limit_exceeded", headers: { ...headers, "x-ratelimit-remaining-requests": "0" } },
        );
      }
      if (protocol === "anthropic") {
        return anthropicError(
          429,
          "rate_limit_error",
          "This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.",
          requestId,
          { ...headers, "anthropic-ratelimit-requests-remaining": "0" },
        );
      }
      const details =
        spec.retryAfterSeconds !== undefined || spec.retryAfterMs !== undefined
          ? [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${wait}s` }]
          : undefined;
      return geminiError(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).", details);
    }
    case "server_error":
      if (protocol === "openai") return openaiError(500, "The server had an error while processing your request. Sorry about that!", { type: "server_error" });
      if (protocol === "anthropic") return anthropicError(500, "api_error", "Internal server error", requestId);
      return geminiError(500, "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting");
    case "unavailable": {
      const status = spec.status ?? 503;
      if (protocol === "openai") return openaiError(status, "The server is overloaded or not ready yet.", { type: "server_error" });
      if (protocol === "anthropic") return anthropicError(status, "overloaded_error", "Overloaded", requestId);
      return geminiError(status, "UNAVAILABLE", "The model is overloaded. Please try again later.");
    }
    case "context_length":
      return contextLengthReply(protocol, model, 0, requestId);
    default:
      return undefined;
  }
}
