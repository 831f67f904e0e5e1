import { describe, expect, it } from "vitest";
import type { ChatMessage, ChatRequest } from "../providers/types";
import { anthropicMinimumTokens, planPromptCache } from "./prompt-cache";

const LONG = "Switchyards sort freight cars onto tracks by destination. ".repeat(150); // ~1,500 tokens
const SHORT = "Be brief.";
const breakpoints = (req: ChatRequest) =>
  req.messages.flatMap((m, i) => (Array.isArray(m.content) ? (m.content as Array<{ cache_control?: unknown }>).filter((p) => p.cache_control).map(() => i) : []));
const anthropic = { protocol: "anthropic" as const, model: "claude-sonnet-4-5" };

describe("planPromptCache for Anthropic", () => {
  it("marks the end of a long system prompt and the end of the conversation", () => {
    const req: ChatRequest = { model: "m", messages: [{ role: "system", content: LONG }, { role: "user", content: "Hello" }] };
    const planned = planPromptCache(req, anthropic);
    expect(breakpoints(planned)).toEqual([0, 1]);
    expect(planned.messages[0]).toEqual({ role: "system", content: [{ type: "text", text: LONG, cache_control: { type: "ephemeral" } }] });
    expect(req.messages[0]!.content).toBe(LONG); // the input is not mutated
  });

  it("marks the previous user turn so a follow-up reads what the last call wrote", () => {
    const messages: ChatMessage[] = [
      { role: "system", content: SHORT },
      { role: "user", content: LONG },
      { role: "assistant", content: "Noted." },
      { role: "user", content: [{ type: "text", text: "And passenger trains?" }] },
    ];
    expect(breakpoints(planPromptCache({ model: "m", messages }, anthropic))).toEqual([1, 3]);
  });

  it("places nothing below the model's minimum and leaves client breakpoints alone", () => {
    const short: ChatRequest = { model: "m", messages: [{ role: "system", content: SHORT }, { role: "user", content: "Hi" }] };
    expect(planPromptCache(short, anthropic)).toBe(short);
    const haiku = planPromptCache({ model: "m", messages: [{ role: "system", content: LONG }, { role: "user", content: "Hi" }] }, { protocol: "anthropic", model: "claude-haiku-4-5" });
    expect(breakpoints(haiku)).toEqual([]);
    expect(anthropicMinimumTokens("claude-3-5-haiku")).toBe(2048);
    const marked: ChatRequest = {
      model: "m",
      messages: [{ role: "system", content: [{ type: "text", text: LONG, cache_control: { type: "ephemeral", ttl: "1h" } }] }, { role: "user", content: LONG }],
    };
    expect(planPromptCache(marked, anthropic)).toBe(marked);
  });

  it("counts tools into the prefix, and never marks an assistant turn", () => {
    const tools = [{ type: "function" as const, function: { name: "lookup", description: LONG, parameters: { type: "object" } } }];
    const req: ChatRequest = { model: "m", tools, messages: [{ role: "system", content: SHORT }, { role: "user", content: "Go" }, { role: "assistant", content: "Ok" }] };
    expect(breakpoints(planPromptCache(req, anthropic))).toEqual([0, 1]);
  });
});

describe("planPromptCache for OpenAI and Gemini", () => {
  it("derives prompt_cache_key from a long stable prefix unless the client set one", () => {
    const req = (user: string): ChatRequest => ({ model: "m", messages: [{ role: "system", content: LONG }, { role: "user", content: user }] });
    const a = planPromptCache(req("first"), { protocol: "openai", model: "gpt-4o" });
    const b = planPromptCache(req("second"), { protocol: "openai", model: "gpt-4o" });
    expect(a.prompt_cache_key).toMatch(/^pc-[0-9a-f]{32}$/);
    expect(b.prompt_cache_key).toBe(a.prompt_cache_key);
    expect(planPromptCache({ ...req("x"), prompt_cache_key: "mine" }, { protocol: "openai", model: "gpt-4o" }).prompt_cache_key).toBe("mine");
    const short: ChatRequest = { model: "m", messages: [{ role: "user", content: "hi" }] };
    expect(planPromptCache(short, { protocol: "openai", model: "gpt-4o" })).toBe(short);
  });

  it("leaves Gemini requests to its implicit caching", () => {
    const req: ChatRequest = { model: "m", messages: [{ role: "system", content: LONG }, { role: "user", content: "hi" }] };
    expect(planPromptCache(req, { protocol: "gemini", model: "gemini-2.5-flash" })).toBe(req);
  });
});
