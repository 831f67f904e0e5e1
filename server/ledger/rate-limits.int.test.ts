/** RPM and TPM limits through the real HTTP API with the official openai SDK against the simulator. */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bumpConfigVersion } from "../gateway/snapshot";
import { createApiKey } from "../keys/service";
import { startSimulator, type Simulator } from "../providers/simulator";
import { seedSimulatorProviders, startTestServer, type TestServer } from "../testing/harness";

describe("rate limits through the HTTP API", () => {
  let sim: Simulator;
  let app: TestServer;
  let tenant: { orgId: string; teamId: string };

  const client = async (name: string, limits: { rpmLimit?: number; tpmLimit?: number } = {}) => {
    const { key } = await createApiKey(app.rt.db.prisma, { ...tenant, name, ...limits });
    return new OpenAI({ apiKey: key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
  };
  const ask = (c: OpenAI, model = "sim-openai/sim-small", max_tokens = 10) =>
    c.chat.completions.create({ model, messages: [{ role: "user", content: "Say hi" }], max_tokens }).withResponse();
  const settle = (c: OpenAI, model?: string, max_tokens?: number) =>
    ask(c, model, max_tokens).then(
      ({ response }) => ({ ok: true as const, headers: response.headers }),
      (error: InstanceType<typeof OpenAI.APIError>) => ({ ok: false as const, error }),
    );

  beforeAll(async () => {
    sim = await startSimulator();
    app = await startTestServer();
    tenant = (await seedSimulatorProviders(app, sim.url)).tenant;
  });
  afterAll(async () => {
    await app?.dispose();
    await sim?.close();
  });

  it("admits exactly a key's RPM out of a burst, and refuses the rest with Retry-After and x-ratelimit headers", async () => {
    const c = await client("rpm", { rpmLimit: 5 });
    const results = await Promise.all(Array.from({ length: 15 }, () => settle(c)));
    const admitted = results.filter((r) => r.ok);
    expect(admitted).toHaveLength(5);
    expect(admitted.map((r) => r.headers.get("x-ratelimit-limit-requests"))).toEqual(Array(5).fill("5"));
    expect(admitted.map((r) => r.headers.get("x-ratelimit-remaining-requests")).sort()).toEqual(["0", "1", "2", "3", "4"]);
    expect(admitted[0]!.headers.get("x-ratelimit-reset-requests")).toMatch(/^(\d+m)?[\d.]+s$/);
    const refused = results.filter((r) => !r.ok).map((r) => r.error);
    expect(refused).toHaveLength(10);
    for (const error of refused) {
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      expect(error.code).toBe("rate_limit_exceeded");
      expect(error.message).toContain("5 requests per minute");
      expect(Number(error.headers?.get("retry-after"))).toBeGreaterThan(0);
      expect(error.headers?.get("x-ratelimit-remaining-requests")).toBe("0");
    }
    expect(sim.count({ operation: "chat" })).toBeGreaterThanOrEqual(5);
  });

  it("counts tokens per minute: refuses a request that cannot fit, reports what is left", async () => {
    const c = await client("tpm", { tpmLimit: 120 });
    const first = await settle(c, undefined, 40);
    expect(first.ok).toBe(true);
    const headers = first.ok ? first.headers : new Headers();
    expect(headers.get("x-ratelimit-limit-tokens")).toBe("120");
    expect(Number(headers.get("x-ratelimit-remaining-tokens"))).toBeLessThan(120 - 40);
    const tooBig = await settle(c, undefined, 500);
    expect(tooBig.ok).toBe(false);
    if (!tooBig.ok) {
      expect(tooBig.error.code).toBe("rate_limit_exceeded");
      expect(tooBig.error.message).toMatch(/120 tokens per minute; this request alone counts about \d+ tokens/);
    }
  });

  it("applies a team's per-model limit to every key of the team, and only to that model", async () => {
    await app.rt.db.prisma.rateLimit.create({ data: { orgId: tenant.orgId, teamId: tenant.teamId, model: "sim-openai/sim-large", rpmLimit: 2 } });
    await bumpConfigVersion(app.rt.db.prisma);
    await app.rt.snapshot.refresh();
    const [one, two] = [await client("team-a"), await client("team-b")];
    expect((await settle(one, "sim-openai/sim-large")).ok).toBe(true);
    expect((await settle(two, "sim-openai/sim-large")).ok).toBe(true);
    const refused = await settle(one, "sim-openai/sim-large");
    expect(!refused.ok && refused.error.message).toContain(`team ${tenant.teamId} on model sim-openai/sim-large: 2 requests per minute`);
    expect((await settle(one, "sim-openai/sim-small")).ok).toBe(true);
  });
});
