/**
 * Typed errors of the data plane, rendered once per surface. 5xx details never reach a client.
 */
import { scrubSecrets } from "../obs/log";

export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "api_error"
  | "overloaded_error";

export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly options: { type?: ErrorType; param?: string | null; headers?: Record<string, string> } = {},
  ) {
    super(message);
  }

  get type(): ErrorType {
    return this.options.type ?? defaultType(this.status);
  }
}

function defaultType(status: number): ErrorType {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status === 503) return "overloaded_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

/** Any thrown value → AppError; unknown errors become an opaque 500. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  return new AppError(500, "internal_error", "Internal server error");
}

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** OpenAI envelope: {"error":{"message","type","param","code"}}. */
export function renderOpenAIError(error: AppError): Response {
  return jsonResponse(
    error.status,
    {
      error: {
        message: scrubSecrets(error.message),
        type: error.type,
        param: error.options.param == null ? null : scrubSecrets(error.options.param), // a key sent as a parameter name
        code: error.code,
      },
    },
    error.options.headers,
  );
}

/** Anthropic envelope: {"type":"error","error":{"type","message"}} (plus our stable code). */
export function renderAnthropicError(error: AppError): Response {
  return jsonResponse(
    error.status,
    { type: "error", error: { type: error.type, message: scrubSecrets(error.message), code: error.code } },
    error.options.headers,
  );
}
