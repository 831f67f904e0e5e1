/**
 * Upstream HTTP for every provider adapter: undici pools (one per origin, keep-alive), four timeouts, no redirects,
 * the SSRF guard at connect time, and the client's abort carried upstream. Failures surface as a small typed
 * TransportError whose message names the host at most — never the path, the query string or a header.
 */
import { Pool } from "undici";
import { checkUrlSyntax, createGuardedConnector, SsrfBlockedError, type Resolver, type SsrfCheck, type SsrfReason } from "./ssrf";

export type TransportErrorKind =
  | "timeout_connect"
  | "timeout_first_byte"
  | "timeout_idle"
  | "timeout_total"
  | "connection"
  | "aborted"
  | "redirect"
  | "ssrf_blocked";

export class TransportError extends Error {
  override name = "TransportError";
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
    /** `code`: the underlying system/undici error code; `status`: a refused redirect's status. */
    readonly details: { code?: string; status?: number; ssrfReason?: SsrfReason } = {},
  ) {
    super(message);
  }
}

/** undici checks the first-byte and idle timeouts on a coarse (~0.5 s) tick, so they may fire up to ~1 s late. */
export interface TransportTimeouts {
  /** DNS, TCP and TLS until the connection is up. */
  connectMs: number;
  /** Request sent until the response headers (undici headersTimeout). */
  firstByteMs: number;
  /** Longest silence between two body chunks (undici bodyTimeout). */
  idleMs: number;
  /** The whole exchange, until the body has been read to its end. */
  totalMs: number;
}

/** Generous defaults: a non-streamed long completion sends its headers only when it is done. */
export const DEFAULT_TIMEOUTS: Readonly<TransportTimeouts> = {
  connectMs: 10_000,
  firstByteMs: 300_000,
  idleMs: 120_000,
  totalMs: 600_000,
};

export interface TransportOptions {
  /** Defaults for every request; a request's own `timeouts` win. */
  timeouts?: Partial<TransportTimeouts>;
  /** How long an idle upstream connection is kept for reuse (capped lower by the server's Keep-Alive hint). */
  keepAliveTimeoutMs?: number;
  /** Connections per origin; unlimited by default, since admission control bounds concurrency upstream. */
  connectionsPerOrigin?: number;
  /** Name resolution for the connect-time SSRF guard (dns.lookup by default; tests inject one). */
  resolve?: Resolver;
}

export interface TransportRequest {
  url: string | URL;
  /** Default: POST with a body, GET without. */
  method?: string;
  headers?: Record<string, string> | Headers;
  body?: string | Uint8Array | null;
  /** The client's signal: aborting it aborts the upstream request (connection closed at once). */
  signal?: AbortSignal;
  timeouts?: Partial<TransportTimeouts>;
  /** The provider's admin opt-in for private/loopback addresses; metadata addresses stay refused. */
  allowPrivate?: boolean;
}

