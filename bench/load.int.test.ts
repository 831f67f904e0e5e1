import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { LoadError, runLoad, type LoadSpec } from "./load";

let server: http.Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A local server answering every request with `reply`; resolves with its origin. */
async function serve(reply: (res: http.ServerResponse) => void): Promise<{ origin: string; hits: () => number; connections: () => number }> {
  let hits = 0;
  let connections = 0;
  server = http.createServer((req, res) => {
    hits += 1;
    req.resume().on("end", () => reply(res));
  });
  server.on("connection", () => (connections += 1));
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, hits: () => hits, connections: () => connections };
}

const spec = (origin: string, overrides: Partial<LoadSpec> = {}): LoadSpec => ({
  origin,
  path: "/v1/chat/completions",
  headers: { "content-type": "application/json" },
  body: "{}",
  stream: false,
  concurrency: 4,
  warmupMs: 50,
  durationMs: 200,
  ...overrides,
});

describe("runLoad", () => {
  it("measures a closed loop over one keep-alive connection per loop", async () => {
    const target = await serve((res) => res.writeHead(200, { "content-type": "application/json" }).end('{"choices":[]}'));
    const result = await runLoad(spec(target.origin));
    expect(result.requests).toBeGreaterThan(10);
    expect(target.hits()).toBeGreaterThanOrEqual(result.requests); // warm-up requests are sent but not counted
    expect(target.connections()).toBe(4);
    expect(result.rps).toBeCloseTo((result.requests * 1000) / result.elapsedMs, 6);
    expect(result.p50Ms).toBeGreaterThan(0);
    expect(result.p50Ms).toBeLessThanOrEqual(result.p99Ms);
    expect(result.p99Ms).toBeLessThanOrEqual(result.maxMs);
  });

  it("stops at maxRequests", async () => {
    const target = await serve((res) => res.writeHead(200).end('{"choices":[]}'));
    const result = await runLoad(spec(target.origin, { concurrency: 1, durationMs: 5_000, maxRequests: 25 }));
    expect(result.requests).toBe(25);
  });

  it("accepts a stream only when it ends with data: [DONE]", async () => {
    const done = await serve((res) => res.writeHead(200, { "content-type": "text/event-stream" }).end('data: {"x":1}\n\ndata: [DONE]\n\n'));
    const ok = await runLoad(spec(done.origin, { stream: true, concurrency: 1 }));
    expect(ok.ttfbP50Ms).toBeLessThanOrEqual(ok.p50Ms);
    await new Promise<void>((resolve) => server!.close(() => resolve()));

    const cut = await serve((res) => res.writeHead(200, { "content-type": "text/event-stream" }).end('data: {"x":1}\n\n'));
    await expect(runLoad(spec(cut.origin, { stream: true }))).rejects.toThrow(/unexpected answer \(HTTP 200\)/);
  });

  it("fails on the first error answer instead of counting it", async () => {
    const target = await serve((res) => res.writeHead(500).end('{"error":{"message":"boom"}}'));
    await expect(runLoad(spec(target.origin))).rejects.toThrow(LoadError);
    await expect(runLoad(spec(target.origin))).rejects.toThrow(/HTTP 500.*boom/);
  });

  it("refuses any origin outside the loopback range", async () => {
    await expect(runLoad(spec("http://10.0.0.1:80"))).rejects.toThrow(/only loopback/);
    await expect(runLoad(spec("http://example.com"))).rejects.toThrow(/only loopback/);
  });
});
