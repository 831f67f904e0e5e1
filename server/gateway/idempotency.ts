/**
 * `Idempotency-Key` on the POST endpoints that call an upstream (chat completions, responses, messages,
 * embeddings) — reliability case 22. Keys are scoped per API key; a key remembers the endpoint and a fingerprint of
 * the JSON body (object keys sorted, so formatting does not matter) and, once the call succeeded, its answer, for 24 h:
 *
 * - first use: the call runs as usual; a 2xx answer (JSON, or a stream that ended normally) is stored with its
 *   status and headers; anything else (an error, a stream cut or abandoned) forgets the key, so a retry runs again;
 * - repeat with the same endpoint and body: the stored answer (a stream is replayed as the stored SSE text at once)
 *   with `x-switchyard-idempotent-replay: true`; no upstream call, no charge, no rate-limit or budget use; logged as
 *   a call row with zero cost and tokens and cache outcome `replay`;
 * - repeat while the first is still running: waits for it (up to MAX_WAIT_MS, then 409 `idempotency_in_progress`),
 *   then replays its answer, or runs itself when the first failed;
 * - same key with another body or endpoint: 422 `idempotency_key_reused`.
 *
 * Storage is the shared state store (server/state): Redis when REDIS_URL is set, so every instance sees the same keys;
 * otherwise an in-memory store of its own (bounded to MEMORY_MAX_KEYS keys) so replays cannot evict other state.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "@/lib/json";
import type { CallRecord } from "../ledger/call-log";
import { createMemoryStore } from "../state/memory";
import type { StateStore } from "../state/store";
import { readJsonBody } from "./body";
import type { Gateway } from "./context";
import { AppError, toAppError } from "./errors";

export const IDEMPOTENCY_HEADER = "idempotency-key";
export const REPLAY_HEADER = "x-switchyard-idempotent-replay";
/** How long a completed key answers with its stored response. */
export const RETENTION_MS = 24 * 3600_000;
/** A running call's claim lapses this long after its last renewal (a crashed instance frees the key quickly). */
export const CLAIM_TTL_MS = 60_000;
const RENEW_EVERY_MS = 20_000;
/** How long a repeat waits for the first call to finish before answering 409. */
export const MAX_WAIT_MS = 120_000;
/** Answers larger than this are not kept: a repeat then gets 409 `idempotency_replay_unavailable`. */
export const MAX_STORED_BYTES = 4 * 1024 * 1024;
export const MEMORY_MAX_KEYS = 10_000;
const MAX_KEY_LENGTH = 255;

/** Endpoints that take the header: path under /api/v1 → how the call log names it. */
const ENDPOINTS: Record<string, { surface: "openai" | "anthropic"; endpoint: string }> = {
  "/chat/completions": { surface: "openai", endpoint: "chat.completions" },
  "/responses": { surface: "openai", endpoint: "responses" },
  "/messages": { surface: "anthropic", endpoint: "messages" },
  "/embeddings": { surface: "openai", endpoint: "embeddings" },
};

/** Response headers that describe this delivery rather than the answer: never stored or replayed. */
const VOLATILE_HEADERS = /^(x-request-id|x-ratelimit-.*|retry-after|date|connection|keep-alive|transfer-encoding|content-length)$/i;

/** `owner` is random, so only the claimant can drop its claim (request ids come from clients and may repeat). */
type Pending = { state: "pending"; fp: string; owner: string; requestId: string };
type Entry =
  | Pending
  | {
      state: "done";
      fp: string;
      /** The request id of the call that produced the answer. */
      requestId: string;
      status: number;
      headers: Array<[string, string]>;
      /** null when the answer was too large to keep. */
      body: string | null;
      stream: boolean;
    };

export interface Idempotency {
  /**
   * Runs `run` under the request's Idempotency-Key, or replays/refuses as the module comment describes. Without the
   * header it is `run(request)`. `path` is the path under /api/v1.
   */
  handle(request: Request, requestId: string, path: string, run: (request: Request) => Promise<Response>): Promise<Response>;
}

/** The body's canonical JSON (keys sorted at every level), so two encodings of one body share a fingerprint. */
export function fingerprint(path: string, body: unknown): string {
  return createHash("sha256").update(path).update("\n").update(canonicalJson(body)).digest("hex");
}

/** Whether an SSE answer ended with its surface's normal ending (a failed stream closes without it). */
export function streamCompleted(endpoint: string, text: string): boolean {
  const frames = text.split(/\r?\n\r?\n/).filter((f) => f.trim() !== "");
  const last = frames.at(-1);
  if (!last) return false;
  const field = (name: string) => last.split(/\r?\n/).find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1).trim();
  if (endpoint === "chat.completions") return field("data") === "[DONE]";
  if (endpoint === "messages") return field("event") === "message_stop";
  if (endpoint === "responses") return field("event") === "response.completed" || field("event") === "response.incomplete";
  return false;
}

