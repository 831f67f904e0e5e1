import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { checkBaseUrl, createGuardedConnector, SsrfBlockedError, type Resolver } from "./ssrf";
import { createTransport, TransportError, type Transport, type TransportErrorKind } from "./transport";

interface TestServer {
  url: string;
  port: number;
  /** TCP connections accepted so far. */
  connections: number;
  requests: http.IncomingMessage[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];
const transports: Transport[] = [];

afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close().catch(() => {})));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function startServer(handler: http.RequestListener): Promise<TestServer> {
  const server = http.createServer((req, res) => {
    state.requests.push(req);
    handler(req, res);
  });
  const state: TestServer = {
    url: "",
    port: 0,
    connections: 0,
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on("connection", () => (state.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}`;
  servers.push(state);
  return state;
}

function transport(options: Parameters<typeof createTransport>[0] = {}): Transport {
  const t = createTransport(options);
  transports.push(t);
  return t;
}

async function expectTransportError(promise: Promise<unknown>, kind: TransportErrorKind): Promise<TransportError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TransportError);
  expect((error as TransportError).kind).toBe(kind);
  return error as TransportError;
}

/** Reads a body until it ends or fails; returns the chunks read and the failure. */
async function drain(body: ReadableStream<Uint8Array>): Promise<{ chunks: string[]; error: unknown }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const chunks: string[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { chunks, error: null };
      chunks.push(decoder.decode(value));
    }
  } catch (error) {
    return { chunks, error };
  }
}

const table =
  (entries: Record<string, string>): Resolver =>
  async (hostname) => {
    const address = entries[hostname];
    if (!address) throw Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" });
    return [{ address, family: 4 }];
  };

describe("transport: requests and responses", () => {
  it("sends method, headers and body, and exposes status, headers, text and json", async () => {
    const server = await startServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        res.setHeader("set-cookie", ["a=1", "b=2"]);
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ method: req.method, url: req.url, auth: req.headers.authorization, body }));
      });
    });
    const t = transport();
    const res = await t.request({
      url: `${server.url}/v1/chat/completions?api-version=1`,
      headers: new Headers({ authorization: "Bearer sk-test" }),
      body: JSON.stringify({ hello: "world" }),
      allowPrivate: true,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await res.json()).toEqual({
      method: "POST",
      url: "/v1/chat/completions?api-version=1",
      auth: "Bearer sk-test",
      body: '{"hello":"world"}',
    });
    const get = await t.request({ url: `${server.url}/v1/models`, allowPrivate: true });
    expect(await get.json()).toMatchObject({ method: "GET", url: "/v1/models", body: "" });
  });

  it("passes HTTP error statuses through for the caller to interpret", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(429, { "retry-after": "2" });
      res.end('{"error":{"message":"slow down"}}');
    });
    const res = await transport().request({ url: server.url, allowPrivate: true });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("2");
    expect(await res.text()).toBe('{"error":{"message":"slow down"}}');
  });

  it("streams the body chunk by chunk", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: 1\n\n");
      setImmediate(() => res.end("data: 2\n\n"));
    });
    const res = await transport().request({ url: server.url, allowPrivate: true });
    const { chunks, error } = await drain(res.body);
    expect(error).toBeNull();
    expect(chunks.join("")).toBe("data: 1\n\ndata: 2\n\n");
  });

  it("reuses keep-alive connections for sequential requests to one origin", async () => {
    const server = await startServer((_req, res) => res.end("ok"));
    const t = transport();
    for (let i = 0; i < 10; i++) {
      const res = await t.request({ url: `${server.url}/n/${i}`, allowPrivate: true });
      expect(await res.text()).toBe("ok");
    }
    expect(server.requests).toHaveLength(10);
    // undici's pool opens a second connection for the second request (the first is still marked busy while it
    // finishes its first response); from then on every request reuses one of the two.
    expect(server.connections).toBeLessThanOrEqual(2);
  });

  it("refuses redirects without following them", async () => {
    const target = await startServer((_req, res) => res.end("moved here"));
    const server = await startServer((_req, res) => {
      res.writeHead(302, { location: `${target.url}/elsewhere` });
      res.end();
    });
    const error = await expectTransportError(
      transport().request({ url: `${server.url}/v1?key=sk-secret-query`, allowPrivate: true }),
      "redirect",
    );
    expect(error.details.status).toBe(302);
    expect(error.message).not.toContain("sk-secret-query");
    expect(target.requests).toHaveLength(0);
  });

  it("fails with a connection error when nothing listens, without the query or path in the message", async () => {
    const server = await startServer((_req, res) => res.end());
    const { port } = server;
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    const error = await expectTransportError(
      transport().request({ url: `http://127.0.0.1:${port}/secret-path?key=AIzaSecretKey`, allowPrivate: true }),
      "connection",
    );
    expect(error.details.code).toBe("ECONNREFUSED");
    expect(error.message).toBe(`connection to 127.0.0.1:${port} failed (ECONNREFUSED)`);
  });

  it("refuses requests after close", async () => {
    const t = transport();
    await t.close();
    await expectTransportError(t.request({ url: "http://127.0.0.1:1/", allowPrivate: true }), "connection");
  });
});

