/**
 * Provider prompt caching through the real HTTP API: the official @anthropic-ai/sdk and openai clients call
 * Switchyard, which plans breakpoints on every attempt and sends the call to the simulator (which implements
 * Anthropic's breakpoint rules). A long static system prompt gets `cache_control` without the client asking, the
 * second call reads the cache, and the call rows are priced at the cache-read / cache-write rates with the
 * difference recorded as prompt-cache savings.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { decimalToString } from "../catalog/money";
import { computeCost } from "../ledger/cost";
import { startSimulator, type Simulator } from "../providers/simulator";
import { seedSimulatorProviders, startTestServer, type TestServer } from "../testing/harness";

const MODEL = "sim-anthropic/sim-claude";
const SYSTEM = "You are the dispatcher of a large freight switchyard. Answer questions about its tracks and cars. ".repeat(80);

describe("provider prompt caching through the gateway", () => {
  let sim: Simulator;
  let app: TestServer;
  let key: string;

  const rows = async (n: number) => {
    await app.rt.calls.flush();
    return (await app.rt.db.prisma.call.findMany({ orderBy: { createdAt: "asc" } })).slice(-n);
  };
  const prices = () => {
    const org = [...app.rt.snapshot.current().orgs.values()][0]!;
    const model = org.catalog.get("simulator", "sim-claude");
    if (!model) throw new Error("sim-claude is not in the catalog");
    return model.prices;
  };
  const upstreamSystem = (n: number) => (sim.requests.filter((r) => r.protocol === "anthropic" && r.operation === "chat").at(n)!.body as { system: unknown }).system;

  beforeAll(async () => {
    sim = await startSimulator();
    app = await startTestServer();
    key = (await seedSimulatorProviders(app, sim.url)).key;
  });
  afterAll(async () => {
    await app?.dispose();
    await sim?.close();
  });
  beforeEach(() => sim.reset());

  it("@anthropic-ai/sdk: breakpoints are added, the second call reads the cache, the rows use cache rates", async () => {
    const client = new Anthropic({ apiKey: key, baseURL: `${app.url}/api`, maxRetries: 0 });
    const ask = (question: string) => client.messages.create({ model: MODEL, max_tokens: 64, system: SYSTEM, messages: [{ role: "user", content: question }] });

    const first = await ask("Which track takes the tank cars?");
    expect(upstreamSystem(-1)).toEqual([{ type: "text", text: SYSTEM, cache_control: { type: "ephemeral" } }]);
    expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(1000);
    expect(first.usage.cache_read_input_tokens ?? 0).toBe(0);

    const second = await ask("Which track takes the flat cars?");
    expect(upstreamSystem(-1)).toEqual([{ type: "text", text: SYSTEM, cache_control: { type: "ephemeral" } }]);
    // The system prompt's prefix is read back; the first call also wrote its own user turn (the tail breakpoint).
    expect(second.usage.cache_read_input_tokens).toBeGreaterThan(1000);
    expect(second.usage.cache_read_input_tokens).toBeLessThanOrEqual(first.usage.cache_creation_input_tokens!);

    const [write, read] = await rows(2);
    const p = prices();
    expect(p.cacheRead).toBeDefined();
    expect(p.cacheWrite).toBeDefined();
    // The write: tokens logged as cache writes, priced at the write rate (dearer than input: negative savings).
    expect(write!.cacheWriteTokens).toBe(first.usage.cache_creation_input_tokens);
    expect(write!.cachedInputTokens).toBe(0);
    const writeUsage = { input: write!.inputTokens, cachedInput: 0, cacheWrite: write!.cacheWriteTokens, output: write!.outputTokens, reasoning: write!.reasoningTokens };
    expect(write!.costUsd.toString()).toBe(decimalToString(computeCost(writeUsage, p).total));
    expect(Number(write!.savingsPromptCacheUsd)).toBeLessThan(0);
    // The read: cached tokens at the read rate; the saving is what they would have cost as plain input.
    expect(read!.cachedInputTokens).toBe(second.usage.cache_read_input_tokens);
    const readUsage = { input: read!.inputTokens, cachedInput: read!.cachedInputTokens, cacheWrite: read!.cacheWriteTokens, output: read!.outputTokens, reasoning: read!.reasoningTokens };
    expect(read!.costUsd.toString()).toBe(decimalToString(computeCost(readUsage, p).total));
    const uncached = computeCost({ ...readUsage, cachedInput: 0, cacheWrite: 0 }, p).total;
    expect(read!.savingsPromptCacheUsd.toString()).toBe(decimalToString(uncached - computeCost(readUsage, p).total));
    expect(Number(read!.savingsPromptCacheUsd)).toBeGreaterThan(0);
    // Prompt caching is its own lever: neither the response cache nor routing claims it.
    expect(Number(read!.savingsCacheUsd ?? 0)).toBe(0);
    expect(Number(read!.savingsRoutingUsd)).toBe(0);
  });

  it("openai client to an Anthropic target: the same breakpoints, cache reads reported as cached_tokens", async () => {
    const client = new OpenAI({ apiKey: key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
    const ask = (question: string) =>
      client.chat.completions.create({ model: MODEL, max_tokens: 64, messages: [{ role: "system", content: SYSTEM }, { role: "user", content: question }] });
    await ask("How many switches does the hump have?");
    expect(upstreamSystem(-1)).toEqual([{ type: "text", text: SYSTEM, cache_control: { type: "ephemeral" } }]);
    const second = await ask("How many switches does the yard have?");
    expect(second.usage!.prompt_tokens_details!.cached_tokens).toBeGreaterThan(1000);
    const [, read] = await rows(2);
    expect(read!.cachedInputTokens).toBe(second.usage!.prompt_tokens_details!.cached_tokens);
    expect(Number(read!.savingsPromptCacheUsd)).toBeGreaterThan(0);
  });

  it("leaves a short system prompt alone (below the model's minimum cacheable length)", async () => {
    const client = new Anthropic({ apiKey: key, baseURL: `${app.url}/api`, maxRetries: 0 });
    const message = await client.messages.create({ model: MODEL, max_tokens: 32, system: "You are terse.", messages: [{ role: "user", content: "Hi" }] });
    const system = upstreamSystem(-1);
    expect(JSON.stringify(system)).not.toContain("cache_control");
    expect(message.usage.cache_creation_input_tokens ?? 0).toBe(0);
    const [row] = await rows(1);
    expect(Number(row!.savingsPromptCacheUsd)).toBe(0);
  });
});
