/**
 * The Node HTTP server: /api/v1/* goes straight to the gateway handler, /api/{health,ready,metrics} to the ops
 * handlers, everything else to Next's request handler. Tracks in-flight requests for graceful shutdown.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import type { Handler } from "./gateway/handler";
import { encodedBody } from "./gateway/json-response";
import { handleOps } from "./obs/ops";
import type { Runtime } from "./runtime";

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface HttpServer {
  server: http.Server;
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stops accepting, waits for in-flight requests (at most `timeoutMs`), then closes every connection. */
  shutdown(timeoutMs: number): Promise<{ forced: boolean }>;
  inFlight(): number;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createHttpServer(options: { rt: Runtime; gateway: Handler; next?: NodeHandler }): HttpServer {
  const { rt, gateway } = options;
  let inFlight = 0;
  let draining = false;
  let idleWaiters: Array<() => void> = [];

  const finished = () => {
    inFlight -= 1;
    if (inFlight === 0) {
      for (const resolve of idleWaiters) resolve();
      idleWaiters = [];
    }
  };

  const server = http.createServer((req, res) => {
    inFlight += 1;
    res.once("close", finished);
    if (draining) res.setHeader("connection", "close");
    const started = process.hrtime.bigint();
    const pathname = (req.url ?? "/").split("?", 1)[0]!;
    const surface = pathname === "/api/v1" || pathname.startsWith("/api/v1/") ? "gateway" : pathname.startsWith("/api/") && isOpsPath(pathname) ? "ops" : "ui";
    res.once("finish", () => {
      rt.metrics.httpRequests.inc({ surface, method: req.method ?? "GET", status: String(res.statusCode) });
      rt.metrics.httpDuration.observe({ surface }, Number(process.hrtime.bigint() - started) / 1e9);
    });

    if (surface === "ui") {
      if (options.next) {
        Promise.resolve(options.next(req, res)).catch((error) => {
          rt.log.error({ err: error }, "page request failed");
          if (!res.headersSent) res.writeHead(500).end();
          else res.destroy();
        });
      } else {
        res.writeHead(404, { "content-type": "text/plain" }).end("Not found (dashboard disabled: SWITCHYARD_NO_UI)\n");
      }
      return;
    }

    const incoming = req.headers["x-request-id"];
    const requestId = typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    const abort = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    let request: Request;
    try {
      request = toWebRequest(req, requestId, abort.signal, rt.env.SWITCHYARD_MAX_BODY_BYTES);
    } catch {
      res.writeHead(400, { "content-type": "application/json" }).end(
        JSON.stringify({ error: { message: "Malformed request", type: "invalid_request_error", param: null, code: "bad_request" } }),
      );
      return;
    }
    const handle = surface === "gateway" ? gateway(request) : handleOps(rt, request, pathname).then((r) => r!);
    handle
      .then((response) => {
        response.headers.set("x-request-id", requestId);
        const hasBody = req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
        if (hasBody && !req.complete) discardUnreadBody(req, res);
        return sendWebResponse(res, response);
      })
      .catch((error) => {
        rt.log.error({ err: error, requestId }, "request failed");
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json", "x-request-id": requestId }).end(
            JSON.stringify({ error: { message: "Internal server error", type: "api_error", param: null, code: "internal_error" } }),
          );
        } else res.destroy();
      });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  return {
    server,
    inFlight: () => inFlight,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    async shutdown(timeoutMs) {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let forced = false;
      if (inFlight > 0) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), timeoutMs);
        });
        const idle = new Promise<boolean>((resolve) => idleWaiters.push(() => resolve(false)));
        forced = await Promise.race([idle, timeout]);
        clearTimeout(timer);
      }
      server.closeAllConnections();
      await closed;
      return { forced };
    },
  };
}

/** Bytes of an unread request body we read and throw away so the client sees our answer; beyond, we hang up. */
const MAX_DISCARD_BYTES = 16 * 1024 * 1024;

/**
 * Answering before the request body was read (413, 401, 415 …): the connection cannot be reused, and closing it
 * with unread data would make the kernel reset it, losing our answer. So: `Connection: close`, then swallow the
 * rest of the body (bounded), letting the client finish sending and read the response.
 */
function discardUnreadBody(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader("connection", "close");
  let discarded = 0;
  req.removeAllListeners("data");
  req.on("data", (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > MAX_DISCARD_BYTES) req.socket.destroy();
  });
  req.resume();
}

function isOpsPath(pathname: string): boolean {
  return pathname === "/api/health" || pathname === "/api/ready" || pathname === "/api/metrics";
}

/**
 * node:http request → fetch Request. A body with a declared length within the cap is handed over as a lazily
 * buffered stream of the node request's chunks (cheaper than Readable.toWeb's per-chunk queueing); larger or
 * chunked bodies stream through Readable.toWeb so the handler can refuse them without buffering.
 */
function toWebRequest(req: IncomingMessage, requestId: string, signal: AbortSignal, maxBodyBytes: number): Request {
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  const declared = Number(req.headers["content-length"] ?? NaN);
  const small = Number.isFinite(declared) && declared <= maxBodyBytes;
  const request = new Request(`http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, {
    method,
    body: !hasBody ? undefined : small ? bufferedBody(req) : (Readable.toWeb(req) as ReadableStream<Uint8Array>),
    signal,
    // @ts-expect-error -- Node's fetch requires duplex for streamed bodies; the DOM typings lack it.
    duplex: "half",
  });
  // Appended to the request's own headers: a Headers passed in `init` would be copied (and re-validated) entry by
  // entry. A stream body adds no default Content-Type, so the result is the same.
  const headers = request.headers;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  headers.set("x-request-id", requestId);
  return request;
}

/** One chunk holding the whole (small, declared-length) body, read when the handler first pulls. */
function bufferedBody(req: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of req) chunks.push(chunk as Buffer);
      } catch (error) {
        controller.error(error);
        return;
      }
      if (chunks.length > 0) controller.enqueue(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      controller.close();
    },
  });
}

async function sendWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key !== "set-cookie") headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  if (!response.body) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  // Complete bodies (JSON answers) go out in one write with a length; only event streams are piped.
  if (!(headers["content-type"] as string | undefined)?.startsWith("text/event-stream")) {
    const body = encodedBody(response) ?? Buffer.from(await response.arrayBuffer());
    headers["content-length"] = String(body.length);
    res.writeHead(response.status, headers);
    res.end(body);
    return;
  }
  res.writeHead(response.status, headers);
  const reader = response.body.getReader();
  // Frames produced in the same tick (one upstream read often carries several events) leave in one socket write:
  // the first write corks the socket, and it is uncorked once the microtasks that produced those frames are done.
  let corked = false;
  const uncork = () => {
    if (!corked) return;
    corked = false;
    res.uncork();
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) {
        await reader.cancel();
        return;
      }
      if (!corked) {
        corked = true;
        res.cork();
        process.nextTick(uncork);
      }
      if (!res.write(value)) {
        uncork();
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off("drain", done);
            res.off("close", done);
            resolve();
          };
          res.on("drain", done);
          res.on("close", done);
        });
      }
    }
    uncork();
    res.end();
  } catch {
    uncork();
    await reader.cancel().catch(() => {});
    res.destroy();
  }
}
