/**
 * Gemini explicit context caching through the real HTTP API: the openai client calls Switchyard, which sends the
 * calls to the simulator's Gemini surface (cachedContents create/get/delete, cachedContentTokenCount). The cache is
 * created once the prefix's reuse passes the break-even, later requests name it and leave the prefix out, the call
 * rows are priced at the cache-read rate, an expired or vanished cache is recreated or skipped, and a failed
 * creation falls back to the full request.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decimalToString, parseDecimal } from "../catalog/money";
import { computeCost } from "../ledger/cost";
import { startSimulator, type Simulator } from "../providers/simulator";
import { SEEDED_PROVIDER_KEY, seedSimulatorProviders, startTestServer, type TestServer } from "../testing/harness";
import { breakEvenUses, configureContextCache, storageForTtl } from "./gemini-context";

const MODEL = "sim-gemini/sim-small";
const SYSTEM = "You are the dispatcher of a large freight switchyard. Answer questions about its tracks and cars. ".repeat(80);

describe("Gemini context caching through the gateway", () => {
  let sim: Simulator;
  let app: TestServer;
  let client: OpenAI;
  let clock = Date.parse("2026-11-01T00:00:00Z");
  const now = () => clock;
  let n = 0;

  const messages = (system: string): OpenAI.ChatCompletionMessageParam[] => [{ role: "system", content: system }, { role: "user", content: `Question number ${++n}: which track?` }];
  const ask = (system: string) => client.chat.completions.create({ model: MODEL, max_tokens: 32, messages: messages(system) });
  const askStream = (system: string) =>
    client.chat.completions.create({ model: MODEL, max_tokens: 32, messages: messages(system), stream: true, stream_options: { include_usage: true } });
  const chats = () => sim.requests.filter((r) => r.protocol === "gemini" && r.operation === "chat");
  const lastChat = () => chats().at(-1)!.body as { cachedContent?: string; systemInstruction?: unknown; contents: unknown[] };
  const lastRow = async () => {
    await app.rt.calls.flush();
    return (await app.rt.db.prisma.call.findMany({ orderBy: { createdAt: "desc" }, take: 1 }))[0]!;
  };
  const prices = () => [...app.rt.snapshot.current().orgs.values()][0]!.catalog.get("simulator", "sim-small")!.prices;
  const usageOf = (row: Awaited<ReturnType<typeof lastRow>>) => ({ input: row.inputTokens, cachedInput: row.cachedInputTokens, cacheWrite: row.cacheWriteTokens, output: row.outputTokens, reasoning: row.reasoningTokens });

  beforeAll(async () => {
    sim = await startSimulator({ now });
    app = await startTestServer();
    const seeded = await seedSimulatorProviders(app, sim.url);
    client = new OpenAI({ apiKey: seeded.key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
    configureContextCache(app.rt, { now, ttlSeconds: 600 });
  });
  afterAll(async () => {
    await app?.dispose();
    await sim?.close();
  });

  it("creates the cache at the break-even, then names it and leaves the prefix out; rows use the cache rates", async () => {
    const p = prices();
    const threshold = breakEvenUses({ input: p.input, cacheRead: p.cacheRead, storagePerMillionHour: 1, ttlSeconds: 600 });
    expect(threshold).toBeGreaterThan(1);
    const before = Math.floor(threshold);
    for (let i = 0; i < before; i++) {
      await ask(SYSTEM);
      expect(lastChat().cachedContent).toBeUndefined();
      expect(lastChat().systemInstruction).toBeDefined();
    }
    expect(sim.count({ protocol: "gemini", operation: "cache" })).toBe(0);

    // The request that passes the break-even creates the cache and uses it; its tokens are logged as a write.
    const creating = await ask(SYSTEM);
    expect(sim.count({ protocol: "gemini", operation: "cache" })).toBe(1);
    const create = sim.requests.find((r) => r.operation === "cache")!;
    expect(create.method).toBe("POST");
    expect(create.path).toBe("/gemini/v1beta/cachedContents");
    expect(create.body).toMatchObject({ model: "models/sim-small", ttl: "600s", systemInstruction: { parts: [{ text: SYSTEM }] } });
    expect(lastChat().cachedContent).toMatch(/^cachedContents\//);
    expect(lastChat().systemInstruction).toBeUndefined();
    const written = creating.usage!.prompt_tokens_details!.cache_write_tokens!;
    expect(written).toBeGreaterThan(1000);
    let row = await lastRow();
    expect(row.cacheWriteTokens).toBe(written);
    expect(row.cachedInputTokens).toBe(0);
    // The creating call also pays the cache's storage for its TTL (1.00 per 1M token-hours, 10 minutes) and its own
    // read of the new cache.
    const storage = storageForTtl(1, 600);
    const withStorage = { ...p, cacheWrite: decimalToString(parseDecimal(p.cacheWrite ?? p.input) + parseDecimal(storage) + parseDecimal(p.cacheRead ?? "0")) };
    expect(row.costUsd.toString()).toBe(decimalToString(computeCost(usageOf(row), withStorage).total));
    expect(Number(row.costUsd)).toBeGreaterThan(Number(decimalToString(computeCost({ ...usageOf(row), cacheWrite: 0 }, p).total)));
    expect(Number(row.savingsPromptCacheUsd)).toBeLessThan(0);

    // The next one reads it: cached tokens at the cache-read rate, the difference saved under prompt caching.
    const reading = await ask(SYSTEM);
    expect(sim.count({ protocol: "gemini", operation: "cache" })).toBe(1);
    expect(reading.usage!.prompt_tokens_details!.cached_tokens).toBe(written);
    row = await lastRow();
    expect(row.cachedInputTokens).toBe(written);
    expect(row.costUsd.toString()).toBe(decimalToString(computeCost(usageOf(row), p).total));
    const uncached = computeCost({ ...usageOf(row), cachedInput: 0 }, p).total;
    expect(row.savingsPromptCacheUsd.toString()).toBe(decimalToString(uncached - computeCost(usageOf(row), p).total));
    expect(Number(row.savingsPromptCacheUsd)).toBeGreaterThan(0);

    // Streams use it too.
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of await askStream(SYSTEM)) usage = chunk.usage ?? usage;
    expect(lastChat().cachedContent).toBeDefined();
    expect(usage!.prompt_tokens_details!.cached_tokens).toBe(written);
  });

  it("recreates the cache after it expires", async () => {
    const name = lastChat().cachedContent;
    clock += 601_000;
    await ask(SYSTEM);
    expect(sim.count({ protocol: "gemini", operation: "cache" })).toBe(2);
    expect(lastChat().cachedContent).toBeDefined();
    expect(lastChat().cachedContent).not.toBe(name);
  });

  it("sends the full request when the upstream lost the cache", async () => {
    sim.reset(); // drops every cached content
    const answer = await ask(SYSTEM);
    expect(answer.choices[0]!.message.content).toBeTruthy();
    const [stale, full] = chats().slice(-2);
    expect((stale!.body as { cachedContent?: string }).cachedContent).toBeDefined();
    expect(stale!.status).toBe(403);
    expect((full!.body as { cachedContent?: string }).cachedContent).toBeUndefined();
    expect((full!.body as { systemInstruction?: unknown }).systemInstruction).toBeDefined();
  });

  it("falls back to the full request when creating the cache fails", async () => {
    sim.reset();
    const other = `${SYSTEM} Always answer in French.`;
    sim.faults.add({ fault: "server_error", protocol: "gemini", operation: "cache", times: "always" });
    for (let i = 0; i < 8; i++) {
      const answer = await ask(other);
      expect(answer.choices[0]!.message.content).toBeTruthy();
      expect(lastChat().cachedContent).toBeUndefined();
    }
    // One failed attempt, then the prefix backs off instead of trying on every call.
    expect(sim.count({ protocol: "gemini", operation: "cache" })).toBe(1);
    expect(app.logs.text()).not.toContain(SEEDED_PROVIDER_KEY);
  });
});
