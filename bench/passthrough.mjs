/**
 * The floor of bench:overhead: a Node HTTP proxy that does nothing but forward. `node bench/passthrough.mjs
 * --upstream http://127.0.0.1:N --port P` listens on 127.0.0.1:P and sends every request, method, path, headers and
 * body as received, to the upstream over one keep-alive undici Pool, then streams the answer back. No auth, no
 * parsing, no routing, no logging: the throughput and added latency of this process are what the two HTTP hops of
 * any Node gateway cost on this machine before it does any work of its own. Prints its origin on stdout when ready.
 */
import http from "node:http";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { Pool } from "undici";

const { values } = parseArgs({ options: { upstream: { type: "string" }, port: { type: "string", default: "0" } } });
if (!values.upstream) {
  process.stderr.write("usage: node bench/passthrough.mjs --upstream http://127.0.0.1:N [--port P]\n");
  process.exit(2);
}

const pool = new Pool(values.upstream, { connections: 64, pipelining: 1 });
/** Hop-by-hop headers (RFC 9110 §7.6.1) are the connection's own, never forwarded. */
const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection", "host"]);

function forwardable(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP.has(name)) out[name] = value;
  return out;
}

const server = http.createServer(async (req, res) => {
  try {
    const upstream = await pool.request({
      method: req.method,
      path: req.url,
      headers: forwardable(req.headers),
      body: req.method === "GET" || req.method === "HEAD" ? null : req,
    });
    res.writeHead(upstream.statusCode, forwardable(upstream.headers));
    await pipeline(upstream.body, res);
  } catch (error) {
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" }).end(String(error?.message ?? error));
    else res.destroy();
  }
});
server.keepAliveTimeout = 65_000;

server.listen(Number(values.port), "127.0.0.1", () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port}\n`);
});
const stop = () => {
  server.close();
  server.closeAllConnections();
  void pool.close().finally(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
