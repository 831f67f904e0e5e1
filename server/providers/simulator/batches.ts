/**
 * The providers' asynchronous batch APIs: OpenAI Files + Batch (/openai/v1/files, /openai/v1/batches), Anthropic
 * Message Batches (/anthropic/v1/messages/batches) and Gemini Batch Mode (/gemini/v1beta/models/{m}:batchGenerateContent,
 * /gemini/v1beta/batches/{id}). A batch is accepted, reports progress on each
 * status poll, and ends once it has been polled `polls` times and is `durationMs` old. Its lines then run through
 * this simulator's own HTTP endpoints, so answers, token counts and scheduled faults are exactly those of a live
 * request (a `server_error` fault scheduled for `chat` fails one line: a partial failure). `outcome: "expire"`
 * runs only the first half of the lines and expires the rest (Gemini expires the whole batch); `"fail"` fails the
 * whole batch (OpenAI, Gemini).
 */
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { createAnthropicBatches } from "./batches-anthropic";
import { createGeminiBatches } from "./batches-gemini";
import { createOpenAIBatches } from "./batches-openai";
import type { Reply } from "./errors";
import { sendReply } from "./exchange";
import type { Protocol } from "./faults";

export interface BatchSimOptions {
  /** Status polls a batch answers as in progress before it ends (default 1). */
  polls?: number;
  /** Youngest age at which a batch may end, ms (default 0). */
  durationMs?: number;
  /** What happens when a batch is due (default "complete"). */
  outcome?: "complete" | "expire" | "fail";
  /** Lines run at once when a batch ends (default 8). */
  concurrency?: number;
}

/** One batch as the simulator holds it, for tests to inspect. */
export interface SimBatchInfo {
  protocol: Protocol;
  id: string;
  /** OpenAI `status`, or Anthropic `processing_status`. */
  status: string;
  lines: number;
  polls: number;
  cancelled: boolean;
}

export interface BatchSimulator {
  /** Changes how batches created from now on (and those still running) progress. */
  configure(options: BatchSimOptions): void;
  list(): SimBatchInfo[];
}

/** What a batch endpoint receives: the raw body (multipart uploads are not JSON) and where to answer. */
export interface BatchExchange {
  res: ServerResponse;
  raw: Buffer;
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
  requestId: string;
  /** Headers every response of the provider carries. */
  surfaceHeaders: Record<string, string>;
}

export type BatchRoute = (x: BatchExchange) => Promise<void>;

/** Runs one line against the simulator itself; resolves with the HTTP status, JSON body and request id. */
export type LineRunner = (
  protocol: Protocol,
  path: string,
  body: unknown,
) => Promise<{ status: number; body: unknown; requestId: string }>;

/** Shared by both protocols' batch stores. */
export interface BatchContext {
  now: () => number;
  options: () => Required<BatchSimOptions>;
  run: LineRunner;
  /** The simulator's base URL (for Anthropic's results_url). */
  url: () => string;
}

export interface ProtocolBatches {
  route(method: string, path: string): BatchRoute | null;
  list(): SimBatchInfo[];
  reset(): void;
}

const DEFAULTS: Required<BatchSimOptions> = { polls: 1, durationMs: 0, outcome: "complete", concurrency: 8 };

export interface BatchApis {
  /** The handler for a batch API request, or null when the path is not one. */
  route(protocol: Protocol, method: string, path: string): BatchRoute | null;
  controller: BatchSimulator;
  reset(): void;
}

export function createBatchApis(init: { now: () => number; apiKey?: string; options?: BatchSimOptions; url: () => string }): BatchApis {
  let options: Required<BatchSimOptions> = { ...DEFAULTS, ...init.options };
  const run: LineRunner = async (protocol, path, body) => {
    const headers: Record<string, string> = { "content-type": "application/json", "x-sim-batch-line": "1" };
    if (protocol === "openai" && init.apiKey !== undefined) headers.authorization = `Bearer ${init.apiKey}`;
    if (protocol === "anthropic") {
      headers["anthropic-version"] = "2023-06-01";
      if (init.apiKey !== undefined) headers["x-api-key"] = init.apiKey;
    }
    if (protocol === "gemini" && init.apiKey !== undefined) headers["x-goog-api-key"] = init.apiKey;
    const response = await fetch(`${init.url()}/${protocol}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // A fault cut or garbled the answer: the line fails the way a provider reports an internal error.
      return { status: 500, body: null, requestId: response.headers.get("x-request-id") ?? response.headers.get("request-id") ?? "" };
    }
    return { status: response.status, body: parsed, requestId: response.headers.get("x-request-id") ?? response.headers.get("request-id") ?? "" };
  };
  const context: BatchContext = { now: init.now, options: () => options, run, url: init.url };
  const stores: Partial<Record<Protocol, ProtocolBatches>> = {
    openai: createOpenAIBatches(context),
    anthropic: createAnthropicBatches(context),
    gemini: createGeminiBatches(context),
  };
  return {
    route: (protocol, method, path) => stores[protocol]?.route(method, path) ?? null,
    controller: {
      configure(next) {
        options = { ...options, ...next };
      },
      list: () => Object.values(stores).flatMap((store) => store.list()),
    },
    reset() {
      options = { ...DEFAULTS, ...init.options };
      for (const store of Object.values(stores)) store.reset();
    },
  };
}

/** Whether a batch created at `createdAt` and polled `polls` times is due to end. */
export function isDue(ctx: BatchContext, createdAt: number, polls: number): boolean {
  const { polls: wanted, durationMs } = ctx.options();
  return polls >= wanted && ctx.now() - createdAt >= durationMs;
}

/** Runs `tasks` with at most `limit` in flight; results keep the input order. */
export async function runLimited<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
  return results;
}

export function sendJson(x: BatchExchange, reply: Reply): void {
  sendReply({ res: x.res }, reply, x.surfaceHeaders);
}

/** Sends a file body (JSONL) as the provider does. */
export function sendText(x: BatchExchange, text: string, contentType: string): void {
  x.res.writeHead(200, { "content-type": contentType, "content-length": String(Buffer.byteLength(text)), ...x.surfaceHeaders });
  x.res.end(text);
}

/** The JSON body of a batch request, or undefined when it is not a JSON object. */
export function jsonBody(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(raw.toString("utf8")) as unknown;
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function randomId(prefix: string, length = 24): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return prefix + Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}
