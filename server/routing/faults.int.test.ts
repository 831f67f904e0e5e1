/**
 * Retries, fallback and live health against the simulator with fault injection, through the real HTTP server.
 * Every scenario has its own model ids, so faults and health state never cross scenarios.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../providers/simulator";
import { waitUntil } from "../state/store.contract";
import { seedSimulatorProviders, startTestServer, type TestServer } from "../testing/harness";
import { configureRouting, type RoutingEngine } from "./engine";
import type { AttemptRecord } from "./execute";
import type { RouteRecord } from "./explain";
import { callRow, chat, prompt, routingFixture } from "./testing";
import { targetId } from "./types";

const COOLDOWN_MS = 1_500;

describe("routing under upstream faults", () => {
  let sim: Simulator;
  let app: TestServer;
  let key: string;
  let engine: RoutingEngine;
  let fixture: ReturnType<typeof routingFixture>;
  const fast = { retry: { baseDelayMs: 5, maxDelayMs: 20 } };

  beforeAll(async () => {
    sim = await startSimulator();
    app = await startTestServer();
    const seeded = await seedSimulatorProviders(app, sim.url);
    key = seeded.key;
    engine = configureRouting(app.rt, { health: { breaker: { failureThreshold: 3, failureRate: 0.5, cooldownMs: COOLDOWN_MS, maxCooldownMs: 10_000, probeTimeoutMs: 5_000 } } });
    fixture = routingFixture(app, seeded.tenant.orgId);
  });
  afterAll(async () => {
    await app?.dispose();
    await sim?.close();
  });
  beforeEach(() => sim.faults.clear());

  const ask = (model: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    chat(app, key, { model, messages: [{ role: "user", content: prompt() }], ...extra }, headers);
  const attemptsOf = async (result: { headers: Headers; status: number; body: unknown }) => {
    const row = await callRow(app, result);
    expect(row.attempts, `${result.status} ${JSON.stringify(result.body).slice(0, 300)}`).not.toBeNull();
    return row.attempts as unknown as AttemptRecord[];
  };
  const routeOf = async (result: { headers: Headers }) => (await callRow(app, result)).route as unknown as RouteRecord;
  /** Idle providers answer at once; streams are read to the end. */
  const stream = (model: string) => ask(model, { stream: true, messages: [{ role: "user", content: prompt("[[sim:tokens=40]] tell me a story") }] });

  it("honours a short Retry-After on a 429 and retries the same target", async () => {
    const s = await fixture.scenario([{ name: "a" }, { name: "b" }], (m) => ({ targets: [m.target(0), m.target(1)], ...fast }));
    sim.faults.add({ fault: "rate_limit", model: s.models[0], retryAfterMs: 60, times: 1 });
    const res = await ask(s.policy);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-target")).toBe(s.ref(0));
    const attempts = await attemptsOf(res);
    expect(attempts.map((a) => a.error ?? a.status)).toEqual(["rate_limited", 200]);
    expect(attempts[1]).toMatchObject({ reason: "retry" });
    expect(attempts[1]!.waitedMs).toBeGreaterThanOrEqual(60);
  });

  it("backs off with jitter on a 429 without Retry-After", async () => {
    const s = await fixture.scenario([{ name: "a" }], (m) => ({ targets: [m.target(0)], retry: { baseDelayMs: 30, maxDelayMs: 30 } }));
    sim.faults.add({ fault: "rate_limit", model: s.models[0], times: 1 });
    const res = await ask(s.policy);
    expect(res.status).toBe(200);
    const attempts = await attemptsOf(res);
    expect(attempts.map((a) => a.error ?? a.status)).toEqual(["rate_limited", 200]);
    expect(attempts[1]!.waitedMs ?? 0).toBeLessThanOrEqual(30); // full jitter: uniform in [0, 30]
  });

  it("fails over at once when Retry-After is beyond the cap, then routes around the cooling target", async () => {
    const s = await fixture.scenario([{ name: "a" }, { name: "b" }], (m) => ({ targets: [m.target(0), m.target(1)], ...fast }));
    sim.faults.add({ fault: "rate_limit", model: s.models[0], retryAfterSeconds: 30, times: "always" });
    const first = await ask(s.policy);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-switchyard-target")).toBe(s.ref(1));
    expect(sim.count({ model: s.models[0] })).toBe(1);
    const second = await ask(s.policy);
    expect(second.headers.get("x-switchyard-target")).toBe(s.ref(1));
    expect(sim.count({ model: s.models[0] })).toBe(1); // cooling down: tried last, and the first target answered
    const route = await routeOf(second);
    expect(route.candidates!.map((c) => c.target)).toEqual([s.ref(1), s.ref(0)]);
    expect(route.candidates![1]!.demoted!.join()).toMatch(/cooling down/);
  });

  it("retries a 500, and falls back across targets when one keeps answering 503", async () => {
    const s = await fixture.scenario([{ name: "a" }, { name: "b" }], (m) => ({ targets: [m.target(0), m.target(1)], ...fast }));
    sim.faults.add({ fault: "server_error", model: s.models[0], times: 1 });
    const retried = await ask(s.policy);
    expect((await attemptsOf(retried)).map((a) => a.error ?? a.status)).toEqual(["server_error", 200]);
    sim.faults.add({ fault: "unavailable", model: s.models[0], times: 2 });
    const fellBack = await ask(s.policy);
    expect(fellBack.headers.get("x-switchyard-target")).toBe(s.ref(1));
    expect((await attemptsOf(fellBack)).map((a) => `${a.model}:${a.error ?? a.status}:${a.reason}`)).toEqual([
      `${s.models[0]}:overloaded:first`,
      `${s.models[0]}:overloaded:retry`,
      `${s.models[1]}:200:fallback`,
    ]);
  });

  it("falls back when a provider cannot be reached, or resets the connection", async () => {
    const db = app.rt.db.prisma;
    const sample = await db.provider.findFirstOrThrow({ where: { name: "sim-openai" } });
    // Port 9 (discard) is closed on a test machine: the connection is refused.
    await db.provider.create({
      data: { orgId: sample.orgId, name: "unreachable", kind: "simulator", baseUrl: "http://127.0.0.1:9/openai/v1", allowPrivate: true, config: { protocol: "openai" } },
    });
    await fixture.refresh();
    const s = await fixture.scenario([{ name: "a", provider: "unreachable" }, { name: "b" }, { name: "c" }], (m) => ({
      targets: [m.target(0), m.target(1), m.target(2)],
      retry: { maxAttempts: 1 },
    }));
    const refused = await ask(s.policy);
    expect(refused.status).toBe(200);
    expect((await attemptsOf(refused)).map((a) => a.error ?? a.status)).toEqual(["connection", 200]);
    sim.faults.add({ fault: "reset", model: s.models[1], times: 1 });
    const reset = await ask(s.policy);
    expect(reset.headers.get("x-switchyard-target")).toBe(s.ref(2));
    expect((await attemptsOf(reset)).map((a) => a.error ?? a.status)).toEqual(["connection", "connection", 200]);
  });

  it("abandons a target that does not answer within the latency budget", async () => {
    const s = await fixture.scenario([{ name: "a" }, { name: "b" }], (m) => ({ targets: [m.target(0), m.target(1)], constraints: { latency: { totalMs: 300 } } }));
    sim.faults.add({ fault: "timeout", model: s.models[0], times: 1 });
    const started = Date.now();
    const res = await ask(s.policy);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res.headers.get("x-switchyard-target")).toBe(s.ref(1));
    expect((await attemptsOf(res)).map((a) => a.error ?? a.status)).toEqual(["latency_budget", 200]);
  });

  it("moves a stream whose first token is slower than the budget to the next target", async () => {
    const s = await fixture.scenario([{ name: "a" }, { name: "b" }], (m) => ({ targets: [m.target(0), m.target(1)], constraints: { latency: { ttftMs: 300 } } }));
    sim.faults.add({ fault: "slow_first_byte", model: s.models[0], delayMs: 3_000, times: 1 });
    const res = await stream(s.policy);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-target")).toBe(s.ref(1));
    expect(res.body).toContain("data: [DONE]");
    expect((await attemptsOf(res)).map((a) => a.error ?? a.status)).toEqual(["latency_budget", 200]);
  });

  it("fails over a stream cut or malformed before its first byte, never after", async () => {
    const s = await fixture.scenario([{ name: "a" }, { name: "b" }, { name: "c" }], (m) => ({ targets: [m.target(0), m.target(1), m.target(2)], retry: { maxAttempts: 1 } }));
    sim.faults.add({ fault: "stream_cut", model: s.models[0], afterChunks: 0, times: 1 });
    sim.faults.add({ fault: "malformed_chunk", model: s.models[1], afterChunks: 0, times: 1 });
    const before = await stream(s.policy);
    expect(before.headers.get("x-switchyard-target")).toBe(s.ref(2));
    expect(before.body).toContain("data: [DONE]");
    // A cut before any data is a dropped connection; a malformed first chunk is the provider's fault.
    expect((await attemptsOf(before)).map((a) => a.error ?? a.status)).toEqual(["connection", "server_error", 200]);

    sim.faults.add({ fault: "stream_cut", model: s.models[0], afterChunks: 3, times: 1 });
    const cut = await stream(s.policy);
    expect(cut.status).toBe(200);
    expect(cut.body).toMatch(/"upstream_stream_error"/);
    expect(cut.body).not.toContain("[DONE]");
    expect(sim.count({ model: s.models[1] })).toBe(1); // only the earlier failover: nothing after the first byte
    expect(await callRow(app, cut)).toMatchObject({ partial: true, streamed: true });

    sim.faults.add({ fault: "malformed_chunk", model: s.models[0], afterChunks: 2, times: 1 });
    const malformed = await stream(s.policy);
    expect(malformed.body).toMatch(/malformed stream chunk/);
    expect(malformed.body).not.toContain("[DONE]");
    expect(sim.count({ model: s.models[1] })).toBe(1);
  });

  it("moves a context-length failure to a model with a longer context window", async () => {
    const s = await fixture.scenario(
      [
        { name: "short", contextWindow: 64_000 },
        { name: "shorter", contextWindow: 32_000 },
        { name: "long", contextWindow: 1_000_000 },
      ],
      (m) => ({ targets: [m.target(0), m.target(1)], fallbacks: { contextLength: [m.target(2)] }, ...fast }),
    );
    sim.faults.add({ fault: "context_length", model: s.models[0], times: 1 });
    const res = await ask(s.policy);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchyard-target")).toBe(s.ref(2));
    expect((await attemptsOf(res)).map((a) => `${a.error ?? a.status}:${a.reason}`)).toEqual(["context_length:first", "200:context_length"]);
    expect(sim.count({ model: s.models[1] })).toBe(0); // a smaller window would fail too

    // A direct model without a longer fallback keeps the provider's error.
    sim.faults.add({ fault: "context_length", model: s.models[2], times: 1 });
    const direct = await ask(s.ref(2));
    expect(direct.status).toBe(400);
    expect(direct.body.error.code).toBe("context_length_exceeded");
  });

  it("sends content-filter refusals to the content-filter fallback", async () => {
    const s = await fixture.scenario([{ name: "strict" }, { name: "lenient" }], (m) => ({ targets: [m.target(0)], fallbacks: { contentFilter: [m.target(1)] }, ...fast }));
    sim.faults.add({ fault: "content_filter", on: "prompt", model: s.models[0], times: 1 });
    const rejected = await ask(s.policy);
    expect(rejected.status).toBe(200);
    expect(rejected.headers.get("x-switchyard-target")).toBe(s.ref(1));
    expect((await attemptsOf(rejected)).map((a) => `${a.error ?? a.status}:${a.reason}`)).toEqual(["content_filter:first", "200:content_filter"]);

    sim.faults.add({ fault: "content_filter", model: s.models[0], times: 1 });
    const refused = await ask(s.policy);
    expect(refused.status).toBe(200);
    expect(refused.body.choices[0].finish_reason).toBe("stop");
    expect(refused.headers.get("x-switchyard-target")).toBe(s.ref(1));

    sim.faults.add({ fault: "content_filter", on: "prompt", model: s.models[0], times: 1 });
    const direct = await ask(s.ref(0));
    expect(direct.status).toBe(400);
    expect(direct.body.error.code).toBe("content_filter");
  });

  it("answers 503 naming the policy and every reason when all targets are down, then skips open circuits", async () => {
    const s = await fixture.scenario([{ name: "a" }, { name: "b" }], (m) => ({ targets: [m.target(0), m.target(1)], retry: { maxAttempts: 1 } }));
    sim.faults.add({ fault: "unavailable", model: `${s.models[0]}`, times: "always" });
    sim.faults.add({ fault: "unavailable", model: `${s.models[1]}`, times: "always" });
    const down = await ask(s.policy);
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe("no_available_target");
    expect(down.body.error.message).toContain(`policy '${s.policy}'`);
    expect(down.body.error.message).toContain(`${s.ref(0)}: overloaded (HTTP 503)`);
    expect(down.body.error.message).toContain(`${s.ref(1)}: overloaded (HTTP 503)`);
    await ask(s.policy);
    await ask(s.policy);
    const calls = sim.count();
    const open = await ask(s.policy);
    expect(open.status).toBe(503);
    expect(open.body.error.message).toMatch(/circuit open/);
    expect(sim.count()).toBe(calls); // failing fast: no upstream call
  });

  it("opens the breaker of a flapping target, probes it after the cool-down and closes it again", async () => {
    const s = await fixture.scenario([{ name: "flaky" }, { name: "steady" }], (m) => ({ targets: [m.target(0), m.target(1)], retry: { maxAttempts: 1 } }));
    const flaky = (await app.rt.db.prisma.provider.findFirstOrThrow({ where: { name: "sim-openai" } })).id;
    const id = targetId({ provider: { id: flaky } as never, modelId: s.models[0]!, model: null });
    sim.faults.add({ fault: "server_error", model: s.models[0], times: 3 });
    for (let i = 0; i < 3; i++) {
      const res = await ask(s.policy);
      expect(res.headers.get("x-switchyard-target"), JSON.stringify(res.body)).toBe(s.ref(1));
    }
    expect(engine.health.peek(id).breaker).toBe("open");
    const skipped = await ask(s.policy);
    expect(skipped.headers.get("x-switchyard-target")).toBe(s.ref(1));
    expect(sim.count({ model: s.models[0] })).toBe(3);
    expect((await routeOf(skipped)).rejected).toEqual([{ target: s.ref(0), reasons: [expect.stringMatching(/^circuit open until/)] }]);

    await waitUntil(() => engine.health.peek(id).breaker === "half_open", COOLDOWN_MS * 4);
    const probe = await ask(s.policy);
    expect(probe.headers.get("x-switchyard-target")).toBe(s.ref(0));
    expect((await attemptsOf(probe))[0]).toMatchObject({ reason: "probe", status: 200 });
    expect(engine.health.peek(id).breaker).toBe("closed");
    expect((await ask(s.policy)).headers.get("x-switchyard-target")).toBe(s.ref(0));
  });

  it("rides out a persistent 503 through the fallback: bounded attempts, then the breaker stops the calls, and closes after recovery", async () => {
    // Reliability case 11 with the fault as stated: the primary answers 503 until it recovers.
    const s = await fixture.scenario([{ name: "primary" }, { name: "backup" }], (m) => ({ targets: [m.target(0), m.target(1)], ...fast }));
    const provider = (await app.rt.db.prisma.provider.findFirstOrThrow({ where: { name: "sim-openai" } })).id;
    const id = targetId({ provider: { id: provider } as never, modelId: s.models[0]!, model: null });
    sim.faults.add({ fault: "unavailable", model: s.models[0], times: "always" });
    const first = await ask(s.policy);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-switchyard-target")).toBe(s.ref(1));
    expect((await attemptsOf(first)).map((a) => `${a.model}:${a.error ?? a.status}`)).toEqual([`${s.models[0]}:overloaded`, `${s.models[0]}:overloaded`, `${s.models[1]}:200`]);
    // Every call succeeds through the backup; the primary stops being called once its breaker opens.
    await waitUntil(async () => (await ask(s.policy)).status === 200 && engine.health.peek(id).breaker === "open", 10_000);
    const calls = sim.count({ model: s.models[0] });
    expect(calls).toBeLessThanOrEqual(2 * 5); // two attempts per call before it opened, for at most a few calls
    for (let i = 0; i < 5; i++) {
      const res = await ask(s.policy);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-switchyard-target")).toBe(s.ref(1));
    }
    expect(sim.count({ model: s.models[0] })).toBe(calls);

    sim.faults.clear(); // recovered
    await waitUntil(() => engine.health.peek(id).breaker === "half_open", COOLDOWN_MS * 4);
    const probe = await ask(s.policy);
    expect(probe.headers.get("x-switchyard-target")).toBe(s.ref(0));
    expect(engine.health.peek(id).breaker).toBe("closed");
    for (let i = 0; i < 3; i++) expect((await ask(s.policy)).headers.get("x-switchyard-target")).toBe(s.ref(0));
  });

  it("shifts concurrent traffic away from a degraded target within the window", async () => {
    const s = await fixture.scenario([{ name: "bad" }, { name: "good" }], (m) => ({
      strategy: "weighted",
      targets: [m.target(0), m.target(1)],
      weights: [50, 50],
      sticky: "none",
      retry: { maxAttempts: 1 },
    }));
    sim.faults.add({ fault: "unavailable", model: s.models[0], times: "always" });
    const perWave: number[] = [];
    for (let wave = 0; wave < 4; wave++) {
      const before = sim.count({ model: s.models[0] });
      const results = await Promise.all(Array.from({ length: 10 }, () => ask(s.policy)));
      expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
      perWave.push(sim.count({ model: s.models[0] }) - before);
    }
    expect(perWave[0]).toBeGreaterThan(0); // the split sent it traffic…
    expect(perWave.slice(2)).toEqual([0, 0]); // …until its breaker opened
  });
});