export interface TransportResponse {
  status: number;
  headers: Headers;
  /** Read once: through this stream, or text(), or json(). Errors from it are TransportErrors. */
  body: ReadableStream<Uint8Array>;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

export interface Transport {
  /**
   * Sends one request. Resolves with any status except 3xx (redirects are refused, since following one could
   * leave the vetted host); HTTP error statuses are the caller's to interpret.
   * @throws TransportError
   */
  request(request: TransportRequest): Promise<TransportResponse>;
  /** Closes every pool once its in-flight requests finish; later requests fail. */
  close(): Promise<void>;
}

export function createTransport(options: TransportOptions = {}): Transport {
  const defaults: TransportTimeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const pools = new Map<string, Pool>();
  let closed = false;

  const poolFor = (url: URL, allowPrivate: boolean, connectMs: number): Pool => {
    // The guard and the connect timeout live in the connector, so they are part of the pool's identity.
    const key = `${url.origin}|${allowPrivate ? "private" : "public"}|${connectMs}`;
    let pool = pools.get(key);
    if (!pool) {
      pool = new Pool(url.origin, {
        connect: createGuardedConnector({ allowPrivate, resolve: options.resolve, connect: { timeout: connectMs } }),
        keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
        ...(options.connectionsPerOrigin !== undefined && { connections: options.connectionsPerOrigin }),
      });
      pools.set(key, pool);
    }
    return pool;
  };

  // The syntax check is a pure function of the URL string and the opt-in, and every call of a provider sends to the
  // same few URLs: parse and check each once (bounded; the connect-time guard still checks every address).
  const checked = new Map<string, { url: URL; check: SsrfCheck }>();
  const vetted = (raw: string | URL, allowPrivate: boolean): { url: URL; check: SsrfCheck } => {
    if (typeof raw !== "string") return { url: new URL(raw), check: checkUrlSyntax(raw, { allowPrivate }) };
    const key = `${allowPrivate ? "p" : "-"}${raw}`;
    let entry = checked.get(key);
    if (!entry) {
      const check = checkUrlSyntax(raw, { allowPrivate });
      entry = { url: check.ok ? new URL(raw) : (null as unknown as URL), check };
      if (checked.size >= 1_024) checked.clear();
      checked.set(key, entry);
    }
    return entry;
  };

  return {
    async request(request) {
      if (closed) throw new TransportError("connection", "transport is closed");
      const allowPrivate = request.allowPrivate ?? false;
      const { url, check } = vetted(request.url, allowPrivate);
      if (!check.ok) {
        const message = `upstream URL refused: ${check.message}`;
        throw new TransportError("ssrf_blocked", message, { ssrfReason: check.reason });
      }
      const host = url.host;
      const timeouts: TransportTimeouts = { ...defaults, ...request.timeouts };
      const clientAborted = () => new TransportError("aborted", `request to ${host} aborted by the client`);
      if (request.signal?.aborted) throw clientAborted();

      // One controller carries both the client's abort and the total deadline; its reason is the TransportError
      // that undici then rejects with (or destroys the body with), so the cause is never ambiguous.
      const controller = new AbortController();
      const deadline = setTimeout(() => {
        controller.abort(new TransportError("timeout_total", `request to ${host} exceeded ${timeouts.totalMs} ms`));
      }, timeouts.totalMs);
      const onClientAbort = () => controller.abort(clientAborted());
      request.signal?.addEventListener("abort", onClientAbort, { once: true });
      const settle = () => {
        clearTimeout(deadline);
        request.signal?.removeEventListener("abort", onClientAbort);
      };
      const fail = (error: unknown) => mapError(error, host, timeouts);

      let response: Awaited<ReturnType<Pool["request"]>>;
      try {
        response = await poolFor(url, allowPrivate, timeouts.connectMs).request({
          path: `${url.pathname}${url.search}`,
          method: request.method ?? (request.body == null ? "GET" : "POST"),
          headers: request.headers instanceof Headers ? Object.fromEntries(request.headers.entries()) : request.headers,
          body: request.body ?? null,
          signal: controller.signal,
          headersTimeout: timeouts.firstByteMs,
          bodyTimeout: timeouts.idleMs,
        });
      } catch (error) {
        settle();
        throw fail(error);
      }

      if (response.statusCode >= 300 && response.statusCode < 400) {
        settle();
        // Destroying an unread undici body emits an AbortError that nobody awaits; swallow it.
        response.body.on("error", () => {}).destroy();
        const status = response.statusCode;
        const message = `${host} answered with a redirect (${status}); redirects are not followed`;
        throw new TransportError("redirect", message, { status });
      }

      const raw = response.headers;
      let headers: Headers | null = null;
      const source = response.body;
      // An undici body destroyed before anyone listens can emit an unhandled 'error' (as a discarded redirect body
      // does); readers below still see the error.
      source.on("error", () => {});
      let stream: ReadableStream<Uint8Array> | null = null;
      let consumed = false;
      const claim = () => {
        if (consumed) throw new TypeError("the response body was already read");
        consumed = true;
      };
      // JSON and text bodies are read straight from undici's body (no web-stream layer on the hot path); the
      // web stream is built only for callers that stream.
      const text = async (): Promise<string> => {
        claim();
        try {
          return await source.text();
        } catch (error) {
          throw fail(error);
        } finally {
          settle();
        }
      };
      const makeStream = (): ReadableStream<Uint8Array> => {
        claim();
        const chunks = source[Symbol.asyncIterator]();
        return new ReadableStream<Uint8Array>(
          {
            async pull(controller) {
              try {
                const next = await chunks.next();
                if (next.done) {
                  settle();
                  controller.close();
                } else {
                  controller.enqueue(next.value as Uint8Array);
                }
              } catch (error) {
                settle();
                controller.error(fail(error));
              }
            },
            cancel() {
              settle();
              source.destroy();
            },
          },
          // Pull only when the consumer reads, so a slow client applies backpressure to the upstream socket.
          { highWaterMark: 0 },
        );
      };
      return {
        status: response.statusCode,
        get headers() {
          if (!headers) {
            headers = new Headers();
            for (const [name, value] of Object.entries(raw)) {
              if (Array.isArray(value)) for (const item of value) headers.append(name, item);
              else if (value !== undefined) headers.set(name, value);
            }
          }
          return headers;
        },
        get body() {
          stream ??= makeStream();
          return stream;
        },
        text,
        json: async (): Promise<unknown> => JSON.parse(await text()),
      };
    },

    async close() {
      closed = true;
      await Promise.all([...pools.values()].map((pool) => pool.close()));
      pools.clear();
    },
  };
}

function mapError(error: unknown, host: string, timeouts: TransportTimeouts): TransportError {
  if (error instanceof TransportError) return error;
  if (error instanceof SsrfBlockedError) {
    const message = `connection to ${host} refused: ${error.message}`;
    return new TransportError("ssrf_blocked", message, { ssrfReason: error.reason });
  }
  const code = typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : undefined;
  switch (code) {
    case "UND_ERR_CONNECT_TIMEOUT":
      return new TransportError("timeout_connect", `connecting to ${host} timed out after ${timeouts.connectMs} ms`, {
        code,
      });
    case "UND_ERR_HEADERS_TIMEOUT":
      return new TransportError("timeout_first_byte", `${host} sent no headers within ${timeouts.firstByteMs} ms`, {
        code,
      });
    case "UND_ERR_BODY_TIMEOUT":
      return new TransportError("timeout_idle", `${host} went silent for ${timeouts.idleMs} ms mid-body`, { code });
    case "UND_ERR_ABORTED":
      return new TransportError("aborted", `request to ${host} was aborted`, { code });
    default:
      return new TransportError("connection", `connection to ${host} failed${code ? ` (${code})` : ""}`, { code });
  }
}