describe("transport: timeouts", () => {
  it("times out the connection (name resolution included)", async () => {
    const hang: Resolver = () => new Promise(() => {});
    const error = await expectTransportError(
      transport({ resolve: hang }).request({ url: "http://slow-dns.test/", timeouts: { connectMs: 150 }, allowPrivate: true }),
      "timeout_connect",
    );
    expect(error.message).toBe("connecting to slow-dns.test timed out after 150 ms");
  });

  it("times out waiting for the first byte", async () => {
    const server = await startServer(() => {});
    await expectTransportError(
      transport().request({ url: `${server.url}/?key=k`, timeouts: { firstByteMs: 150 }, allowPrivate: true }),
      "timeout_first_byte",
    );
  });

  it("times out a body that stalls mid-stream", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200);
      res.write("first");
    });
    const res = await transport().request({ url: server.url, timeouts: { idleMs: 150 }, allowPrivate: true });
    const { chunks, error } = await drain(res.body);
    expect(chunks.join("")).toBe("first");
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).kind).toBe("timeout_idle");
  });

  it("enforces the total deadline on a body that keeps trickling", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write("."), 20);
      res.on("close", () => clearInterval(timer));
    });
    const res = await transport().request({ url: server.url, timeouts: { totalMs: 300, idleMs: 5_000 }, allowPrivate: true });
    const { chunks, error } = await drain(res.body);
    expect(chunks.length).toBeGreaterThan(0);
    expect((error as TransportError).kind).toBe("timeout_total");
  });

  it("enforces the total deadline on a body nobody reads, freeing the connection", async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const server = await startServer((_req, res) => {
      res.writeHead(200);
      res.write("unread");
      res.on("close", upstreamClosed);
    });
    const res = await transport().request({ url: server.url, timeouts: { totalMs: 200 }, allowPrivate: true });
    await closed;
    const { error } = await drain(res.body);
    expect((error as TransportError).kind).toBe("timeout_total");
  });

  it("enforces the total deadline before the headers too", async () => {
    const server = await startServer(() => {});
    await expectTransportError(
      transport().request({ url: server.url, timeouts: { totalMs: 200, firstByteMs: 10_000 }, allowPrivate: true }),
      "timeout_total",
    );
  });
});

describe("transport: client abort", () => {
  it("aborts a streaming upstream request within 1 s of the client's abort", async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const server = await startServer((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write("token "), 20);
      res.on("close", () => {
        clearInterval(timer);
        upstreamClosed();
      });
    });
    const client = new AbortController();
    const res = await transport().request({ url: server.url, signal: client.signal, allowPrivate: true });
    const reader = res.body.getReader();
    expect((await reader.read()).done).toBe(false);
    const abortedAt = performance.now();
    client.abort();
    await closed;
    expect(performance.now() - abortedAt).toBeLessThan(1_000);
    const failure = await reader.read().then(
      () => reader.read(),
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(TransportError);
    expect((failure as TransportError).kind).toBe("aborted");
  });

  it("aborts while waiting for headers, and refuses an already-aborted signal without connecting", async () => {
    const server = await startServer(() => {});
    const client = new AbortController();
    const pending = transport().request({ url: server.url, signal: client.signal, allowPrivate: true });
    while (server.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const abortedAt = performance.now();
    client.abort();
    await expectTransportError(pending, "aborted");
    expect(performance.now() - abortedAt).toBeLessThan(1_000);

    const other = await startServer((_req, res) => res.end());
    await expectTransportError(
      transport().request({ url: other.url, signal: AbortSignal.abort(), allowPrivate: true }),
      "aborted",
    );
    expect(other.connections).toBe(0);
  });

  it("closes the upstream connection when the consumer cancels the body", async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const server = await startServer((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write("x"), 20);
      res.on("close", () => {
        clearInterval(timer);
        upstreamClosed();
      });
    });
    const res = await transport().request({ url: server.url, allowPrivate: true });
    await res.body.cancel();
    await closed;
  });
});

