/**
 * Two Switchyard instances sharing one Postgres and one Redis (reliability case 20): budgets and rate limits hold
 * across both, a config change made through one (a new budget, a revoked or disabled key: reliability case 2) is
 * enforced by the other within about a second, and an instance whose Redis is gone refuses (503) instead of falling
 * back to local counters. Skipped without DATABASE_URL and REDIS_URL. The last suite (REDIS_URL only) puts a TCP
 * relay between one instance and Redis and freezes it, as a partition or a paused Redis would: the connection stays
 * open and nothing answers.
 */
import net from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDecimal } from "../catalog/money";
import { callerAs } from "../api/testing";
import { bumpConfigVersion } from "../gateway/snapshot";
import { createApiKey } from "../keys/service";
import { startSimulator, type Simulator } from "../providers/simulator";
import { waitUntil } from "../state/store.contract";
import { createTestDatabase, seedSimulatorProviders, startTestServer, type TestDatabase, type TestServer } from "../testing/harness";

const shared = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const MODEL = "sim-openai/sim-small";

describe.skipIf(!shared)("two instances sharing Postgres and Redis", () => {
  let sim: Simulator;
  let database: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  let tenant: { orgId: string; teamId: string };

  const clients = async (name: string, limits: { rpmLimit?: number; tpmLimit?: number } = {}) => {
    const { key, record } = await createApiKey(a.rt.db.prisma, { ...tenant, name, ...limits });
    const make = (app: TestServer) => new OpenAI({ apiKey: key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
    return { id: record.id, a: make(a), b: make(b) };
  };
  const ask = (c: OpenAI) =>
    c.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Count to three [[sim:tokens=30]]" }], max_tokens: 30 }).then(
      () => "ok",
      (error: { code?: string }) => error.code ?? "error",
    );

  beforeAll(async () => {
    sim = await startSimulator();
    database = await createTestDatabase();
    a = await startTestServer({ DATABASE_URL: database.url });
    b = await startTestServer({ DATABASE_URL: database.url });
    tenant = (await seedSimulatorProviders(a, sim.url)).tenant;
    await a.rt.db.prisma.modelOverride.create({ data: { orgId: tenant.orgId, modelId: "sim-small", inputPrice: "100", outputPrice: "200" } });
    await bumpConfigVersion(a.rt.db.prisma);
    await Promise.all([a.rt.snapshot.refresh(), b.rt.snapshot.refresh()]);
  });
  afterAll(async () => {
    await a?.dispose();
    await b?.dispose();
    await database?.drop();
    await sim?.close();
  });

  it("admits no more than a key's RPM across both instances at three times the limit", async () => {
    const c = await clients("shared-rpm", { rpmLimit: 10 });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => ask(i % 2 ? c.a : c.b)));
    expect(results.filter((r) => r === "ok")).toHaveLength(10);
    expect(new Set(results.filter((r) => r !== "ok"))).toEqual(new Set(["rate_limit_exceeded"]));
  });

  it("admits no more than a key's TPM across both instances at three times the limit", async () => {
    // What one request counts against a token limit, read from a key of its own on instance a.
    const probe = await createApiKey(a.rt.db.prisma, { ...tenant, name: "tpm-probe", tpmLimit: 1_000_000 });
    const measured = await new OpenAI({ apiKey: probe.key, baseURL: `${a.url}/api/v1`, maxRetries: 0 }).chat.completions
      .create({ model: MODEL, messages: [{ role: "user", content: "Count to three [[sim:tokens=30]]" }], max_tokens: 30 })
      .withResponse();
    const perRequest = 1_000_000 - Number(measured.response.headers.get("x-ratelimit-remaining-tokens"));
    expect(perRequest).toBeGreaterThan(30);
    const c = await clients("shared-tpm", { tpmLimit: perRequest * 10 });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => ask(i % 2 ? c.a : c.b)));
    // Ten fit; per-instance counters would have let up to twenty through.
    expect(results.filter((r) => r === "ok")).toHaveLength(10);
    expect(new Set(results.filter((r) => r !== "ok"))).toEqual(new Set(["rate_limit_exceeded"]));
  });

  it("shares one budget: concurrent calls through both instances never spend more than it", async () => {
    const c = await clients("shared-budget");
    const budget = await a.rt.db.prisma.budget.create({ data: { orgId: tenant.orgId, scope: "api_key", apiKeyId: c.id, period: "lifetime", limitUsd: "0.2" } });
    await bumpConfigVersion(a.rt.db.prisma);
    await Promise.all([a.rt.snapshot.refresh(), b.rt.snapshot.refresh()]);
    await waitUntil(async () => (await ask(c.b)) === "ok" && (await ask(c.a)) === "ok");
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => ask(i % 2 ? c.a : c.b)));
    expect(results.filter((r) => r === "ok").length).toBeGreaterThan(5);
    expect(new Set(results.filter((r) => r !== "ok"))).toEqual(new Set(["budget_exceeded"]));
    await Promise.all([a.rt.calls.flush(), b.rt.calls.flush()]);
    const rows = await a.rt.db.prisma.call.findMany({ where: { apiKeyId: c.id }, select: { costUsd: true } });
    const total = rows.reduce((sum, r) => sum + parseDecimal(r.costUsd.toFixed()), 0n);
    expect(total).toBeLessThanOrEqual(parseDecimal("0.2"));
    const key = `budget:${budget.id}:-:${budget.createdAt.getTime()}`;
    // One counter in Redis, seen the same from both instances.
    expect(await a.rt.state.readCounter(key)).toEqual({ spent: total, reserved: 0n, seeded: true });
    expect(await b.rt.state.readCounter(key)).toEqual({ spent: total, reserved: 0n, seeded: true });
  });

  it("enforces a budget created through one instance on the other within about a second", async () => {
    const c = await clients("config-change");
    expect(await ask(c.b)).toBe("ok");
    await a.rt.db.prisma.budget.create({ data: { orgId: tenant.orgId, scope: "api_key", apiKeyId: c.id, period: "daily", limitUsd: "0" } });
    const changed = Date.now();
    await bumpConfigVersion(a.rt.db.prisma);
    let seen = 0;
    await waitUntil(async () => {
      if ((await ask(c.b)) !== "budget_exceeded") return false;
      seen = Date.now() - changed;
      return true;
    }, 5_000);
    // b polls the config version every second, then reloads budgets (one query).
    expect(seen).toBeLessThan(1_500);
  });

  it("refuses a key revoked or disabled through one instance on the other within a few seconds, though it was cached there", async () => {
    const { key, record } = await createApiKey(a.rt.db.prisma, { ...tenant, name: "revoked-elsewhere" });
    const paused = await createApiKey(a.rt.db.prisma, { ...tenant, name: "disabled-elsewhere" });
    const onB = (k: string) => ask(new OpenAI({ apiKey: k, baseURL: `${b.url}/api/v1`, maxRetries: 0 }));
    expect(await onB(key)).toBe("ok"); // both keys now cached by b's authenticator
    expect(await onB(paused.key)).toBe("ok");
    const admin = await a.rt.db.prisma.user.create({
      data: { orgId: tenant.orgId, email: "admin-a@example.com", role: "admin", name: "admin" },
      select: { id: true, email: true, name: true, role: true, orgId: true, teamId: true },
    });
    await callerAs(a.rt, admin).apiKeys.revoke({ id: record.id });
    await callerAs(a.rt, admin).apiKeys.setDisabled({ id: paused.record.id, disabled: true });
    const changed = Date.now();
    await waitUntil(async () => (await onB(key)) === "invalid_api_key" && (await onB(paused.key)) === "invalid_api_key", 5_000);
    // b polls the config version every second and then drops its key cache.
    expect(Date.now() - changed).toBeLessThan(3_000);
  });

  it("refuses with 503 on the instance whose Redis is gone, never counting locally", async () => {
    const c = await clients("store-down", { rpmLimit: 100 });
    expect(await ask(c.a)).toBe("ok");
    await a.rt.state.close();
    expect(await ask(c.a)).toBe("limits_unavailable");
    expect(await ask(c.b)).toBe("ok");
  });
});

