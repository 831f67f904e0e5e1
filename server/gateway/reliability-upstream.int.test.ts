/**
 * Reliability cases 8–17 (docs/reliability-cases.md, "Upstream faults") that the routing and chat suites leave open,
 * and case 23 at connect time through the gateway, through the real HTTP server. Upstreams: the simulator with fault injection, and a scripted OpenAI-protocol
 * server for wire shapes the simulator does not produce (SSE comment lines, explicit zero usage, a stream that ends
 * without [DONE]) and to watch the upstream socket close when the client leaves.
 *
 * The gateway's upstream transport waits 300 s for headers and 120 s between body chunks by default; so that the
 * first-byte and idle timeouts fire within a test, this file sets both to 1 s through their environment variables.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../providers/simulator";
import { checkBaseUrl, defaultResolver, type Resolver } from "../providers/ssrf";
import { callRow, chat, prompt, routingFixture, type ChatResult } from "../routing/testing";
import type { AttemptRecord } from "../routing/execute";
import { waitUntil } from "../state/store.contract";
import { SEEDED_PROVIDER_KEY, seedSimulatorProviders, startTestServer, type TestServer } from "../testing/harness";

const TIMEOUT_MS = 1_000;

/** A scripted OpenAI-protocol upstream: the behaviour is picked by a `[[up:NAME]]` tag in the last user message. */
interface Scripted {
  url: string;
  /** When the upstream socket of each request closed (ms since epoch), by tag. */
  closedAt: Map<string, number>;
  requests: number;
  close(): Promise<void>;
}