describe("transport: SSRF guard", () => {
  it("refuses a loopback literal unless allowPrivate, without connecting", async () => {
    const server = await startServer((_req, res) => res.end("ok"));
    const t = transport();
    const error = await expectTransportError(t.request({ url: `${server.url}/v1?key=sk-abc` }), "ssrf_blocked");
    expect(error.details.ssrfReason).toBe("loopback");
    expect(error.message).not.toContain("sk-abc");
    expect(await (await t.request({ url: server.url, allowPrivate: true })).text()).toBe("ok");
    expect(server.connections).toBe(1);
  });

  it("refuses at connect a name that re-resolves to a private address (DNS rebinding)", async () => {
    const server = await startServer((_req, res) => res.end("ok"));
    let calls = 0;
    const rebinding: Resolver = async () => [{ address: calls++ === 0 ? "93.184.216.34" : "127.0.0.1", family: 4 }];
    const base = `http://rebind.test:${server.port}/v1`;
    expect(await checkBaseUrl(base, { resolve: rebinding })).toEqual({ ok: true });
    const t = transport({ resolve: rebinding });
    const error = await expectTransportError(t.request({ url: base }), "ssrf_blocked");
    expect(error.details.ssrfReason).toBe("loopback");
    expect(error.message).toContain("rebind.test resolves to a refused address");
    // Any connection the refused request had made would have been accepted before this one.
    expect(await (await t.request({ url: server.url, allowPrivate: true })).text()).toBe("ok");
    expect(server.connections).toBe(1);
  });

  it("connects to a name resolving to a private address with allowPrivate", async () => {
    const server = await startServer((_req, res) => res.end("self-hosted"));
    const t = transport({ resolve: table({ "vllm.internal": "127.0.0.1" }) });
    const res = await t.request({ url: `http://vllm.internal:${server.port}/v1/models`, allowPrivate: true });
    expect(await res.text()).toBe("self-hosted");
  });

  it("refuses metadata addresses and names even with allowPrivate", async () => {
    const t = transport({ resolve: table({ "innocent.test": "169.254.169.254" }) });
    const literal = await expectTransportError(
      t.request({ url: "http://169.254.169.254/latest/meta-data/", allowPrivate: true }),
      "ssrf_blocked",
    );
    expect(literal.details.ssrfReason).toBe("metadata");
    const named = await expectTransportError(t.request({ url: "http://innocent.test/", allowPrivate: true }), "ssrf_blocked");
    expect(named.details.ssrfReason).toBe("metadata");
    const google = await expectTransportError(
      t.request({ url: "http://metadata.google.internal/computeMetadata/v1/", allowPrivate: true }),
      "ssrf_blocked",
    );
    expect(google.details.ssrfReason).toBe("metadata");
  });

  it("refuses non-http schemes and URL credentials", async () => {
    const t = transport();
    expect((await expectTransportError(t.request({ url: "file:///etc/passwd" }), "ssrf_blocked")).details.ssrfReason).toBe("scheme");
    const creds = await expectTransportError(t.request({ url: "https://user:hunter2@api.example.com/" }), "ssrf_blocked");
    expect(creds.details.ssrfReason).toBe("credentials");
    expect(creds.message).not.toContain("hunter2");
  });
});

describe("createGuardedConnector (undici connect option)", () => {
  const connect = (allowPrivate: boolean, port: number) =>
    new Promise<{ error: Error | null; connected: boolean }>((resolve) => {
      createGuardedConnector({ allowPrivate })({ hostname: "127.0.0.1", protocol: "http:", port: String(port) }, (error, socket) => {
        socket?.destroy();
        resolve({ error, connected: socket !== null });
      });
    });

  it("refuses IP literals, which never reach a lookup hook", async () => {
    const server = await startServer((_req, res) => res.end());
    const refused = await connect(false, server.port);
    expect(refused.error).toBeInstanceOf(SsrfBlockedError);
    expect(refused.connected).toBe(false);
    const admitted = await connect(true, server.port);
    expect(admitted).toEqual({ error: null, connected: true });
    expect(server.connections).toBe(1);
  });
});
