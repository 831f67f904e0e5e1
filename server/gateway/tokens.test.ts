import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { describe, expect, it } from "vitest";
import { estimatePromptTokens, estimateTextTokens } from "./tokens";

describe("token estimates", () => {
  it("count with the tokenizer, the same on a repeat of a long text (memoized) as the first time", () => {
    const long = "The switchyard sorts freight cars onto their tracks. ".repeat(40);
    expect(estimateTextTokens(long)).toBe(countTokens(long));
    expect(estimateTextTokens(long)).toBe(countTokens(long));
    expect(estimateTextTokens("hello there")).toBe(countTokens("hello there"));
    expect(estimateTextTokens("")).toBe(0);
  });

  it("stay exact while the memo evicts (many distinct long texts)", () => {
    const texts = Array.from({ length: 60 }, (_, i) => `${i} `.repeat(20_000 + i));
    for (const text of texts) expect(estimateTextTokens(text)).toBe(countTokens(text));
    expect(estimateTextTokens(texts[0]!)).toBe(countTokens(texts[0]!));
  });

  it("add framing per message and request", () => {
    const system = "You are terse. ".repeat(100);
    expect(estimatePromptTokens([{ role: "system", content: system }, { role: "user", content: "hi" }])).toBe(3 + 3 + countTokens(system) + 3 + countTokens("hi"));
  });
});
