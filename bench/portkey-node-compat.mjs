/**
 * Preloaded into Portkey's gateway process by bench/overhead.ts (`node --import`). Two adjustments, neither of
 * which touches Portkey's request handling:
 *
 * 1. Its streaming path works on Node at all. With @hono/node-server ≥ 1.14.3 (1.19 is installed), Portkey wraps an
 *    upstream SSE response as `new Response(stream, upstreamResponse)`, and node-server's lightweight Response then
 *    reuses the upstream's immutable Headers; Portkey's next `headers.append(...)` throws "TypeError: immutable" and
 *    every streamed request fails with 500 (Portkey-AI/gateway#1389, #1550). Here fetch hands back event streams
 *    with a mutable copy of their headers; other responses are returned untouched, so its JSON path is as shipped.
 * 2. It listens on 127.0.0.1 only: start-server.js passes no host, which would bind every interface.
 */
import http from "node:http";

const nativeFetch = globalThis.fetch;
const NativeResponse = globalThis.Response; // captured before node-server replaces the global

globalThis.fetch = async function fetchWithMutableStreamHeaders(input, init) {
  const response = await nativeFetch(input, init);
  if (!(response.headers.get("content-type") ?? "").startsWith("text/event-stream")) return response;
  return new NativeResponse(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: new Headers(response.headers),
  });
};

const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function listenOnLoopback(port, host, ...rest) {
  if (typeof port === "number" && host === undefined) return listen.call(this, port, "127.0.0.1", ...rest);
  return listen.call(this, port, host, ...rest);
};