function chunk(delta: Record<string, unknown>, finish: string | null = null) {
  return `data: ${JSON.stringify({ id: "chatcmpl-scripted", object: "chat.completion.chunk", created: 1, model: "sim-small", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
}
function usageChunk(prompt: number, completion: number) {
  return `data: ${JSON.stringify({ id: "chatcmpl-scripted", object: "chat.completion.chunk", created: 1, model: "sim-small", choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } })}\n\n`;
}
const WORDS = ["Hello", " there,", " this", " is", " a", " scripted", " answer", " with", " several", " words."];

async function startScripted(): Promise<Scripted> {
  const closedAt = new Map<string, number>();
  const state = { requests: 0 };
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (d) => (raw += d));
    req.on("end", () => {
      state.requests += 1;
      const body = JSON.parse(raw) as { stream?: boolean; messages: Array<{ content: string }> };
      const tag = /\[\[up:([\w-]+)\]\]/.exec(JSON.stringify(body.messages))?.[1] ?? "plain";
      res.on("close", () => closedAt.set(tag, Date.now()));
      const sse = () => res.writeHead(200, { "content-type": "text/event-stream" });
      switch (tag) {
        case "comments": // comment lines, keep-alives, an empty data line and a foreign event: all skipped
          sse();
          res.write(": OPENROUTER PROCESSING\n\n");
          res.write(chunk({ role: "assistant", content: "" }));
          res.write(": keep-alive\n\n");
          for (const w of WORDS) res.write(chunk({ content: w }) + ": ping\n\n");
          res.write("data: \n\n");
          res.write(chunk({}, "stop"));
          res.write(usageChunk(12, 10));
          res.end("data: [DONE]\n\n");
          return;
        case "no-done": // a complete answer whose stream ends without [DONE]
          sse();
          for (const w of WORDS) res.write(chunk({ content: w }));
          res.write(chunk({}, "stop"));
          res.end(usageChunk(12, 10));
          return;
        case "zero-usage": // the provider explicitly reports zero tokens (e.g. a free or refunded call)
          if (!body.stream) {
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify({ id: "chatcmpl-zero", object: "chat.completion", created: 1, model: "sim-small", choices: [{ index: 0, message: { role: "assistant", content: WORDS.join("") }, finish_reason: "stop" }], usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } }));
            return;
          }
          sse();
          for (const w of WORDS) res.write(chunk({ content: w }));
          res.write(chunk({}, "stop"));
          res.write(usageChunk(0, 0));
          res.end("data: [DONE]\n\n");
          return;
        case "hang": // accepts the request and never answers
          return;
        case "redirect": // sends the gateway elsewhere (nothing listens there: a followed redirect fails to connect)
          res.writeHead(307, { location: "http://127.0.0.1:1/v1/chat/completions" }).end();
          return;
        case "stall": // three words, then silence with the socket open
          sse();
          for (const w of WORDS.slice(0, 3)) res.write(chunk({ content: w }));
          return;
        case "usage-then-stall": // the answer with its usage (before the finish chunk), then silence before [DONE]
          sse();
          for (const w of WORDS) res.write(chunk({ content: w }));
          res.write(usageChunk(7, 4));
          res.write(chunk({}, "stop"));
          return;
        default:
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ id: "chatcmpl-plain", object: "chat.completion", created: 1, model: "sim-small", choices: [{ index: 0, message: { role: "assistant", content: "plain" }, finish_reason: "stop" }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    closedAt,
    get requests() {
      return state.requests;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** DNS for the suite's server: one name answers a public address once, then loopback (rebinding); others as usual. */
const REBIND_HOST = "rebind.switchyard.test";
let rebindLookups = 0;
const rebindingResolver: Resolver = async (hostname) =>
  hostname === REBIND_HOST ? [{ address: rebindLookups++ === 0 ? "93.184.216.34" : "127.0.0.1", family: 4 }] : defaultResolver(hostname);

describe("reliability: upstream faults", () => {
  let rebindUrl: string;
  let sim: Simulator;
  let scripted: Scripted;
  let app: TestServer;
  let key: string;
  let fixture: ReturnType<typeof routingFixture>;

  beforeAll(async () => {
    sim = await startSimulator();
    scripted = await startScripted();
    app = await startTestServer(
      { SWITCHYARD_UPSTREAM_FIRST_BYTE_TIMEOUT_MS: String(TIMEOUT_MS), SWITCHYARD_UPSTREAM_IDLE_TIMEOUT_MS: String(TIMEOUT_MS) },
      { resolve: rebindingResolver },
    );
    const seeded = await seedSimulatorProviders(app, sim.url);
    key = seeded.key;
    fixture = routingFixture(app, seeded.tenant.orgId);
    const db = app.rt.db.prisma;
    const data = (name: string, baseUrl: string, allowPrivate = true) => ({ orgId: seeded.tenant.orgId, name, kind: "simulator", baseUrl, allowPrivate, config: { protocol: "openai" } });
    await db.provider.create({ data: data("scripted", `${scripted.url}/openai/v1`) });
    // Name resolution fails (.invalid never resolves), and a TLS handshake against a plain-HTTP port fails.
    await db.provider.create({ data: data("no-dns", "http://switchyard-reliability.invalid/openai/v1", false) });
    await db.provider.create({ data: data("bad-tls", `${sim.url.replace("http:", "https:")}/openai/v1`) });
    // Saved around the save-time check (as a row written before an upgrade would be): loopback without allowPrivate.
    await db.provider.create({ data: data("sneaky-loopback", `${sim.url}/openai/v1`, false) });
    // A public-looking name that resolved to a public address when it was saved, and to loopback ever since.
    rebindUrl = `http://${REBIND_HOST}:${new URL(sim.url).port}/openai/v1`;
    await db.provider.create({ data: data("rebinding", rebindUrl, false) });
    await fixture.refresh();
  });
  afterAll(async () => {
    await app?.dispose();
    await sim?.close();
    await scripted?.close();
  });
  beforeEach(() => sim.reset());

  const ask = (model: string, extra: Record<string, unknown> = {}) => chat(app, key, { model, messages: [{ role: "user", content: prompt() }], ...extra });
  /** A priced simulator model of its own (faults and breaker state never cross tests), as "sim-openai/<id>". */
  const freshModel = async (name: string) => (await fixture.scenario([{ name }], (m) => ({ targets: [m.target(0)] }))).ref(0);
  const attemptsOf = async (result: ChatResult) => (await callRow(app, result)).attempts as unknown as AttemptRecord[];
  const noSecrets = (text: string) => {
    expect(text).not.toContain(SEEDED_PROVIDER_KEY);
    expect(text).not.toContain(sim.url.replace("http://", ""));
    expect(text).not.toContain(scripted.url.replace("http://", ""));
    expect(text).not.toContain("/openai/v1");
  };

  describe("case 8: context length and content policy", () => {
    it("never retries a content-policy refusal on the same model, and answers it as a 400", async () => {
      sim.faults.add({ fault: "content_filter", on: "prompt", protocol: "openai", times: "always" });
      const model = await freshModel("rel-content");
      const res = await ask(model);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("content_filter");
      expect(sim.count({ operation: "chat" })).toBe(1);
      expect((await attemptsOf(res)).map((a) => a.error ?? a.status)).toEqual(["content_filter"]);
    });
  });

  describe("case 9: 429 without Retry-After", () => {
    it("backs off a bounded number of times, then answers 429 with Retry-After", async () => {
      sim.faults.add({ fault: "rate_limit", protocol: "openai", times: "always" });
      const started = Date.now();
      const model = await freshModel("rel-429");
      const res = await ask(model);
      expect(res.status).toBe(429);
      expect(res.body.error.code).toBe("upstream_rate_limited");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(sim.count({ operation: "chat" })).toBe(2); // DEFAULT_RETRY.maxAttempts, never more
      const attempts = await attemptsOf(res);
      expect(attempts.map((a) => a.error)).toEqual(["rate_limited", "rate_limited"]);
      expect(attempts[1]!.waitedMs ?? 0).toBeLessThanOrEqual(100); // full jitter under the 100 ms base delay
      expect(Date.now() - started).toBeLessThan(3_000);
    });
  });

  describe("case 9: 429 with a Retry-After beyond what the policy waits", () => {
    it("answers the calls that follow with 429 and the remaining Retry-After, sending nothing upstream until it passes", async () => {
      sim.faults.add({ fault: "rate_limit", protocol: "openai", retryAfterSeconds: 30, times: "always" });
      const model = await freshModel("rel-429-cooling");
      const first = await ask(model);
      expect(first.status).toBe(429);
      expect(first.body.error.code).toBe("upstream_rate_limited");
      expect(sim.count({ operation: "chat" })).toBe(1); // 30 s is beyond maxRetryAfterMs: no retry
      for (let i = 0; i < 5; i++) {
        const next = await ask(model);
        expect(next.status).toBe(429);
        expect(next.body.error.code).toBe("upstream_rate_limited");
        const retryAfter = Number(next.headers.get("retry-after"));
        expect(retryAfter).toBeGreaterThanOrEqual(25);
        expect(retryAfter).toBeLessThanOrEqual(30);
        expect(await attemptsOf(next)).toEqual([]);
      }
      expect(sim.count({ operation: "chat" })).toBe(1); // never hammered
    });
  });

  describe("case 10: one 500, then healthy", () => {
    it("logs one row whose cost is that of the successful attempt alone", async () => {
      const model = await freshModel("retry-cost");
      const text = "[[sim:tokens=20]] price this exact prompt once";
      const clean = await chat(app, key, { model, messages: [{ role: "user", content: text }] });
      expect(clean.status).toBe(200);
      sim.faults.add({ fault: "server_error", protocol: "openai", times: 1 });
      await app.rt.calls.flush();
      const before = await app.rt.db.prisma.call.count();
      const retried = await chat(app, key, { model, messages: [{ role: "user", content: text }] });
      expect(retried.status).toBe(200);
      expect(retried.headers.get("x-switchyard-attempts")).toBe("2");
      await app.rt.calls.flush();
      expect(await app.rt.db.prisma.call.count()).toBe(before + 1);
      const [cleanRow, retriedRow] = [await callRow(app, clean), await callRow(app, retried)];
      expect(Number(cleanRow.costUsd)).toBeGreaterThan(0);
      expect(retriedRow.costUsd.toString()).toBe(cleanRow.costUsd.toString());
      expect(retried.headers.get("x-switchyard-cost-usd")).toBe(clean.headers.get("x-switchyard-cost-usd"));
      expect(retriedRow.inputTokens).toBe(cleanRow.inputTokens);
      expect((retriedRow.attempts as unknown as AttemptRecord[]).map((a) => a.error ?? a.status)).toEqual(["server_error", 200]);
    });
  });

  describe("case 12: connection failures", () => {
    it("retries a reset before the headers on the same target", async () => {
      sim.faults.add({ fault: "reset", protocol: "openai", times: 1 });
      const model = await freshModel("rel-reset-once");
      const res = await ask(model);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-switchyard-target")).toBe(model);
      expect((await attemptsOf(res)).map((a) => `${a.error ?? a.status}:${a.reason}`)).toEqual(["connection:first", "200:retry"]);
    });

    it("answers 502 naming the provider, never its URL or key, when resets, DNS or TLS keep failing", async () => {
      sim.faults.add({ fault: "reset", protocol: "openai", times: "always" });
      for (const [model, provider] of [
        [await freshModel("reset-all"), "sim-openai"],
        ["no-dns/sim-small", "no-dns"],
        ["bad-tls/sim-small", "bad-tls"],
      ] as const) {
        const res = await ask(model);
        const text = JSON.stringify(res.body);
        expect(res.status, `${model}: ${text}`).toBe(502);
        expect(res.body.error.code).toBe("upstream_error");
        expect(res.body.error.message).toContain(`'${provider}'`);
        noSecrets(text);
        expect(text).not.toContain("switchyard-reliability.invalid");
        const attempts = await attemptsOf(res);
        expect(attempts.map((a) => a.error)).toEqual(["connection", "connection"]); // retried once: nothing was sent
      }
      noSecrets(app.logs.text().split("\n").filter((l) => l.includes('"status":502')).join("\n"));
    });
  });

  describe("case 23: a provider URL refused at connect", () => {
    it("answers 502 provider_blocked without connecting, for a loopback URL the admin did not allow", async () => {
      const res = await ask("sneaky-loopback/sim-small");
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe("provider_blocked");
      expect(res.body.error.message).toContain("'sneaky-loopback'");
      noSecrets(JSON.stringify(res.body));
      expect(sim.count()).toBe(0);
      expect((await attemptsOf(res)).map((a) => [a.provider, a.status, a.error])).toEqual([["sneaky-loopback", 0, "provider_blocked"]]);
    });
  });

  describe("case 23: a refused provider in a chain", () => {
    it("is recorded and passed over: the next target answers, nothing reaches the refused address", async () => {
      const s = await fixture.scenario([{ name: "blocked", provider: "sneaky-loopback" }, { name: "ok" }], (m) => ({ targets: [m.target(0), m.target(1)] }));
      const res = await ask(s.policy);
      expect(res.status).toBe(200);
      expect((await attemptsOf(res)).map((a) => [a.provider, a.status, a.error ?? null])).toEqual([
        ["sneaky-loopback", 0, "provider_blocked"],
        ["sim-openai", 200, null],
      ]);
      expect(sim.count({ operation: "chat" })).toBe(1); // the answering target's call only
    });

    it("answers 503 naming the refused provider when the rest of the chain fails too", async () => {
      const s = await fixture.scenario([{ name: "blocked", provider: "sneaky-loopback" }, { name: "down" }], (m) => ({
        targets: [m.target(0), m.target(1)],
        retry: { maxAttempts: 1 },
      }));
      sim.faults.add({ fault: "server_error", protocol: "openai", model: s.models[1], times: "always" });
      const res = await ask(s.policy);
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe("no_available_target");
      expect(res.body.error.message).toContain(`sneaky-loopback/${s.models[0]}: provider blocked`);
      noSecrets(JSON.stringify(res.body));
    });
  });

  describe("case 23: a provider host that re-resolves to a private address (DNS rebinding)", () => {
    it("passes the save-time check while public, then is refused at connect: 502 provider_blocked, nothing sent", async () => {
      // The check an admin's save runs (server/api/routers/providers.ts), with the server's own resolver.
      expect(await checkBaseUrl(rebindUrl, { resolve: app.rt.resolve })).toEqual({ ok: true });
      const res = await ask("rebinding/sim-small");
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe("provider_blocked");
      expect(res.body.error.message).toContain("'rebinding'");
      noSecrets(JSON.stringify(res.body));
      expect(JSON.stringify(res.body)).not.toContain("127.0.0.1");
      expect(sim.count()).toBe(0); // the simulator (on loopback, where the name now points) received nothing
      expect(rebindLookups).toBeGreaterThan(1); // resolved again at connect, not trusted from the save
      expect((await attemptsOf(res)).map((a) => [a.provider, a.status, a.error])).toEqual([["rebinding", 0, "provider_blocked"]]);
    });
  });

  describe("case 23: an upstream that redirects", () => {
    it("is not followed: 502 naming the provider and the redirect, every attempt to the configured URL only", async () => {
      const before = scripted.requests;
      const res = await ask("scripted/sim-small", { messages: [{ role: "user", content: "[[up:redirect]] where to?" }] });
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe("upstream_error");
      expect(res.body.error.message).toMatch(/'scripted' answered with a redirect, which is not followed/);
      expect(JSON.stringify(res.body)).not.toContain("127.0.0.1:1");
      const attempts = await attemptsOf(res);
      expect(attempts.length).toBeGreaterThanOrEqual(1);
      expect(attempts.every((a) => a.status === 307)).toBe(true);
      expect(scripted.requests - before).toBe(attempts.length); // one request per attempt, none sent elsewhere
    });
  });

  describe("case 13: an upstream that never answers", () => {
    it("times out at the first byte, retries once, and answers 504 within its budget", async () => {
      sim.faults.add({ fault: "timeout", protocol: "openai", times: "always" });
      const started = Date.now();
      const model = await freshModel("rel-silent");
      const res = await ask(model);
      const elapsed = Date.now() - started;
      expect(res.status).toBe(504);
      expect(res.body.error.code).toBe("upstream_timeout");
      expect(res.body.error.message).toContain("sim-openai");
      noSecrets(JSON.stringify(res.body));
      // Two attempts of ~1 s each (undici checks its timers on a ~0.5 s tick, so each may fire up to ~1 s late).
      expect(elapsed).toBeGreaterThanOrEqual(2 * TIMEOUT_MS - 100);
      expect(elapsed).toBeLessThan(8 * TIMEOUT_MS);
      expect(sim.count({ operation: "chat" })).toBe(2);
      expect(await callRow(app, res)).toMatchObject({ status: 504, errorClass: "upstream_timeout" });
    });

    it("answers a streamed request 504 too (nothing was sent yet), in the surface's envelope", async () => {
      sim.faults.add({ fault: "timeout", protocol: "openai", times: "always" });
      const model = await freshModel("rel-silent-stream");
      const res = await ask(model, { stream: true });
      expect(res.status).toBe(504);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(res.body.error.code).toBe("upstream_timeout");
      noSecrets(JSON.stringify(res.body));
      expect(sim.count({ operation: "chat" })).toBe(2);
      const anthropic = await fetch(`${app.url}/api/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json" },
        body: JSON.stringify({ model, stream: true, max_tokens: 20, messages: [{ role: "user", content: prompt() }] }),
      });
      expect(anthropic.status).toBe(504);
      expect(await anthropic.json()).toMatchObject({ type: "error", error: { code: "upstream_timeout" } });
      expect(await callRow(app, { headers: anthropic.headers })).toMatchObject({ status: 504, errorClass: "upstream_timeout", surface: "anthropic" });
    });

    it("fails over to the next target at the first-byte timeout", async () => {
      const s = await fixture.scenario([{ name: "silent" }, { name: "ok" }], (m) => ({ targets: [m.target(0), m.target(1)], retry: { maxAttempts: 1 } }));
      sim.faults.add({ fault: "timeout", model: s.models[0], times: "always" });
      const started = Date.now();
      const res = await ask(s.policy);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-switchyard-target")).toBe(s.ref(1));
      expect((await attemptsOf(res)).map((a) => a.error ?? a.status)).toEqual(["timeout", 200]);
      expect(Date.now() - started).toBeLessThan(5 * TIMEOUT_MS);
    });
  });

  describe("case 14: a stream cut mid-answer", () => {
    it("ends with an SSE error event and no [DONE]; the row is partial and billed for what was used", async () => {
      const model = await freshModel("cut");
      sim.faults.add({ fault: "stream_cut", protocol: "openai", afterChunks: 4, times: 1 });
      const res = await ask(model, { stream: true, messages: [{ role: "user", content: prompt("[[sim:tokens=80]] a long story") }] });
      expect(res.status).toBe(200);
      const events = sseData(res.body);
      expect(events.some((e) => typeof e === "object" && e !== null && "choices" in e)).toBe(true);
      expect(events.at(-1)).toMatchObject({ error: { code: "upstream_stream_error", type: "api_error" } });
      expect(res.body).not.toContain("[DONE]");
      const row = await callRow(app, res);
      expect(row).toMatchObject({ streamed: true, partial: true, estimated: true, errorClass: "upstream_stream_error" });
      expect(row.inputTokens).toBeGreaterThan(0);
      expect(row.outputTokens).toBeGreaterThan(0);
      expect(row.outputTokens).toBeLessThan(80);
      expect(Number(row.costUsd)).toBeGreaterThan(0);
    });
  });

  describe("case 14 on the other surfaces", () => {
    it("ends a cut Anthropic stream with an error event and no message_stop, and a Responses stream with response.failed", async () => {
      const model = await freshModel("cut-surfaces");
      const post = async (path: string, body: Record<string, unknown>) => {
        const res = await fetch(`${app.url}/api/v1${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ model, stream: true, ...body }),
        });
        return { status: res.status, headers: res.headers, text: await res.text() };
      };
      sim.faults.add({ fault: "stream_cut", protocol: "openai", afterChunks: 4, times: 1 });
      const anthropic = await post("/messages", { max_tokens: 200, messages: [{ role: "user", content: prompt("[[sim:tokens=80]] story") }] });
      expect(anthropic.status).toBe(200);
      expect(anthropic.text).toContain("event: content_block_delta");
      expect(anthropic.text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"[a-z_]+","message":"[^"]+"\}\}\n\n$/);
      expect(anthropic.text).not.toContain("message_stop");
      expect(await callRow(app, anthropic)).toMatchObject({ partial: true, streamed: true, surface: "anthropic" });

      sim.faults.add({ fault: "stream_cut", protocol: "openai", afterChunks: 4, times: 1 });
      const responses = await post("/responses", { input: prompt("[[sim:tokens=80]] story") });
      expect(responses.status).toBe(200);
      expect(responses.text).toContain("event: response.output_text.delta");
      expect(responses.text).toContain("event: response.failed");
      expect(responses.text).not.toContain("response.completed");
      expect(await callRow(app, responses)).toMatchObject({ partial: true, streamed: true });
    });
  });

  describe("cases 14, 15 and 16 with Anthropic- and Gemini-protocol upstreams", () => {
    // Their streams report usage before the answer is complete: Anthropic's message_start carries the input and a
    // placeholder output count (1), Gemini's chunks carry the prompt count and no candidate count until the last.
    // A stream that ends early must still be billed for the text the client received.
    const deliveredText = (body: string) =>
      sseData(body)
        .map((e) => (e as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta?.content ?? "")
        .join("");
    for (const [protocol, model] of [["anthropic", "sim-anthropic/sim-claude"], ["gemini", "sim-gemini/sim-small"]] as const) {
      it(`ends a stream cut, stalled or malformed mid-answer with an error and bills its delivered tokens (${protocol}-protocol upstream)`, async () => {
        for (const fault of ["stream_cut", "stream_stall", "malformed_chunk"] as const) {
          sim.faults.add({ fault, protocol, afterChunks: 12, times: 1 });
          const res = await ask(model, { stream: true, messages: [{ role: "user", content: prompt("[[sim:tokens=80]] a long story") }] });
          expect(res.status).toBe(200);
          expect(res.body).not.toContain("[DONE]");
          expect(sseData(res.body).at(-1), `${protocol} ${fault}`).toMatchObject({ error: { code: fault === "stream_stall" ? "upstream_timeout" : "upstream_stream_error" } });
          const words = deliveredText(res.body).split(/\s+/).filter(Boolean).length;
          expect(words, `${protocol} ${fault}: some text was delivered`).toBeGreaterThanOrEqual(4);
          const row = await callRow(app, res);
          expect(row, `${protocol} ${fault}`).toMatchObject({ streamed: true, partial: true, estimated: true });
          expect(row.inputTokens).toBeGreaterThan(0);
          expect(row.outputTokens, `${protocol} ${fault}: billed output`).toBeGreaterThanOrEqual(words);
          expect(row.outputTokens).toBeLessThan(80);
        }
      });
    }
  });

  describe("case 15: a stream that stalls", () => {
    it("ends with an idle-timeout error event, closes the connection, and the next request is fine", async () => {
      const model = await freshModel("stall");
      sim.faults.add({ fault: "stream_stall", protocol: "openai", afterChunks: 3, times: 1 });
      const started = Date.now();
      const res = await ask(model, { stream: true, messages: [{ role: "user", content: prompt("[[sim:tokens=50]] stall") }] });
      const elapsed = Date.now() - started;
      expect(res.status).toBe(200);
      const events = sseData(res.body); // the body ended: our side closed the stream
      expect(events.at(-1)).toMatchObject({ error: { code: "upstream_timeout" } });
      expect(res.body).not.toContain("[DONE]");
      expect(elapsed).toBeLessThan(8 * TIMEOUT_MS);
      expect(await callRow(app, res)).toMatchObject({ streamed: true, partial: true, errorClass: "upstream_timeout" });

      const next = await ask(model, { stream: true });
      expect(next.status).toBe(200);
      expect(next.body).toContain("data: [DONE]");
    });
  });

  describe("case 15 on the other surfaces", () => {
    it("ends a stalled Anthropic stream with an error event and a Responses stream with response.failed, then serves the next", async () => {
      const post = async (path: string, body: Record<string, unknown>) => {
        const res = await fetch(`${app.url}/api/v1${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "scripted/sim-small", stream: true, ...body }),
        });
        return { status: res.status, headers: res.headers, text: await res.text() }; // ends only if our side closes it
      };
      const anthropic = await post("/messages", { max_tokens: 100, messages: [{ role: "user", content: prompt("[[up:stall]]") }] });
      expect(anthropic.status).toBe(200);
      expect(anthropic.text).toContain("event: content_block_delta");
      expect(anthropic.text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"[a-z_]+","message":"[^"]+"\}\}\n\n$/);
      expect(anthropic.text).not.toContain("message_stop");
      expect(await callRow(app, anthropic)).toMatchObject({ partial: true, streamed: true, surface: "anthropic", errorClass: "upstream_timeout" });

      const responses = await post("/responses", { input: prompt("[[up:stall]]") });
      expect(responses.status).toBe(200);
      expect(responses.text).toContain("event: response.output_text.delta");
      expect(responses.text).toContain("event: response.failed");
      expect(responses.text).not.toContain("response.completed");
      expect(await callRow(app, responses)).toMatchObject({ partial: true, streamed: true, errorClass: "upstream_timeout" });

      const next = await post("/messages", { max_tokens: 100, messages: [{ role: "user", content: prompt("[[up:comments]]") }] });
      expect(next.text).toContain("event: message_stop");
    });
  });

  describe("case 16: odd stream framing", () => {
    it("skips comment lines, keep-alives and empty data lines", async () => {
      const res = await ask("scripted/sim-small", { stream: true, messages: [{ role: "user", content: prompt("[[up:comments]]") }] });
      expect(res.status).toBe(200);
      const events = sseData(res.body);
      const text = events.map((e) => (e as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta?.content ?? "").join("");
      expect(text).toBe(WORDS.join(""));
      expect(res.body).toContain("data: [DONE]");
      expect(res.body).not.toContain("keep-alive");
      expect(await callRow(app, res)).toMatchObject({ partial: false, status: 200, inputTokens: 12, outputTokens: 10, estimated: false });
    });

    it("ends a stream that stops without [DONE] with an error event, never a clean finish, and stays healthy", async () => {
      const res = await ask("scripted/sim-small", { stream: true, messages: [{ role: "user", content: prompt("[[up:no-done]]") }] });
      expect(res.status).toBe(200);
      const events = sseData(res.body);
      expect(events.at(-1)).toMatchObject({ error: { code: "upstream_stream_error" } });
      expect(res.body).not.toContain("[DONE]");
      expect(await callRow(app, res)).toMatchObject({ partial: true, errorClass: "upstream_stream_error", outputTokens: 10 });
      expect((await ask("scripted/sim-small")).status).toBe(200);
    });

    it("answers a truncated JSON body with a 502 after a retry, never a 500", async () => {
      const model = await freshModel("truncated");
      sim.faults.add({ fault: "malformed_chunk", protocol: "openai", stream: false, times: "always" });
      const res = await ask(model);
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe("upstream_error");
      expect(res.body.error.message).toMatch(/malformed response/);
      expect(sim.count({ operation: "chat" })).toBe(2);
      sim.faults.clear();
      expect((await ask(await freshModel("after-truncated"))).status).toBe(200);
    });
  });

  describe("case 17: client disconnects", () => {
    // A server of its own with the default upstream timeouts (minutes): with this file's 1 s timeouts the upstream
    // socket would close ~1.5 s after the abort even if the abort never reached it, too close to the 1 s bound.
    let calm: TestServer;
    let calmKey: string;
    beforeAll(async () => {
      calm = await startTestServer();
      const seeded = await seedSimulatorProviders(calm, sim.url);
      calmKey = seeded.key;
      await calm.rt.db.prisma.provider.create({
        data: { orgId: seeded.tenant.orgId, name: "scripted", kind: "simulator", baseUrl: `${scripted.url}/openai/v1`, allowPrivate: true, config: { protocol: "openai" } },
      });
      await routingFixture(calm, seeded.tenant.orgId).refresh();
    });
    afterAll(() => calm?.dispose());

    /** Starts a call (streamed unless `stream` is false), reads `frames` SSE frames (0: none, the headers may not even have come), then aborts. */
    async function abandon(tag: string, frames: number, path: "/chat/completions" | "/messages" | "/responses" = "/chat/completions", stream = true) {
      const [app, key] = [calm, calmKey];
      const controller = new AbortController();
      const before = await app.rt.db.prisma.call.count();
      const seen = scripted.requests;
      const text = prompt(`[[up:${tag}]] please`);
      const body = path === "/responses" ? { input: text } : { max_tokens: 100, messages: [{ role: "user", content: text }] };
      const pending = fetch(`${app.url}/api/v1${path}`, {
        method: "POST",
        signal: controller.signal,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "scripted/sim-small", stream, ...body }),
      });
      if (frames === 0) {
        await waitUntil(() => scripted.requests > seen, 2_000); // the upstream has the prompt
      } else {
        const reader = (await pending).body!.getReader();
        let text = "";
        while ((text.match(/\n\n/g) ?? []).length < frames) text += new TextDecoder().decode((await reader.read()).value);
      }
      scripted.closedAt.delete(tag);
      const abortedAt = Date.now();
      controller.abort();
      await pending.catch(() => {});
      await waitUntil(() => scripted.closedAt.has(tag), 2_000);
      const closedAfter = scripted.closedAt.get(tag)! - abortedAt;
      await waitUntil(async () => {
        await app.rt.calls.flush();
        return (await app.rt.db.prisma.call.count()) > before;
      }, 3_000);
      const row = (await app.rt.db.prisma.call.findMany({ orderBy: { createdAt: "desc" }, take: 1 }))[0]!;
      return { closedAfter, row };
    }

    it("before the first token: the upstream request is aborted within 1 s and the row says 499", async () => {
      const { closedAfter, row } = await abandon("hang", 0);
      expect(closedAfter).toBeLessThan(1_000);
      // Logged as the streamed request it was, although no stream was opened.
      expect(row).toMatchObject({ status: 499, errorClass: "client_closed_request", streamed: true, partial: false });
      // The upstream had the prompt: its input tokens are billed (estimated), as for a non-streamed cancel.
      expect(row).toMatchObject({ estimated: true });
      expect(row.inputTokens).toBeGreaterThan(0);
      expect(Number(row.costUsd)).toBeGreaterThan(0);
    });

    it("after the first token: aborted within 1 s, billed for the input plus the delivered tokens (estimated)", async () => {
      const { closedAfter, row } = await abandon("stall", 2);
      expect(closedAfter).toBeLessThan(1_000);
      expect(row).toMatchObject({ status: 499, partial: true, streamed: true, estimated: true, errorClass: "client_closed_request" });
      expect(row.inputTokens).toBeGreaterThan(0);
      expect(row.outputTokens).toBeGreaterThan(0);
      expect(row.outputTokens).toBeLessThan(10);
      expect(Number(row.costUsd)).toBeGreaterThan(0);
    });

    it("a non-streamed call: the upstream request is aborted within 1 s, the row says 499 and bills the input", async () => {
      for (const path of ["/chat/completions", "/messages"] as const) {
        const { closedAfter, row } = await abandon("hang", 0, path, false);
        expect(closedAfter, path).toBeLessThan(1_000);
        expect(row, path).toMatchObject({ status: 499, errorClass: "client_closed_request", estimated: true, streamed: false });
        expect(row.inputTokens, path).toBeGreaterThan(0);
      }
    });

    it("on the Anthropic and Responses surfaces too: aborted within 1 s, billed for the input plus the delivered tokens", async () => {
      // Anthropic: message_start, content_block_start, then a text delta. Responses: created, in_progress, item and
      // part added, then a text delta.
      for (const [path, frames] of [["/messages", 3], ["/responses", 5]] as const) {
        const { closedAfter, row } = await abandon("stall", frames, path);
        expect(closedAfter, path).toBeLessThan(1_000);
        expect(row, path).toMatchObject({ status: 499, partial: true, streamed: true, estimated: true, errorClass: "client_closed_request" });
        expect(row.inputTokens, path).toBeGreaterThan(0);
        expect(row.outputTokens, path).toBeGreaterThan(0);
        expect(Number(row.costUsd), path).toBeGreaterThan(0);
      }
      const { closedAfter, row } = await abandon("hang", 0, "/messages");
      expect(closedAfter).toBeLessThan(1_000);
      expect(row).toMatchObject({ status: 499, errorClass: "client_closed_request", surface: "anthropic" });
    });

    it("from an Anthropic-protocol upstream (usage reported at the start): billed for the delivered tokens, not the placeholder", async () => {
      sim.faults.add({ fault: "stream_stall", protocol: "anthropic", afterChunks: 12, times: 1 });
      const controller = new AbortController();
      const before = await calm.rt.db.prisma.call.count();
      const res = await fetch(`${calm.url}/api/v1/chat/completions`, {
        method: "POST",
        signal: controller.signal,
        headers: { authorization: `Bearer ${calmKey}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "sim-anthropic/sim-claude", stream: true, messages: [{ role: "user", content: prompt("[[sim:tokens=80]] a long story") }] }),
      });
      const reader = res.body!.getReader();
      let text = "";
      const words = () => sseData(text).map((e) => (e as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta?.content ?? "").join("").split(/\s+/).filter(Boolean).length;
      while (words() < 4) text += new TextDecoder().decode((await reader.read()).value);
      const delivered = words();
      controller.abort();
      await waitUntil(async () => {
        await calm.rt.calls.flush();
        return (await calm.rt.db.prisma.call.count()) > before;
      }, 3_000);
      const row = (await calm.rt.db.prisma.call.findMany({ orderBy: { createdAt: "desc" }, take: 1 }))[0]!;
      expect(row).toMatchObject({ status: 499, partial: true, estimated: true, errorClass: "client_closed_request" });
      expect(row.inputTokens).toBeGreaterThan(0);
      expect(row.outputTokens).toBeGreaterThanOrEqual(delivered);
    });

    it("after the provider reported usage: billed exactly what it reported", async () => {
      // The finish frame comes after the usage chunk upstream: once the client has it, the usage was read.
      const { closedAfter, row } = await abandon("usage-then-stall", WORDS.length + 1);
      expect(closedAfter).toBeLessThan(1_000);
      expect(row).toMatchObject({ status: 499, partial: true, estimated: false, inputTokens: 7, outputTokens: 4 });
    });

    it("keeps an explicit zero usage at zero, streamed or not", async () => {
      for (const stream of [true, false]) {
        const res = await ask("scripted/sim-small", { stream, messages: [{ role: "user", content: prompt("[[up:zero-usage]] a prompt that is surely not empty") }] });
        expect(res.status).toBe(200);
        const row = await callRow(app, res);
        expect(row, `stream=${stream}`).toMatchObject({ status: 200, estimated: false, inputTokens: 0, outputTokens: 0 });
        expect(Number(row.costUsd)).toBe(0);
      }
    });
  });
});

/** The JSON (or raw string) payloads of an SSE text's data lines. */
function sseData(text: string): unknown[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => line.slice(6))
    .map((data) => {
      try {
        return JSON.parse(data) as unknown;
      } catch {
        return data;
      }
    });
}
