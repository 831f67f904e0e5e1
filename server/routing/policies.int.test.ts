/**
 * Strategies, per-request overrides, explainability, dry-run and feedback through the real HTTP server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthContext } from "../gateway/auth";
import { createApiKey } from "../keys/service";
import { startSimulator, type Simulator } from "../providers/simulator";
import { seedSimulatorProviders, startTestServer, type TestServer } from "../testing/harness";
import { dryRun } from "./dry-run";
import { configureRouting, type RoutingEngine } from "./engine";
import type { RouteRecord } from "./explain";
import { callRow, chat, prompt, routingFixture } from "./testing";

describe("routing policies end to end", () => {
  let sim: Simulator;
  let app: TestServer;
  let key: string;
  let tenant: { orgId: string; teamId: string };
  let engine: RoutingEngine;
  let fixture: ReturnType<typeof routingFixture>;

  beforeAll(async () => {
    sim = await startSimulator();
    app = await startTestServer();
    const seeded = await seedSimulatorProviders(app, sim.url);
    key = seeded.key;
    tenant = seeded.tenant;
    engine = configureRouting(app.rt, { retrainEvery: 1_000_000 });
    fixture = routingFixture(app, tenant.orgId);
  });
  afterAll(async () => {
    await app?.dispose();
    await sim?.close();
  });

  const ask = (model: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}, content = prompt()) =>
    chat(app, key, { model, messages: [{ role: "user", content }], ...extra }, headers);
  const routeOf = async (result: { headers: Headers }) => (await callRow(app, result)).route as unknown as RouteRecord;
  const target = (res: { headers: Headers }) => res.headers.get("x-switchyard-target");

  it("cheapest: the lowest estimated cost first", async () => {
    const s = await fixture.scenario([{ name: "dear", input: "10", output: "40" }, { name: "cheap", input: "0.1", output: "0.4" }], (m) => ({
      strategy: "cheapest",
      targets: [m.target(0), m.target(1)],
    }));
    const res = await ask(s.policy);
    expect(target(res)).toBe(s.ref(1));
    const route = await routeOf(res);
    expect(route.strategy).toBe("cheapest");
    expect(route.candidates![0]!.estimatedCostUsd!).toBeLessThan(route.candidates![1]!.estimatedCostUsd!);
  });

  it("conditional: rules on metadata, content and headers pick the chain", async () => {
    const s = await fixture.scenario([{ name: "default" }, { name: "gold" }, { name: "code" }], (m) => ({
      strategy: "conditional",
      targets: [m.target(0)],
      rules: [
        { name: "gold", when: { metadata: { tier: "gold" } }, targets: [m.target(1)] },
        { name: "code", when: { any: [{ content: { pattern: "```" } }, { headers: { "x-task": "^code$" } }] }, targets: [m.target(2)] },
      ],
    }));
    expect(target(await ask(s.policy))).toBe(s.ref(0));
    expect(target(await ask(s.policy, { metadata: { tier: "gold" } }))).toBe(s.ref(1));
    expect(target(await ask(s.policy, {}, {}, prompt("fix ```let x = 1```")))).toBe(s.ref(2));
    const byHeader = await ask(s.policy, {}, { "x-task": "code" });
    expect(target(byHeader)).toBe(s.ref(2));
    expect(byHeader.headers.get("x-switchyard-route")).toContain("rule=code");
  });

  it("cascade: easy prompts on the cheap tier, hard or escalated ones on the strong tier", async () => {
    const s = await fixture.scenario([{ name: "small" }, { name: "large", input: "2.5", output: "10" }], (m) => ({
      strategy: "cascade",
      targets: [m.target(0), m.target(1)],
      escalate: [{ when: { metadata: { priority: "high" } }, minTier: 1 }],
    }));
    const easy = await ask(s.policy, {}, {}, prompt("hi there"));
    expect(target(easy)).toBe(s.ref(0));
    expect((await routeOf(easy)).tier).toBe(0);
    const hard = prompt(`Prove step by step that the algorithm is optimal, then compare its trade-offs. ${"Consider the case n = 12 * 7 + 3. ".repeat(60)} Why? And how?`);
    const strong = await ask(s.policy, {}, {}, hard);
    expect(target(strong)).toBe(s.ref(1));
    const route = await routeOf(strong);
    expect(route.difficulty).toMatchObject({ classifier: "heuristic", startTier: 1 });
    expect(route.difficulty!.detail).toMatch(/reasoning/);
    expect(target(await ask(s.policy, { metadata: { priority: "high" } }, {}, prompt("hi")))).toBe(s.ref(1));
  });

  it("weighted: a sticky split per end user", async () => {
    const s = await fixture.scenario([{ name: "a" }, { name: "b" }], (m) => ({ strategy: "weighted", targets: [m.target(0), m.target(1)], weights: [1, 1], sticky: "user" }));
    const seen = new Map<string, Set<string>>();
    for (const user of ["u1", "u2", "u3", "u4", "u5", "u6"]) {
      for (let i = 0; i < 2; i++) {
        const t = target(await ask(s.policy, { user }))!;
        seen.set(user, (seen.get(user) ?? new Set()).add(t));
      }
    }
    expect([...seen.values()].every((targets) => targets.size === 1)).toBe(true);
    expect(new Set([...seen.values()].flatMap((t) => [...t])).size).toBe(2);
  });

  it("explains the decision in the call log and in the headers", async () => {
    const s = await fixture.scenario([{ name: "a" }, { name: "b", capabilities: { tools: false } }], (m) => ({
      targets: [{ provider: "sim-openai", model: "no-such-model" }, m.target(1), m.target(0)],
    }));
    const res = await ask(s.policy, { tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: {} } } }] });
    expect(res.status).toBe(200);
    expect(target(res)).toBe(s.ref(0));
    const header = res.headers.get("x-switchyard-route")!;
    expect(header).toContain(`target=${s.ref(0)}`);
    expect(header).toContain(`policy=${s.policy}`);
    expect(header).toContain("strategy=ordered");
    expect(header).toContain(`tried=${s.ref(0)}:200`);
    expect(header).toContain("rejected=2");
    const row = await callRow(app, res);
    expect(row.route).toMatchObject({
      requested: s.policy,
      policy: s.policy,
      target: s.ref(0),
      strategy: "ordered",
      candidates: [{ target: s.ref(0), notes: ["chain position 1"] }],
      rejected: [
        { target: "sim-openai/no-such-model", reasons: [expect.stringMatching(/not in the catalog/)] },
        { target: s.ref(1), reasons: ["the request needs tools, which the model lacks"] },
      ],
    });
    // No ceiling and not `cheapest`: the prompt is not tokenized just to record an estimate.
    expect((row.route as unknown as RouteRecord).estimatedCostUsd).toBeNull();
  });

  it("honours per-request overrides: max cost, required capabilities, fallbacks and x-switchyard-policy", async () => {
    const s = await fixture.scenario(
      [
        { name: "dear", input: "10", output: "40" },
        { name: "cheap", input: "0.1", output: "0.4", capabilities: { vision: true } },
      ],
      (m) => ({ targets: [m.target(0), m.target(1)] }),
    );
    expect(target(await ask(s.policy))).toBe(s.ref(0));
    expect(target(await ask(s.policy, { switchyard: { max_cost_usd: 0.001 } }))).toBe(s.ref(1));
    expect(target(await ask(s.policy, { switchyard: { require: ["vision"] } }))).toBe(s.ref(1));

    const none = await ask(s.policy, { switchyard: { max_cost_usd: 1e-9 } });
    expect(none.status).toBe(400);
    expect(none.body.error.code).toBe("no_eligible_target");
    expect(none.body.error.message).toMatch(new RegExp(`${s.ref(0)}: estimated \\$.* exceeds the max cost`));
    expect(sim.count({ model: s.models[0] }) + sim.count({ model: s.models[1] })).toBe(3);

    sim.faults.add({ fault: "unavailable", model: s.models[0], times: "always" });
    const rescued = await ask(s.ref(0), { switchyard: { fallbacks: [s.ref(1)] } });
    expect(target(rescued)).toBe(s.ref(1));
    sim.faults.clear();

    const byHeader = await ask("anything-at-all", {}, { "x-switchyard-policy": s.policy });
    expect(target(byHeader)).toBe(s.ref(0));
    expect((await callRow(app, byHeader)).policy).toBe(s.policy);
    const notPolicy = await ask("anything", {}, { "x-switchyard-policy": s.ref(0) });
    expect(notPolicy.status).toBe(404);
    expect(notPolicy.body.error.code).toBe("policy_not_found");

    const restricted = await createApiKey(app.rt.db.prisma, { ...tenant, name: "restricted", allowedModels: ["other-policy"] });
    const forbidden = await chat(app, restricted.key, { model: "other-policy", messages: [{ role: "user", content: prompt() }] }, { "x-switchyard-policy": s.policy });
    expect(forbidden.status).toBe(403);
  });

  it("dry-runs a request without calling upstream", async () => {
    const s = await fixture.scenario([{ name: "dear", input: "10", output: "40" }, { name: "cheap", input: "0.1", output: "0.4" }], (m) => ({
      strategy: "cheapest",
      targets: [m.target(0), m.target(1)],
      constraints: { maxCostUsd: 0.01 },
    }));
    const before = sim.count();
    const auth: AuthContext = { apiKeyId: "dry", orgId: tenant.orgId, teamId: tenant.teamId, ownerId: null, allowedModels: [], allowStore: false, rpmLimit: null, tpmLimit: null };
    const result = dryRun(app.rt.snapshot.current(), auth, { model: s.policy, messages: [{ role: "user", content: "What would this cost?" }], max_tokens: 100 });
    expect(sim.count()).toBe(before);
    expect(result.chosen).toMatchObject({ target: s.ref(1) });
    // 100 output tokens at $0.4/M plus a dozen prompt tokens at $0.1/M.
    expect(result.estimatedCostUsd).toBeGreaterThan(0.00004);
    expect(result.estimatedCostUsd).toBeLessThan(0.00005);
    expect(result.rejected).toEqual([]);
    const tooDear = dryRun(app.rt.snapshot.current(), auth, { model: s.policy, messages: [{ role: "user", content: "x" }], max_tokens: 100_000 });
    expect(tooDear.error).toMatchObject({ status: 400, code: "no_eligible_target" });
    expect(tooDear.rejected.map((r) => r.target)).toEqual([s.ref(0), s.ref(1)]);
  });

  describe("feedback", () => {
    const post = (body: unknown, apiKey = key) =>
      fetch(`${app.url}/api/v1/feedback`, { method: "POST", headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, body: JSON.stringify(body) });

    it("records a score for one of the organization's calls, and replaces it when sent again", async () => {
      const res = await ask("sim-openai/sim-small");
      const call = await callRow(app, res);
      const first = await post({ call_id: call.id, label: "pass" });
      expect(first.status).toBe(201);
      const saved = await first.json();
      expect(saved).toMatchObject({ object: "feedback", call_id: call.id, score: 1, label: "pass", target: "sim-openai/sim-small" });
      const again = await (await post({ call_id: call.id, score: 0.25 })).json();
      expect(again).toMatchObject({ id: saved.id, score: 0.25, label: null });
      expect(await app.rt.db.prisma.feedback.count({ where: { callId: call.id } })).toBe(1);
    });

    it("never reveals or scores another organization's call", async () => {
      const res = await ask("sim-openai/sim-small");
      const call = await callRow(app, res);
      const db = app.rt.db.prisma;
      const org = await db.organization.create({ data: { name: "Other", slug: `other-${Date.now()}` } });
      const team = await db.team.create({ data: { orgId: org.id, name: "t", slug: "t" } });
      const outsider = await createApiKey(db, { orgId: org.id, teamId: team.id, name: "outsider" });
      const denied = await post({ call_id: call.id, score: 0 }, outsider.key);
      expect(denied.status).toBe(404);
      expect((await denied.json()).error.code).toBe("call_not_found");
      expect(await db.feedback.count({ where: { callId: call.id } })).toBe(0);
    });

    it("validates the body and the key", async () => {
      expect((await post({ call_id: "x", score: 1, label: "pass" })).status).toBe(400);
      expect((await post({ call_id: "x", score: 2 })).status).toBe(400);
      expect((await post({ call_id: "missing", score: 1 })).status).toBe(404);
      expect((await post({ call_id: "x", score: 1 }, "sk-not-a-key")).status).toBe(401);
      const get = await fetch(`${app.url}/api/v1/feedback`, { headers: { authorization: `Bearer ${key}` } });
      expect(get.status).toBe(405);
    });

    it("trains the learned cascade classifier of a policy from its feedback", async () => {
      const s = await fixture.scenario([{ name: "small" }, { name: "large", input: "2.5", output: "10" }], (m) => ({
        strategy: "cascade",
        targets: [m.target(0), m.target(1)],
        classifier: { kind: "learned", minSamples: 20 },
        escalate: [{ when: { metadata: { force: "strong" } }, minTier: 1 }],
      }));
      const topics = ["geometry proof", "tax law", "organic chemistry", "poetry meter", "chess endgame", "compiler design"];
      // The cheap tier answers "casual" prompts well and "expert" prompts badly; the strong tier answers both.
      const feedback = async (kind: "casual" | "expert", strong: boolean, i: number) => {
        const text = kind === "casual" ? `casual chat about the weather and lunch ${topics[i % 6]} ${i}` : `expert question on ${topics[i % 6]} requiring deep expertise ${i}`;
        const res = await ask(s.policy, strong ? { metadata: { force: "strong" } } : {}, {}, text);
        const call = await callRow(app, res);
        expect((call.route as unknown as RouteRecord).tier).toBe(strong ? 1 : 0);
        const pass = strong || kind === "casual";
        expect((await post({ call_id: call.id, label: pass ? "pass" : "fail" })).status).toBe(201);
      };
      for (let i = 0; i < 24; i++) {
        await feedback("casual", false, i);
        await feedback("expert", false, i);
        await feedback(i % 2 === 0 ? "casual" : "expert", true, i);
      }
      const before = await routeOf(await ask(s.policy, {}, {}, "expert question on tax law requiring deep expertise"));
      expect(before.difficulty!.detail).toMatch(/learned model not trained yet/);

      const metrics = await engine.classifiers.train(tenant.orgId, s.policy);
      expect(metrics).not.toBeNull();
      expect(metrics!.labelled).toEqual([48, 24]);
      expect(await app.rt.db.prisma.routingModel.count({ where: { policy: s.policy } })).toBe(1);

      const expert = await routeOf(await ask(s.policy, {}, {}, "expert question on chess endgame requiring deep expertise"));
      expect(expert.difficulty).toMatchObject({ classifier: "learned", startTier: 1 });
      const casual = await routeOf(await ask(s.policy, {}, {}, "casual chat about the weather and lunch today"));
      expect(casual.difficulty).toMatchObject({ classifier: "learned", startTier: 0 });
    });
  });
});
