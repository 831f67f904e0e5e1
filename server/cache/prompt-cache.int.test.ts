/**
 * The prompt-cache planner end to end with the provider adapters and the simulator (which implements Anthropic's
 * breakpoint rules and OpenAI's automatic prefix cache): the planned request writes the prefix on the first call
 * and reads it on the next.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAdapter } from "../providers/registry";
import { startSimulator, type Simulator } from "../providers/simulator";
import { normalizeUsage, type ChatRequest, type Protocol, type ProviderKind } from "../providers/types";
import { planPromptCache } from "./prompt-cache";

const SYSTEM = "You are the dispatcher of a large freight switchyard. Answer questions about its tracks. ".repeat(90);

describe("prompt-cache planner against the simulator", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(async () => {
    await sim?.close();
  });

  const call = async (kind: ProviderKind, protocol: Protocol, path: string, model: string, req: ChatRequest) => {
    const adapter = getAdapter(kind);
    const target = { kind, baseUrl: `${sim.url}/${path}`, apiKey: "sk-test", model };
    const spec = adapter.buildRequest(planPromptCache(req, { protocol, model }), target);
    const res = await fetch(spec.url, { method: "POST", headers: spec.headers, body: spec.body });
    expect(res.status).toBe(200);
    return { body: JSON.parse(spec.body) as Record<string, unknown>, usage: normalizeUsage(adapter.parseResponse(await res.json(), target).usage)! };
  };

  it("Anthropic: breakpoints on the system prompt and the conversation; the second call reads the cache", async () => {
    const turn1: ChatRequest = { model: "x", messages: [{ role: "system", content: SYSTEM }, { role: "user", content: "Which track takes the tank cars?" }] };
    const first = await call("anthropic", "anthropic", "anthropic/v1", "claude-sonnet-4-5", turn1);
    expect(first.body.system).toEqual([{ type: "text", text: SYSTEM, cache_control: { type: "ephemeral" } }]);
    const turns = first.body.messages as Array<{ content: Array<{ cache_control?: unknown }> }>;
    expect(turns.at(-1)!.content.at(-1)!.cache_control).toEqual({ type: "ephemeral" });
    expect(first.usage.cacheWrite).toBeGreaterThan(1000);
    expect(first.usage.cachedInput).toBe(0);

    const turn2: ChatRequest = {
      ...turn1,
      messages: [...turn1.messages, { role: "assistant", content: "Track 7." }, { role: "user", content: "And the flat cars?" }],
    };
    const second = await call("anthropic", "anthropic", "anthropic/v1", "claude-sonnet-4-5", turn2);
    expect(second.usage.cachedInput).toBeGreaterThanOrEqual(first.usage.cacheWrite);
    expect(second.usage.input).toBeGreaterThan(second.usage.cachedInput);
  });

  it("OpenAI: one prompt_cache_key for requests sharing the prefix, and the automatic cache reads it", async () => {
    const ask = (q: string): ChatRequest => ({ model: "x", messages: [{ role: "system", content: SYSTEM }, { role: "user", content: q }] });
    const first = await call("openai", "openai", "openai/v1", "gpt-4o", ask("Which track takes the tank cars?"));
    const second = await call("openai", "openai", "openai/v1", "gpt-4o", ask("Which track takes the flat cars?"));
    expect(first.body.prompt_cache_key).toBeTruthy();
    expect(second.body.prompt_cache_key).toBe(first.body.prompt_cache_key);
    expect(second.usage.cachedInput).toBeGreaterThan(1000);
  });
});
