/**
 * Prefix-sticky routing through the real HTTP API: requests sharing a long system prompt stay on the target that
 * served the prefix first (so they read its prompt cache), where a weighted policy would otherwise spread them;
 * a failure moves the prefix to the target that answered instead.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../providers/simulator";
import { configureRouting } from "../routing/engine";
import { callRow, chat, prompt, routingFixture } from "../routing/testing";
import { seedSimulatorProviders, startTestServer, type TestServer } from "../testing/harness";

const SYSTEM = "You are the dispatcher of a large freight switchyard. Answer questions about its tracks and cars. ".repeat(80);

describe("prefix-sticky routing through the gateway", () => {
  let sim: Simulator;
  let app: TestServer;
  let key: string;
  let fixture: ReturnType<typeof routingFixture>;
  let draw = 0;

  beforeAll(async () => {
    sim = await startSimulator();
    app = await startTestServer();
    const seeded = await seedSimulatorProviders(app, sim.url);
    key = seeded.key;
    // Draws alternate between the two halves, so a weighted 1:1 policy alternates without stickiness.
    configureRouting(app.rt, { retrainEvery: 1_000_000, random: () => (draw++ % 2 === 0 ? 0.25 : 0.75) });
    fixture = routingFixture(app, seeded.tenant.orgId);
  });
  afterAll(async () => {
    await app?.dispose();
    await sim?.close();
  });

  const ask = (policy: string, system: string) =>
    chat(app, key, { model: policy, messages: [{ role: "system", content: system }, { role: "user", content: prompt("Which track?") }] });
  const target = (res: { headers: Headers }) => res.headers.get("x-switchyard-target");

  it("keeps a shared long prefix on one target; short prefixes follow the weights", async () => {
    const s = await fixture.scenario([{ name: "a" }, { name: "b", provider: "sim-gemini" }], (m) => ({
      strategy: "weighted",
      targets: [m.target(0), m.target(1)],
      weights: [1, 1],
      sticky: "none",
    }));
    const short = new Set<string>();
    for (let i = 0; i < 4; i++) short.add(target(await ask(s.policy, `Be brief. #${i}`))!);
    expect(short).toEqual(new Set([s.ref(0), s.ref(1)]));

    const long: string[] = [];
    const notes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await ask(s.policy, SYSTEM);
      long.push(target(res)!);
      const route = (await callRow(app, res)).route as { candidates?: Array<{ notes: string[] }> };
      notes.push(route.candidates![0]!.notes.join("; "));
    }
    expect(new Set(long).size).toBe(1);
    // Every other draw would have picked the other target: there the explanation names the affinity.
    expect(notes.filter((n) => n.includes("prefix-sticky")).length).toBeGreaterThanOrEqual(2);
  });

  it("moves the prefix to the target that answered when the sticky one fails", async () => {
    const s = await fixture.scenario([{ name: "a" }, { name: "b", provider: "sim-gemini" }], (m) => ({
      strategy: "weighted",
      targets: [m.target(0), m.target(1)],
      weights: [1, 1],
      sticky: "none",
    }));
    const system = `${SYSTEM} Scenario two.`;
    const first = target(await ask(s.policy, system))!;
    const other = first === s.ref(0) ? s.ref(1) : s.ref(0);
    const failing = first.split("/")[1]!;
    sim.faults.add({ fault: "server_error", model: failing, times: "always" });
    expect(target(await ask(s.policy, system))).toBe(other);
    sim.faults.clear();
    for (let i = 0; i < 4; i++) expect(target(await ask(s.policy, system))).toBe(other);
  });
});
