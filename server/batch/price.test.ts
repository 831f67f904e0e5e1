import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CatalogModel, ModelPrices } from "../catalog/model";
import { parseDecimal } from "../catalog/money";
import type { Target } from "../gateway/resolve";
import { priceBatchLine } from "./price";

const target = (prices: ModelPrices | null): Target =>
  ({ provider: { id: "p", name: "p", kind: "openai" }, modelId: "m", model: prices ? ({ prices } as CatalogModel) : null }) as Target;

const SMALL = target({ input: "0.15", output: "0.6", cacheRead: "0.075", batchInput: "0.075", batchOutput: "0.3", batchCacheRead: "0.0375" });
const LARGE = target({ input: "2.5", output: "10", cacheRead: "1.25", batchInput: "1.25", batchOutput: "5" });
const usage = { input: 1_000_000, cachedInput: 200_000, cacheWrite: 0, output: 500_000, reasoning: 0 };

describe("priceBatchLine", () => {
  it("bills a provider-batch line at batch prices and counts the difference as batch savings", () => {
    const money = priceBatchLine(usage, SMALL, LARGE, true);
    // standard: 0.8M × 0.15 + 0.2M × 0.075 + 0.5M × 0.6 = 0.435; batch: half of each class = 0.2175
    expect(money).toEqual({
      costUsd: "0.2175",
      baselineCostUsd: "7.5",
      savingsRoutingUsd: "7.05",
      savingsPromptCacheUsd: "0.015",
      savingsBatchUsd: "0.2175",
    });
  });

  it("bills a line that ran on the normal path at standard prices, with no batch saving", () => {
    const money = priceBatchLine(usage, SMALL, SMALL, false);
    expect(money).toMatchObject({ costUsd: "0.435", savingsBatchUsd: "0", savingsRoutingUsd: "0" });
  });

  it("costs nothing for a model the catalog does not price", () => {
    expect(priceBatchLine(usage, target(null), LARGE, true)).toMatchObject({ costUsd: "0", savingsBatchUsd: "0", baselineCostUsd: "0" });
  });

  it("prices compressed prompts as a live call does: the baseline is the client's prompt, the rest is compression savings", () => {
    const money = priceBatchLine(usage, SMALL, LARGE, true, 200_000);
    // 200k tokens removed before sending, at SMALL's standard input price; the baseline is 1.2M input on LARGE.
    expect(money).toMatchObject({ costUsd: "0.2175", baselineCostUsd: "8", savingsCompressionUsd: "0.03", savingsBatchUsd: "0.2175" });
  });

  it("always adds up: baseline − cost = routing + compression + prompt cache + batch savings", () => {
    const count = fc.integer({ min: 0, max: 5_000_000 });
    fc.assert(
      fc.property(count, count, count, count, fc.boolean(), (input, cachedShare, output, saved, viaBatch) => {
        const cachedInput = Math.min(input, cachedShare);
        const money = priceBatchLine({ input, cachedInput, cacheWrite: 0, output, reasoning: 0 }, SMALL, LARGE, viaBatch, saved);
        const d = (v: string) => parseDecimal(v);
        const compression = d(money.savingsCompressionUsd ?? "0");
        expect(d(money.baselineCostUsd) - d(money.costUsd)).toBe(d(money.savingsRoutingUsd) + compression + d(money.savingsPromptCacheUsd) + d(money.savingsBatchUsd));
      }),
    );
  });
});
