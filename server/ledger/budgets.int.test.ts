/**
 * Budgets through the real HTTP API with the official openai SDK against the simulator (reliability cases 18, 19):
 * on PGlite + in-memory counters, and on Postgres + Redis when DATABASE_URL / REDIS_URL are set.
 */
import OpenAI from "openai";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDecimal } from "../catalog/money";
import { bumpConfigVersion } from "../gateway/snapshot";
import { createApiKey } from "../keys/service";
import { startSimulator, type Simulator } from "../providers/simulator";
import { waitUntil } from "../state/store.contract";
import { seedSimulatorProviders, startTestServer, type TestServer } from "../testing/harness";
import { periodWindow } from "./periods";

const MODEL = "sim-openai/sim-small";
/** $100 per 1M input tokens, $200 per 1M output tokens: a short call costs about half a cent. */
const PRICES = { inputPrice: "100", outputPrice: "200" };

describe("budgets through the HTTP API", () => {
  let sim: Simulator;
  let app: TestServer;
  let tenant: { orgId: string; teamId: string };

  const db = () => app.rt.db.prisma;
  // 1,000 requests in flight from one client over a pool of sockets, as an SDK client does: opening 1,000
  // connections at once would overflow the listen backlog and test the kernel rather than the gateway.
  const agent = new Agent({ connections: 256 });
  const newKey = async (name: string) => {
    const { key, record } = await createApiKey(db(), { ...tenant, name });
    const fetch = ((url: string, init: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher: agent })) as unknown as typeof globalThis.fetch;
    return { key, id: record.id, client: new OpenAI({ apiKey: key, baseURL: `${app.url}/api/v1`, maxRetries: 0, fetch }) };
  };
  const budget = async (data: Record<string, unknown>) => {
    const row = await db().budget.create({ data: { orgId: tenant.orgId, ...data } as never });
    await bumpConfigVersion(db());
    // The ledger reloads budgets on the config change; admissions wait for that reload.
    await app.rt.snapshot.refresh();
    return row;
  };
  const costOf = async (apiKeyId: string) => {
    await app.rt.calls.flush();
    const rows = await db().call.findMany({ where: { apiKeyId }, select: { costUsd: true, status: true } });
    return { rows, total: rows.reduce((sum, r) => sum + parseDecimal(r.costUsd.toFixed()), 0n) };
  };
  const counter = (b: { id: string; period: string; timezone: string; createdAt: Date }) => {
    const window = periodWindow(b.period as "daily", b.timezone, Date.now(), b.createdAt);
    return app.rt.state.readCounter(`budget:${b.id}:-:${window.start.getTime()}`);
  };
  const ask = (client: OpenAI, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
    client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Count to three [[sim:tokens=40]]" }], max_tokens: 40, ...extra });
  const refusal = async (promise: Promise<unknown>) => {
    const error = await promise.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    return error as InstanceType<typeof OpenAI.APIError>;
  };

  beforeAll(async () => {
    sim = await startSimulator();
    app = await startTestServer();
    const seeded = await seedSimulatorProviders(app, sim.url);
    tenant = seeded.tenant;
    await db().modelOverride.create({ data: { orgId: tenant.orgId, modelId: "sim-small", ...PRICES } });
    // A model priced absurdly (an admin typo): 9 billion dollars per 1M tokens.
    const provider = await db().provider.findFirstOrThrow({ where: { name: "sim-openai" } });
    await db().modelOverride.create({
      data: { orgId: tenant.orgId, providerId: provider.id, modelId: "sim-typo", custom: true, inputPrice: "9000000000", outputPrice: "9000000000", maxOutput: 4096 },
    });
    await bumpConfigVersion(db());
    await app.rt.snapshot.refresh();
  });
  afterAll(async () => {
    await agent.close();
    await app?.dispose();
    await sim?.close();
  });

  it("never lets 1,000 concurrent requests spend more than a $1 budget, and reservations return to zero", { timeout: 120_000 }, async () => {
    const { id, client } = await newKey("race");
    const b = await budget({ scope: "api_key", apiKeyId: id, period: "lifetime", limitUsd: "1" });
    await waitUntil(async () => (await ask(client).catch(() => null)) !== null);
    const outcomes = await Promise.all(
      Array.from({ length: 1_000 }, async (_, i) => {
        try {
          if (i % 4 === 0) {
            const stream = await client.chat.completions.create({
              model: MODEL,
              messages: [{ role: "user", content: "Count to three [[sim:tokens=40]]" }],
              max_tokens: 40,
              stream: true,
            });
            for await (const _chunk of stream);
          } else {
            await ask(client);
          }
          return "ok";
        } catch (error) {
          return (error as { code?: string }).code ?? `${(error as Error).name}: ${(error as Error).message}`;
        }
      }),
    );
    const ok = outcomes.filter((o) => o === "ok").length;
    expect(ok).toBeGreaterThan(50);
    expect(new Set(outcomes.filter((o) => o !== "ok"))).toEqual(new Set(["budget_exceeded"]));
    expect(ok).toBeLessThan(1_000);

    // Streams settle as they end; then nothing stays reserved and the counter matches the call log exactly.
    await waitUntil(async () => (await counter(b)).reserved === 0n, 10_000);
    const { total, rows } = await costOf(id);
    expect(rows.filter((r) => r.status === 200)).toHaveLength(ok + 1);
    expect(total).toBeLessThanOrEqual(parseDecimal("1"));
    expect(total).toBeGreaterThan(parseDecimal("0.9"));
    expect(await counter(b)).toEqual({ spent: total, reserved: 0n, seeded: true });
  });

  it("answers 429 budget_exceeded naming the budget, its limit, spend and reset time, with Retry-After", async () => {
    const { id, client } = await newKey("exhausted");
    await ask(client);
    const { total } = await costOf(id);
    // Created after the spend: its counter is seeded from the call log.
    const b = await budget({ scope: "api_key", apiKeyId: id, period: "daily", limitUsd: "0.001" });
    const error = await refusal(ask(client));
    expect(error.status).toBe(429);
    expect(error.code).toBe("budget_exceeded");
    expect(error.message).toContain(`the daily budget of API key ${id} (budget ${b.id})`);
    expect(error.message).toContain("limit of $0.001");
    const spent = `$${(Number(total) / 1e10).toString()}`;
    expect(error.message).toContain(`${spent} spent`);
    const reset = periodWindow("daily", "UTC", Date.now()).end!;
    expect(error.message).toContain(`resets at ${reset.toISOString()}`);
    const retryAfter = Number(error.headers?.get("retry-after"));
    expect(Math.abs(retryAfter - (reset.getTime() - Date.now()) / 1000)).toBeLessThan(5);
    expect(error.headers?.get("x-switchyard-budget-id")).toBe(b.id);
    expect(error.headers?.get("x-switchyard-budget-spent-usd")).toBe(String(Number(total) / 1e10));
    expect(sim.count({ operation: "chat" })).toBeGreaterThan(0);
    // Exhausted: the 100% alert is recorded for the dashboard.
    await waitUntil(async () => (await db().budgetAlert.count({ where: { budgetId: b.id, threshold: 100 } })) === 1);
  });

  it("refuses a team's exhausted budget on the Anthropic and Responses surfaces too, in their envelopes, without calling upstream", async () => {
    const team = await db().team.create({ data: { orgId: tenant.orgId, name: "Exhausted team", slug: "exhausted-team" } });
    const { key } = await createApiKey(db(), { orgId: tenant.orgId, teamId: team.id, name: "team-exhausted" });
    const b = await budget({ scope: "team", teamId: team.id, period: "monthly", limitUsd: "0" });
    const calls = sim.count({ operation: "chat" });
    const post = (path: string, body: object) =>
      fetch(`${app.url}/api/v1${path}`, { method: "POST", headers: { "x-api-key": key, "content-type": "application/json" }, body: JSON.stringify({ model: MODEL, ...body }) });
    const reset = periodWindow("monthly", "UTC", Date.now()).end!.toISOString();

    const messages = await post("/messages", { max_tokens: 20, messages: [{ role: "user", content: "hi" }] });
    expect(messages.status).toBe(429);
    const anthropic = await messages.json();
    expect(anthropic).toMatchObject({ type: "error", error: { type: "rate_limit_error", code: "budget_exceeded" } });
    for (const part of [`the monthly budget of team ${team.id} (budget ${b.id})`, "limit of $0.00", "$0.00 spent", `resets at ${reset}`]) expect(anthropic.error.message).toContain(part);
    expect(messages.headers.get("x-switchyard-budget-scope")).toBe("team");
    expect(Number(messages.headers.get("retry-after"))).toBeGreaterThan(0);

    const responses = await post("/responses", { input: "hi" });
    expect(responses.status).toBe(429);
    expect((await responses.json()).error).toMatchObject({ code: "budget_exceeded", message: expect.stringContaining(`team ${team.id}`) });
    expect(sim.count({ operation: "chat" })).toBe(calls);
  });

  it("lets a call through with its output capped when less than its maximum cost is left", async () => {
    const { id, client } = await newKey("capped");
    const b = await budget({ scope: "api_key", apiKeyId: id, period: "daily", limitUsd: "0.01" });
    // 1,000 output tokens would cost $0.20; a bit under $0.01 is left, so about 40 tokens fit.
    const { data, response } = await ask(client, { max_tokens: 1_000, messages: [{ role: "user", content: "Talk a lot [[sim:tokens=900]]" }] }).withResponse();
    const cap = Number(response.headers.get("x-switchyard-budget-max-tokens"));
    expect(cap).toBeGreaterThan(10);
    expect(cap).toBeLessThan(50);
    expect(data.usage!.completion_tokens).toBeLessThanOrEqual(cap);
    expect(data.choices[0]!.finish_reason).toBe("length");
    const { total } = await costOf(id);
    expect(total).toBeLessThanOrEqual(parseDecimal("0.01"));
    expect(await counter(b)).toEqual({ spent: total, reserved: 0n, seeded: true });
  });

  it("never blocks a key without a budget, even on a mispriced model; a budgeted key is refused", async () => {
    const free = await newKey("no-budget");
    const { response } = await free.client.chat.completions
      .create({ model: "sim-openai/sim-typo", messages: [{ role: "user", content: "hi" }], max_tokens: 5 })
      .withResponse();
    expect(response.status).toBe(200);
    expect(Number(response.headers.get("x-switchyard-cost-usd"))).toBeGreaterThan(1_000);

    const capped = await newKey("budget-typo");
    await budget({ scope: "api_key", apiKeyId: capped.id, period: "monthly", limitUsd: "100" });
    const error = await refusal(capped.client.chat.completions.create({ model: "sim-openai/sim-typo", messages: [{ role: "user", content: "hi" }] }));
    expect(error.code).toBe("budget_exceeded");
    expect(error.message).toContain("does not cover this request's prompt");
  });

  it("charges a stream the client abandons for what it used, and releases the rest", async () => {
    const { id, client } = await newKey("abandon");
    const b = await budget({ scope: "api_key", apiKeyId: id, period: "daily", limitUsd: "5", hard: true });
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: MODEL, messages: [{ role: "user", content: "A long answer [[sim:tokens=400]]" }], stream: true, max_tokens: 500 },
      { signal: controller.signal, headers: { "x-sim-tps": "100" } } as never,
    );
    for await (const _chunk of stream) {
      controller.abort();
      break;
    }
    await waitUntil(async () => (await counter(b)).reserved === 0n, 10_000);
    const { total, rows } = await costOf(id);
    expect(rows).toHaveLength(1);
    expect(total).toBeGreaterThan(0n);
    expect((await counter(b)).spent).toBe(total);
  });

  it("counts soft budgets without refusing, and records each alert threshold once, refusing unsafe webhooks", async () => {
    const { id, client } = await newKey("soft");
    const b = await budget({
      scope: "api_key",
      apiKeyId: id,
      period: "weekly",
      limitUsd: "0.01",
      hard: false,
      alertThresholds: [50, 100],
      webhookUrl: "http://169.254.169.254/latest/meta-data/",
    });
    for (let i = 0; i < 4; i++) await ask(client);
    await waitUntil(async () => (await db().budgetAlert.count({ where: { budgetId: b.id, webhookStatus: { not: "pending" } } })) === 2);
    const alerts = await db().budgetAlert.findMany({ where: { budgetId: b.id }, orderBy: { threshold: "asc" } });
    expect(alerts.map((a) => [a.threshold, a.webhookStatus])).toEqual([
      [50, "blocked"],
      [100, "blocked"],
    ]);
    expect(Number(alerts[1]!.spendUsd)).toBeGreaterThanOrEqual(0.01);
    const { total } = await costOf(id);
    expect(total).toBeGreaterThan(parseDecimal("0.01"));
  });

  it.skipIf(!process.env.REDIS_URL)("fails closed with 503 when the shared counter store is down", async () => {
    const { id, client } = await newKey("store-down");
    await budget({ scope: "api_key", apiKeyId: id, period: "daily", limitUsd: "1" });
    await ask(client);
    await app.rt.state.close();
    const error = await refusal(ask(client));
    expect(error.status).toBe(503);
    expect(error.code).toBe("limits_unavailable");
  });
});