export function createIdempotency(gw: Gateway, options: { store?: StateStore } = {}): Idempotency {
  const store = options.store ?? (gw.rt.state.kind === "redis" ? gw.rt.state : createMemoryStore({ max: MEMORY_MAX_KEYS }));
  if (!options.store && store !== gw.rt.state) gw.rt.onShutdown(() => store.close());
  /** Repeats waiting on this instance, woken as soon as the local owner finishes (other instances poll). */
  const waiters = new Map<string, Set<() => void>>();
  const wake = (key: string) => {
    for (const fn of waiters.get(key) ?? []) fn();
    waiters.delete(key);
  };
  const read = async (key: string): Promise<Entry | null> => {
    const raw = await store.get(key);
    return raw === null ? null : (JSON.parse(raw) as Entry);
  };

  /** Resolves after `ms`, on a local wake-up, or when the client leaves. */
  const pause = (key: string, ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        waiters.get(key)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      let set = waiters.get(key);
      if (!set) waiters.set(key, (set = new Set()));
      set.add(done);
    });

  const log = (record: CallRecord) => gw.rt.calls.write(record);

  return {
    async handle(request, requestId, path, run) {
      const idemKey = request.headers.get(IDEMPOTENCY_HEADER);
      const target = ENDPOINTS[path];
      if (idemKey === null || !target) return run(request);
      const started = performance.now();
      const key = await gw.auth.authenticate(request.headers);
      const row = (fields: Partial<CallRecord> & { status: number }): CallRecord => ({
        id: crypto.randomUUID(),
        requestId,
        createdAt: new Date(),
        surface: target.surface,
        endpoint: target.endpoint,
        orgId: key.orgId,
        teamId: key.teamId,
        apiKeyId: key.apiKeyId,
        latencyMs: Math.round(performance.now() - started),
        ...fields,
      });
      let body: unknown;
      try {
        if (idemKey.length === 0 || idemKey.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(idemKey)) {
          throw new AppError(400, "invalid_idempotency_key", `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} visible ASCII characters`, {
            param: "Idempotency-Key",
          });
        }
        // A clone: the endpoint reads the original bytes itself (re-encoding the JSON could change big numbers).
        body = await readJsonBody(request.clone(), gw.rt.env.SWITCHYARD_MAX_BODY_BYTES);
      } catch (error) {
        const appError = toAppError(error);
        log(row({ status: appError.status, errorClass: appError.code }));
        throw appError;
      }
      const described = describe(body);
      const fp = fingerprint(path, body);
      const storeKey = `idem:${key.apiKeyId}:${createHash("sha256").update(idemKey).digest("hex")}`;
      const deadline = Date.now() + MAX_WAIT_MS;
      let pollMs = 20;

      for (;;) {
        const pending: Pending = { state: "pending", fp, owner: crypto.randomUUID(), requestId };
        let entry: Entry | null;
        try {
          if (await store.setIfAbsent(storeKey, JSON.stringify(pending), CLAIM_TTL_MS)) {
            return execute(request, storeKey, pending, target.endpoint, run);
          }
          entry = await read(storeKey);
        } catch (error) {
          // Fail closed, like budgets: running without the key could call the upstream twice.
          gw.rt.log.warn({ err: error }, "idempotency store unavailable");
          const appError = new AppError(503, "idempotency_unavailable", "Idempotency keys are unavailable right now; retry later");
          log(row({ ...described, status: 503, errorClass: appError.code }));
          throw appError;
        }
        if (entry === null) continue; // lapsed or released between the two reads: claim again
        if (entry.fp !== fp) {
          const error = new AppError(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request body or endpoint in the last 24 hours; send a new key for a new request",
            { param: "Idempotency-Key" },
          );
          log(row({ ...described, status: 422, errorClass: error.code }));
          throw error;
        }
        if (entry.state === "done") {
          if (entry.body === null) {
            const error = new AppError(409, "idempotency_replay_unavailable", "The answer to this Idempotency-Key was too large to keep for replay", {
              param: "Idempotency-Key",
            });
            log(row({ ...described, status: 409, errorClass: error.code }));
            throw error;
          }
          log(
            row({
              ...described,
              status: entry.status,
              streamed: entry.stream,
              cacheOutcome: "replay",
              costUsd: "0",
              baselineCostUsd: "0",
              route: { requested: described.requestedModel ?? null, target: "idempotent-replay", replayOf: entry.requestId },
            }),
          );
          const headers = new Headers(entry.headers);
          headers.set(REPLAY_HEADER, "true");
          headers.set("x-switchyard-original-request-id", entry.requestId);
          headers.set("x-switchyard-cost-usd", "0"); // this delivery costs nothing; the original's row has the cost
          return new Response(entry.body, { status: entry.status, headers });
        }
        // Still running (here or on another instance): wait for it.
        if (request.signal.aborted || Date.now() >= deadline) {
          const error = new AppError(409, "idempotency_in_progress", "A request with this Idempotency-Key is still in progress; retry later", {
            param: "Idempotency-Key",
            headers: { "retry-after": "1" },
          });
          log(row({ ...described, status: request.signal.aborted ? 499 : 409, errorClass: request.signal.aborted ? "client_closed_request" : error.code }));
          throw error;
        }
        await pause(storeKey, Math.min(pollMs, deadline - Date.now()), request.signal);
        pollMs = Math.min(500, Math.round(pollMs * 1.5));
      }
    },
  };

  /** Runs the first call under its claim, keeping the claim alive, and stores a successful answer. */
  async function execute(
    request: Request,
    storeKey: string,
    pending: Pending,
    endpoint: string,
    run: (request: Request) => Promise<Response>,
  ): Promise<Response> {
    let ended = false;
    let renewal: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      renewal = store.set(storeKey, JSON.stringify(pending), CLAIM_TTL_MS).catch(() => {});
    }, RENEW_EVERY_MS);
    timer.unref();
    /** Ends the claim: stores the answer, or forgets the key so a retry runs again. */
    const end = async (answer: Omit<Extract<Entry, { state: "done" }>, "state" | "fp" | "requestId"> | null) => {
      if (ended) return;
      ended = true;
      clearInterval(timer);
      await renewal;
      try {
        if (answer) {
          const entry: Entry = { state: "done", fp: pending.fp, requestId: pending.requestId, ...answer };
          if (answer.body !== null && Buffer.byteLength(answer.body) > MAX_STORED_BYTES) entry.body = null;
          await store.set(storeKey, JSON.stringify(entry), RETENTION_MS);
        } else {
          const current = await read(storeKey);
          if (current?.state === "pending" && current.owner === pending.owner) await store.del(storeKey);
        }
      } catch (error) {
        gw.rt.log.warn({ err: error }, "idempotency store write failed");
      } finally {
        wake(storeKey);
      }
    };

    let response: Response;
    try {
      response = await run(request);
    } catch (error) {
      await end(null);
      throw error;
    }
    if (response.status < 200 || response.status >= 300 || !response.body) {
      await end(null);
      return response;
    }
    const headers = [...response.headers].filter(([name]) => !VOLATILE_HEADERS.test(name));
    const stream = (response.headers.get("content-type") ?? "").startsWith("text/event-stream");
    if (!stream) {
      const text = await response.text();
      await end({ status: response.status, headers, body: text, stream: false });
      return new Response(text, { status: response.status, headers: response.headers });
    }

    // A stream: pass it through as it comes, keeping a copy; stored only when it ends with its normal ending.
    const reader = response.body.getReader();
    const parts: Uint8Array[] = [];
    let size = 0;
    /** The last chunks, to check the ending of a stream too large to keep. */
    let tail: Uint8Array[] = [];
    const tee = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            const text = size > MAX_STORED_BYTES ? null : new TextDecoder().decode(Buffer.concat(parts, size));
            const complete = streamCompleted(endpoint, text ?? new TextDecoder().decode(Buffer.concat(tail)));
            await end(complete ? { status: response.status, headers, body: text, stream: true } : null);
            return;
          }
          size += value.byteLength;
          if (size <= MAX_STORED_BYTES) parts.push(value);
          tail = [...tail.slice(-3), value];
          controller.enqueue(value);
        } catch (error) {
          controller.error(error);
          await end(null);
        }
      },
      async cancel(reason) {
        await reader.cancel(reason).catch(() => {});
        await end(null);
      },
    });
    return new Response(tee, { status: response.status, headers: response.headers });
  }
}

/** What the call log can say about a request it did not run: the requested model and end user. */
function describe(body: unknown): Pick<CallRecord, "requestedModel" | "endUser"> {
  const obj = body !== null && typeof body === "object" ? (body as Record<string, unknown>) : {};
  return {
    requestedModel: typeof obj.model === "string" ? obj.model : null,
    endUser: typeof obj.user === "string" ? obj.user : null,
  };
}