/** A TCP relay to Redis that can freeze: while frozen it holds both directions (nothing lost, nothing delivered). */
async function startFreezableRelay(target: URL) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => sockets.delete(s));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    freeze: () => sockets.forEach((s) => s.pause()),
    thaw: () => sockets.forEach((s) => s.resume()),
    close: () => {
      sockets.forEach((s) => s.destroy());
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.skipIf(!process.env.REDIS_URL)("a shared store that stops answering", () => {
  let sim: Simulator;
  let relay: Awaited<ReturnType<typeof startFreezableRelay>>;
  let app: TestServer;
  let tenant: { orgId: string; teamId: string };

  beforeAll(async () => {
    sim = await startSimulator();
    relay = await startFreezableRelay(new URL(process.env.REDIS_URL!));
    app = await startTestServer({ REDIS_URL: relay.url });
    tenant = (await seedSimulatorProviders(app, sim.url)).tenant;
  });
  afterAll(async () => {
    relay?.thaw();
    await app?.dispose();
    await relay?.close();
    await sim?.close();
  });

  it("refuses with 503 within seconds instead of hanging, never admitting unchecked, and recovers when Redis answers again", { timeout: 60_000 }, async () => {
    const { key } = await createApiKey(app.rt.db.prisma, { ...tenant, name: "frozen-store", rpmLimit: 100 });
    const client = new OpenAI({ apiKey: key, baseURL: `${app.url}/api/v1`, maxRetries: 0, timeout: 20_000 });
    const ask = () =>
      client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Count to three" }], max_tokens: 10 }).then(
        () => "ok",
        (error: { code?: string; name?: string }) => error.code ?? error.name ?? "error",
      );
    expect(await ask()).toBe("ok");
    const calls = sim.count({ operation: "chat" });
    relay.freeze();
    // Before the fix the request waited on its rate-limit check forever (the SDK's 20 s timeout ended it).
    expect(await Promise.all([ask(), ask()])).toEqual(["limits_unavailable", "limits_unavailable"]);
    expect(sim.count({ operation: "chat" })).toBe(calls);
    relay.thaw();
    await waitUntil(async () => (await ask()) === "ok", 10_000);
  });
});
