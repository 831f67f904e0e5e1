/**
 * The Playground on a real runtime and the provider simulator: a prompt goes through the gateway pipeline under the
 * user's playground key (created once, never presentable over HTTP), is logged like any call, hits the cache on an
 * identical repeat, obeys the team's budget, and stays inside the developer's team.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../providers/simulator";
import { bumpConfigVersion, readConfigVersion } from "../../gateway/snapshot";
import { seedSimulatorProviders, startTestServer, type TestServer } from "../../testing/harness";
import { callerAs, createTestOrg, type TestOrg } from "../testing";
import { PLAYGROUND_KIND } from "./playground";

let sim: Simulator;
let app: TestServer;
let org: TestOrg;

beforeAll(async () => {
  sim = await startSimulator();
  app = await startTestServer();
  org = await createTestOrg(app.rt);
  await seedSimulatorProviders(app, sim.url);
  const admin = callerAs(app.rt, org.users.admin);
  await admin.policies.create({
    name: "pg-bot",
    teamId: null,
    document: { targets: [{ provider: "sim-openai", model: "sim-small" }, { provider: "sim-anthropic", model: "sim-claude" }], reference: { provider: "sim-openai", model: "sim-large" } },
  });
  await admin.policies.create({ name: "team-b-bot", teamId: org.teamB, document: { targets: [{ provider: "sim-openai", model: "sim-small" }] } });
}, 180_000); // a fresh database with every migration, on a shared 2-core machine
afterAll(async () => {
  await app?.dispose();
  await sim?.close();
});

describe("playground.send", () => {
  it("runs through the gateway as the user's playground key and returns the logged route, cost and savings", async () => {
    const dev = callerAs(app.rt, org.users.developerA);
    const versionBefore = await readConfigVersion(app.rt.db.prisma);
    const result = await dev.playground.send({ model: "pg-bot", system: "Be brief.", prompt: "Say hello to the playground" });
    expect(result.status).toBe(200);
    expect(result.error).toBeNull();
    expect(result.answer!.content).toContain("Simulated reply");
    expect(result.team.id).toBe(org.teamA);
    expect(result.headers["x-switchyard-target"]).toBe("sim-openai/sim-small");
    expect(result.headers["x-ratelimit-limit-requests"]).toBe("60");
    const call = result.call!;
    expect(call.status).toBe(200);
    expect(call.policy).toBe("pg-bot");
    expect(call.model).toBe("sim-small");
    expect(Number(call.costUsd)).toBeGreaterThan(0);
    // The reference (sim-large) costs more than the target that answered: the difference is a routing saving.
    expect(Number(call.baselineCostUsd)).toBeGreaterThan(Number(call.costUsd));
    expect(Number(call.savings.routing)).toBeGreaterThan(0);
    expect((call.route as { target: string; candidates: unknown[] }).target).toBe("sim-openai/sim-small");
    expect((call.route as { candidates: unknown[] }).candidates.length).toBeGreaterThan(0);
    expect(call.attempts).toHaveLength(1);
    // A send changes no configuration: gateways are not told to reload.
    expect(await readConfigVersion(app.rt.db.prisma)).toBe(versionBefore);

    // The key: one per user and team, of kind "playground", listed with the team's keys, reused by later sends.
    await dev.playground.send({ model: "pg-bot", prompt: "Again" });
    const keys = await app.rt.db.prisma.apiKey.findMany({ where: { ownerId: org.users.developerA.id, kind: PLAYGROUND_KIND } });
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ teamId: org.teamA, prefix: "playground", rpmLimit: 60 });
    const listed = await dev.apiKeys.list({});
    expect(listed.find((k) => k.id === keys[0]!.id)?.kind).toBe(PLAYGROUND_KIND);
    // The call log tags both calls with the playground key.
    expect(await app.rt.db.prisma.call.count({ where: { apiKeyId: keys[0]!.id } })).toBe(2);
  });

  it("never works over HTTP: the playground key's secret does not exist anywhere", async () => {
    const key = await app.rt.db.prisma.apiKey.findFirstOrThrow({ where: { kind: PLAYGROUND_KIND } });
    // The stored hash is of a secret nobody kept; the visible prefix is not even key-shaped.
    expect(key.prefix).not.toMatch(/^sy-/);
    const res = await fetch(`${app.url}/api/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key.hash}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "pg-bot", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(401);
  });

  it("an identical send at temperature 0 is answered by the cache, at no cost, the cost saved", async () => {
    const admin = callerAs(app.rt, org.users.admin);
    const ask = () => admin.playground.send({ model: "pg-bot", teamId: org.teamA, prompt: "What is a cache hit?", temperature: 0, maxTokens: 50 });
    const first = await ask();
    expect(first.headers["x-switchyard-cache"]).toBe("miss");
    const second = await ask();
    expect(second.status).toBe(200);
    expect(second.headers["x-switchyard-cache"]).toBe("hit");
    expect(second.answer!.content).toBe(first.answer!.content);
    expect(second.call!.cacheOutcome).toBe("hit");
    expect(second.call!.costUsd).toBe("0");
    expect(Number(second.call!.savings.cache)).toBeGreaterThan(0);
    // Skipping the lookup answers fresh.
    const fresh = await admin.playground.send({ model: "pg-bot", teamId: org.teamA, prompt: "What is a cache hit?", temperature: 0, maxTokens: 50, skipCache: true });
    expect(fresh.headers["x-switchyard-cache"]).not.toBe("hit");
  });

  it("keeps developers inside their team: another team, or its team-only policy, is refused", async () => {
    const dev = callerAs(app.rt, org.users.developerA);
    await expect(dev.playground.send({ model: "pg-bot", teamId: org.teamB, prompt: "hi" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const other = await dev.playground.send({ model: "team-b-bot", prompt: "hi" });
    expect(other.status).toBe(404);
    expect(other.error!.code).toBe("model_not_found");
    const options = await dev.playground.options();
    expect(options.policies.map((p) => p.name)).toEqual(["pg-bot"]);
    expect(options.teams.map((t) => t.id)).toEqual([org.teamA]);
    // Team B's developer may use it, as team B.
    const devB = await callerAs(app.rt, org.users.developerB).playground.send({ model: "team-b-bot", prompt: "hi" });
    expect(devB.status).toBe(200);
    expect(devB.team.id).toBe(org.teamB);
    // Finance has no playground.
    await expect(callerAs(app.rt, org.users.finance).playground.send({ model: "pg-bot", prompt: "hi" })).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("obeys the team's hard budget: 429 budget_exceeded, shown as the answer and logged", async () => {
    const db = app.rt.db.prisma;
    const budget = await db.budget.create({ data: { orgId: org.orgId, scope: "team", teamId: org.teamB, period: "daily", limitUsd: "0.0000001" } });
    await bumpConfigVersion(db);
    await app.rt.snapshot.refresh();
    try {
      const result = await callerAs(app.rt, org.users.developerB).playground.send({ model: "team-b-bot", prompt: "Spend something" });
      expect(result.status).toBe(429);
      expect(result.answer).toBeNull();
      expect(result.error!.code).toBe("budget_exceeded");
      expect(result.call!.status).toBe(429);
      expect(result.call!.errorClass).toBe("budget_exceeded");
    } finally {
      await db.budget.delete({ where: { id: budget.id } });
      await bumpConfigVersion(db);
      await app.rt.snapshot.refresh();
    }
  });
});

describe("policies.dryRun", () => {
  it("previews the route and cost of a request without calling upstream", async () => {
    const admin = callerAs(app.rt, org.users.admin);
    const policy = (await admin.policies.list()).find((p) => p.name === "pg-bot")!;
    const before = sim.count({});
    const result = await callerAs(app.rt, org.users.developerA).policies.dryRun({ id: policy.id, prompt: "Where would this go?", maxTokens: 100 });
    expect(sim.count({})).toBe(before);
    expect(result.error).toBeNull();
    expect(result.chosen!.target).toBe("sim-openai/sim-small");
    expect(result.candidates.map((c) => c.target)).toEqual(["sim-openai/sim-small", "sim-anthropic/sim-claude"]);
    expect(result.estimatedCostUsd).toBeGreaterThan(0);
    // Team B's policy is not the developer's to simulate.
    const teamB = (await admin.policies.list()).find((p) => p.name === "team-b-bot")!;
    await expect(callerAs(app.rt, org.users.developerA).policies.dryRun({ id: teamB.id, prompt: "x" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await callerAs(app.rt, org.users.developerB).policies.dryRun({ id: teamB.id, prompt: "x" })).chosen!.target).toBe("sim-openai/sim-small");
  });
});
