/**
 * One request/response of the simulator and the two ways it answers: a JSON body, or a paced stream of
 * pre-rendered frames. Latency and the transport-level faults (cut, stall, malformed data) live here so every
 * surface behaves the same way.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FaultSpec, Operation, Protocol } from "./faults";
import type { Reply } from "./errors";

export interface Latency {
  /** Delay before the first byte of a success (the first chunk of a stream), ms. */
  ttftMs: number;
  /** Output pacing; 0 = no pacing. */
  tokensPerSecond: number;
}

export interface Exchange {
  res: ServerResponse;
  query: URLSearchParams;
  /** Parsed JSON body (undefined when empty). */
  body: unknown;
  fault?: FaultSpec;
  latency: Latency;
  /** Aborted when the client goes away or the simulator closes. */
  signal: AbortSignal;
  now: () => number;
  /** Sequence number of this request within the simulator (response ids derive from it). */
  seq: number;
  requestId: string;
}

/** Waits `ms` (no timer at all for 0); resolves false when aborted first. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Time to generate `tokens` output tokens after the first one. */
function paceMs(tokens: number, tokensPerSecond: number): number {
  return tokensPerSecond > 0 ? (Math.max(0, tokens - 1) * 1000) / tokensPerSecond : 0;
}

const STREAM_FAULTS = new Set(["stream_cut", "stream_stall", "malformed_chunk"]);

function writeAsync(res: ServerResponse, data: string): Promise<void> {
  return new Promise((resolve) => {
    res.write(data, () => resolve());
  });
}

/** Sends an error (or any reply) immediately. */
export function sendReply(x: Pick<Exchange, "res">, reply: Reply, extraHeaders: Record<string, string> = {}): void {
  if (x.res.headersSent || x.res.destroyed) return;
  const text = JSON.stringify(reply.body);
  x.res.writeHead(reply.status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    ...extraHeaders,
    ...reply.headers,
  });
  x.res.end(text);
}

/**
 * Sends a successful JSON answer after the time a model would take to produce `outputTokens` tokens.
 * Stream faults apply to the body too: cut (half the body, then the socket closes), stall (half, then
 * nothing) and malformed (a truncated body with a matching content-length).
 */
export async function sendGenerated(x: Exchange, reply: Reply, outputTokens: number, extraHeaders: Record<string, string> = {}): Promise<void> {
  if (!(await sleep(x.latency.ttftMs + paceMs(outputTokens, x.latency.tokensPerSecond), x.signal))) return;
  const fault = x.fault?.fault;
  if (!fault || !STREAM_FAULTS.has(fault)) return sendReply(x, reply, extraHeaders);
  const text = JSON.stringify(reply.body);
  const half = text.slice(0, Math.floor(text.length / 2));
  const length = fault === "malformed_chunk" ? half : text;
  x.res.writeHead(reply.status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(length)),
    ...extraHeaders,
    ...reply.headers,
  });
  if (fault === "malformed_chunk") {
    x.res.end(half);
    return;
  }
  await writeAsync(x.res, half);
  if (fault === "stream_cut") x.res.destroy();
  // stream_stall: the response stays open until the client gives up or the simulator closes.
}

/** One pre-rendered stream event and the output tokens it carries (for pacing). */
export interface Frame {
  data: string;
  tokens: number;
}

/**
 * Plays frames after the time to first token, pacing token-bearing frames at tokensPerSecond. Stream faults
 * fire before frame `afterChunks` (never later than the last frame, so the terminator is never sent):
 * stream_cut destroys the socket, stream_stall stops writing and keeps it open, malformed_chunk inserts
 * `malformed` and carries on.
 */
export async function playStream(x: Exchange, frames: readonly Frame[], options: { headers: Record<string, string>; malformed: string }): Promise<void> {
  if (!(await sleep(x.latency.ttftMs, x.signal))) return;
  const { res } = x;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    ...options.headers,
  });
  res.flushHeaders();
  const fault = x.fault && STREAM_FAULTS.has(x.fault.fault) ? x.fault : undefined;
  const faultAt = fault ? Math.min(fault.afterChunks ?? 2, Math.max(0, frames.length - 1)) : -1;
  const started = performance.now();
  let emitted = 0;
  for (let i = 0; i < frames.length; i += 1) {
    if (x.signal.aborted) return;
    if (i === faultAt) {
      if (fault!.fault === "stream_cut") {
        res.destroy();
        return;
      }
      if (fault!.fault === "stream_stall") return;
      await writeAsync(res, options.malformed);
    }
    const frame = frames[i]!;
    emitted += frame.tokens;
    const wait = started + paceMs(emitted, x.latency.tokensPerSecond) - performance.now();
    if (wait >= 1 && !(await sleep(wait, x.signal))) return;
    if (fault) await writeAsync(res, frame.data);
    else if (!res.write(frame.data)) await new Promise<void>((resolve) => {
      const done = () => {
        res.off("drain", done);
        res.off("close", done);
        resolve();
      };
      res.on("drain", done);
      res.on("close", done);
    });
  }
  res.end();
}

/** `data: {json}\n\n` (OpenAI), or with an event line (Anthropic). */
export function sseFrame(data: unknown, event?: string, tokens = 0, lineEnd = "\n"): Frame {
  const payload = typeof data === "string" ? data : JSON.stringify(data);
  return { data: `${event ? `event: ${event}${lineEnd}` : ""}data: ${payload}${lineEnd}${lineEnd}`, tokens };
}

/** A TTL store of prompt-prefix fingerprints: the providers' prompt caches. Hits refresh the TTL, like theirs. */
export class PrefixCache {
  #entries = new Map<string, { expiresAt: number; ttlMs: number }>();
  constructor(private readonly now: () => number) {}

  /** True when `key` is cached and live (and refreshes it). */
  hit(key: string): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return false;
    const now = this.now();
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return false;
    }
    entry.expiresAt = now + entry.ttlMs;
    return true;
  }

  put(key: string, ttlMs: number): void {
    const now = this.now();
    const existing = this.#entries.get(key);
    this.#entries.set(key, { expiresAt: now + Math.max(ttlMs, existing?.ttlMs ?? 0), ttlMs: Math.max(ttlMs, existing?.ttlMs ?? 0) });
    if (this.#entries.size > 50_000) {
      for (const [k, e] of this.#entries) if (e.expiresAt <= now) this.#entries.delete(k);
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** A matched endpoint: what it is (for fault matching and the request log) and how to answer it. */
export interface Route {
  operation: Operation;
  model?: string;
  stream: boolean;
  run(x: Exchange): Promise<void> | void;
}

/** One provider's wire protocol, mounted under `/<protocol>`. */
export interface Surface {
  protocol: Protocol;
  /** Null when the request carries the expected key; the provider's auth error otherwise. */
  authenticate(req: IncomingMessage, query: URLSearchParams, apiKey: string, requestId: string): Reply | null;
  /** Protocol-level header checks that precede everything else (Anthropic's anthropic-version). */
  precheck?(req: IncomingMessage, requestId: string): Reply | null;
  /** The endpoint for this request, or the provider's 404. */
  route(method: string, path: string, query: URLSearchParams, body: unknown, requestId: string): Route | Reply;
  /** The provider's 400 for a request it cannot use (bad JSON, bad simulator header). */
  badRequest(message: string, requestId: string): Reply;
  /** Headers every response of this provider carries (request ids). */
  headers(requestId: string): Record<string, string>;
  /** Forgets server-side state (prompt caches, cached contents). */
  reset(): void;
}

export function isReply(value: Route | Reply): value is Reply {
  return "status" in value;
}
