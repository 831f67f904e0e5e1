import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CatalogModel } from "../catalog/model";
import type { ChatRequest } from "../providers/types";
import { FALLBACK_MAX_OUTPUT, estimateMaxCost } from "./estimate";

const model = (prices: Record<string, string>, maxOutput: number | null = 1_000, contextWindow: number | null = 10_000) =>
  ({ prices, maxOutput, contextWindow }) as unknown as CatalogModel;
const request = (extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: "m", messages: [], ...extra });

describe("estimateMaxCost", () => {
  it("prices prompt (with the tokenizer margin) and the request's output cap, rounding up", () => {
    // 100 o200k tokens → 125 reserved; $3/M in, $15/M out; 200 output tokens.
    const e = estimateMaxCost(request({ max_tokens: 200 }), [model({ input: "3", output: "15" })], 100);
    expect(e.promptTokens).toBe(125);
    expect(e.outputTokens).toBe(200);
    expect(e.amount).toBe(125n * 30_000n + 200n * 150_000n);
    expect(e.minimum).toBe(125n * 30_000n + 150_000n);
  });

  it("takes the highest input-side and output-side prices (cache writes, reasoning)", () => {
    const e = estimateMaxCost(request({ max_completion_tokens: 10 }), [model({ input: "3", cacheWrite: "3.75", output: "15", reasoning: "20" })], 4);
    expect(e.amount).toBe(5n * 37_500n + 10n * 200_000n);
  });

  it("prices the most expensive target, and multiplies the output by n", () => {
    const cheap = model({ input: "0.1", output: "0.4" });
    const dear = model({ input: "10", output: "30" }, 50);
    const e = estimateMaxCost(request({ n: 3 }), [cheap, dear, null], 8);
    // No cap in the request: each model's own maximum output; the dear one wins.
    expect(e.outputTokens).toBe(3 * FALLBACK_MAX_OUTPUT);
    expect(e.amount).toBe([10n * 1_000n + 3n * 1_000n * 4_000n, 10n * 100_000n + 3n * 50n * 300_000n].reduce((a, b) => (a > b ? a : b)));
  });

  it("falls back to the context window, then to a fixed cap, when the model has no maximum output", () => {
    expect(estimateMaxCost(request(), [model({ input: "1", output: "1" }, null, 1_000)], 400).outputTokens).toBe(500);
    expect(estimateMaxCost(request(), [model({ input: "1", output: "1" }, null, null)], 400).outputTokens).toBe(FALLBACK_MAX_OUTPUT);
  });

  it("costs nothing for uncatalogued (self-hosted) models", () => {
    const e = estimateMaxCost(request({ max_tokens: 100 }), [null], 1_000);
    expect([e.amount, e.minimum]).toEqual([0n, 0n]);
    expect(e.capFor(0n)).toBeNull();
  });

  it("caps the output to the largest value whose worst case fits the grant, on every target", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 50_000 })), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: 5_000 }),
        fc.option(fc.integer({ min: 1, max: 50_000 }), { nil: undefined }),
        fc.integer({ min: 1, max: 4 }),
        fc.bigInt({ min: 0n, max: 10n ** 9n }),
        (specs, prompt, cap, n, extra) => {
          const models = specs.map(([inCents, outCents, maxOut]) => model({ input: String(inCents / 100), output: String(outCents / 100) }, maxOut));
          const e = estimateMaxCost(request({ max_tokens: cap, n }), models, prompt);
          const grant = e.minimum + extra;
          const capped = e.capFor(grant);
          if (e.amount <= grant) {
            expect(capped).toBeNull();
            return;
          }
          expect(capped).not.toBeNull();
          const at = (perChoice: number) => estimateMaxCost(request({ max_tokens: perChoice, n }), models, prompt).amount;
          expect(at(capped!)).toBeLessThanOrEqual(grant);
          expect(capped!).toBeLessThan(cap ?? Number.MAX_SAFE_INTEGER);
          // Tight: one more token per choice would not fit on some target (unless a model's own maximum binds).
          const bound = Math.min(...specs.map(([, , m]) => cap ?? m));
          if (capped! < bound) expect(at(capped! + 1)).toBeGreaterThan(grant);
        },
      ),
      { numRuns: 300 },
    );
  });
});
