import { describe, expect, it } from "vitest";
import type { ChatRequest } from "../providers/types";
import { exactKey, semanticParts, stableStringify } from "./key";

const base: ChatRequest = {
  model: "support-bot",
  temperature: 0,
  messages: [
    { role: "system", content: "You are terse." },
    { role: "user", content: "Where is platform 9?" },
  ],
};

describe("exactKey", () => {
  it("ignores what cannot change the answer", () => {
    const same: ChatRequest[] = [
      { ...base, stream: true, stream_options: { include_usage: true } },
      { ...base, user: "u-1", metadata: { trace: "a" }, safety_identifier: "s", store: true, service_tier: "flex" },
      { ...base, prompt_cache_key: "k", prompt_cache_retention: "24h", seed: null, top_p: null },
      { messages: base.messages, temperature: 0, model: "support-bot" },
      {
        ...base,
        messages: [
          { role: "system", content: [{ type: "text", text: "You are terse.", cache_control: { type: "ephemeral" } }] },
          { role: "user", content: "Where is platform 9?" },
        ],
      },
    ];
    const plain = exactKey({ ...base, messages: [{ role: "system", content: [{ type: "text", text: "You are terse." }] }, base.messages[1]!] }, null);
    expect(exactKey(same[4]!, null)).toBe(plain);
    for (const req of same.slice(0, 4)) expect(exactKey(req, null)).toBe(exactKey(base, null));
  });

  it("changes with every parameter that changes the answer", () => {
    const variants: ChatRequest[] = [
      { ...base, model: "other" },
      { ...base, temperature: 0.2 },
      { ...base, max_tokens: 10 },
      { ...base, seed: 1 },
      { ...base, stop: ["\n"] },
      { ...base, n: 2 },
      { ...base, response_format: { type: "json_object" } },
      { ...base, tools: [{ type: "function", function: { name: "f" } }] },
      { ...base, tool_choice: "required" },
      { ...base, reasoning_effort: "high" },
      { ...base, messages: [...base.messages.slice(0, 1), { role: "user", content: "Where is platform 10?" }] },
      { ...base, messages: [{ role: "user", content: "Where is platform 9?" }] },
    ];
    const keys = new Set([exactKey(base, null), ...variants.map((v) => exactKey(v, null))]);
    expect(keys.size).toBe(variants.length + 1);
    expect(exactKey(base, "policy@2")).not.toBe(exactKey(base, "policy@1"));
  });

  it("serializes with sorted keys and without null members", () => {
    expect(stableStringify({ b: 1, a: { d: null, c: [1, null] } })).toBe('{"a":{"c":[1,null]},"b":1}');
  });
});

describe("semanticParts", () => {
  it("splits the last user turn from a context hash of everything else", () => {
    const a = semanticParts(base, null)!;
    const b = semanticParts({ ...base, messages: [base.messages[0]!, { role: "user", content: "Which way to platform 9?" }] }, null)!;
    expect(a.query).toBe("Where is platform 9?");
    expect(b.context).toBe(a.context);
    expect(semanticParts({ ...base, messages: [{ role: "system", content: "Other prompt" }, base.messages[1]!] }, null)!.context).not.toBe(a.context);
    expect(semanticParts({ ...base, temperature: 0.5 }, null)!.context).not.toBe(a.context);
  });

  it("gives up on requests whose last turn is not plain user text", () => {
    expect(semanticParts({ ...base, messages: [...base.messages, { role: "assistant", content: "x", tool_calls: [] }] }, null)).toBeNull();
    expect(semanticParts({ ...base, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AA" } }] }] }, null)).toBeNull();
    expect(semanticParts({ ...base, messages: [{ role: "user", content: "   " }] }, null)).toBeNull();
    expect(semanticParts({ ...base, messages: [{ role: "user", content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] }] }, null)!.query).toBe("a\nb");
  });
});
