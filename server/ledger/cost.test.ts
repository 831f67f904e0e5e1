import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../catalog/catalog";
import { deriveBatchPrices, type ModelPrices } from "../catalog/model";
import { decimalToString, parseDecimal } from "../catalog/money";
import { computeCost, formatUsd, type TokenUsage } from "./cost";

const usd = (text: string) => parseDecimal(text);
const usage = (u: Partial<TokenUsage>): TokenUsage => ({ input: 0, cachedInput: 0, cacheWrite: 0, output: 0, reasoning: 0, ...u });

const GPT_4O_MINI: ModelPrices = { input: "0.15", output: "0.6", cacheRead: "0.075" };
const SONNET: ModelPrices = {
  input: "3",
  output: "15",
  cacheRead: "0.3",
  cacheWrite: "3.75",
  batchInput: "1.5",
  batchOutput: "7.5",
  batchCacheRead: "0.15",
  batchCacheWrite: "1.875",
};

describe("computeCost", () => {
  it("prices 1M tokens of each class at exactly the per-1M price", () => {
    const cost = computeCost(usage({ input: 1_000_000, output: 1_000_000 }), GPT_4O_MINI);
    expect(decimalToString(cost.breakdown.input)).toBe("0.15");
    expect(decimalToString(cost.breakdown.output)).toBe("0.6");
    expect(decimalToString(cost.total)).toBe("0.75");
  });

  it("counts cached and cache-write tokens once, out of input, at their own prices", () => {
    const cost = computeCost(usage({ input: 10_000, cachedInput: 6_000, cacheWrite: 3_000, output: 500 }), SONNET);
    // uncached 1,000 × $3/M; cached 6,000 × $0.30/M; written 3,000 × $3.75/M; output 500 × $15/M
    expect(decimalToString(cost.breakdown.input)).toBe("0.003");
    expect(decimalToString(cost.breakdown.cachedInput)).toBe("0.0018");
    expect(decimalToString(cost.breakdown.cacheWrite)).toBe("0.01125");
    expect(decimalToString(cost.breakdown.output)).toBe("0.0075");
    expect(cost.breakdown.reasoning).toBe(0n);
    expect(decimalToString(cost.total)).toBe("0.02355");
  });

  it("splits reasoning out of output and prices it at the reasoning price when there is one", () => {
    const prices: ModelPrices = { input: "3", output: "15", reasoning: "20" };
    const cost = computeCost(usage({ input: 100, output: 1_000, reasoning: 400 }), prices);
    expect(decimalToString(cost.breakdown.output)).toBe("0.009"); // 600 × 15/M
    expect(decimalToString(cost.breakdown.reasoning)).toBe("0.008"); // 400 × 20/M
    const noReasoningPrice = computeCost(usage({ input: 100, output: 1_000, reasoning: 400 }), GPT_4O_MINI);
    expect(noReasoningPrice.breakdown.output + noReasoningPrice.breakdown.reasoning).toBe(usd("0.0006"));
  });

  it("falls back to the input price for cache classes without a price", () => {
    const cost = computeCost(usage({ input: 2_000_000, cachedInput: 1_000_000, cacheWrite: 1_000_000 }), {
      input: "2",
      output: "8",
    });
    expect(cost.breakdown.cachedInput).toBe(usd("2"));
    expect(cost.breakdown.cacheWrite).toBe(usd("2"));
    expect(cost.breakdown.input).toBe(0n);
  });

  it("applies batch prices to every class, reasoning billed as batch output", () => {
    const u = usage({ input: 1_000_000, cachedInput: 200_000, cacheWrite: 100_000, output: 300_000, reasoning: 100_000 });
    const standard = computeCost(u, SONNET);
    const batch = computeCost(u, SONNET, { batch: true });
    expect(batch.breakdown).toEqual({
      input: usd("1.05"), // 700k × 1.5
      cachedInput: usd("0.03"), // 200k × 0.15
      cacheWrite: usd("0.1875"), // 100k × 1.875
      output: usd("1.5"), // 200k × 7.5
      reasoning: usd("0.75"), // 100k × 7.5
    });
    expect(batch.total * 2n).toBe(standard.total);
  });

  it("costs a batch call at standard prices when the model has no batch prices", () => {
    const u = usage({ input: 1234, cachedInput: 34, output: 99 });
    expect(computeCost(u, GPT_4O_MINI, { batch: true })).toEqual(computeCost(u, GPT_4O_MINI));
  });

  it("uses the standard cache price in batch mode when only batch input/output prices exist", () => {
    const prices: ModelPrices = { input: "1", output: "2", cacheRead: "0.5", batchInput: "0.4", batchOutput: "1" };
    const cost = computeCost(usage({ input: 2_000_000, cachedInput: 1_000_000, cacheWrite: 1_000_000 }), prices, { batch: true });
    expect(cost.breakdown.cachedInput).toBe(usd("0.5"));
    expect(cost.breakdown.cacheWrite).toBe(usd("0.4")); // no cache-write price: billed as (batch) input
  });

  it("rounds each class half away from zero at 10^-10 USD", () => {
    // 1 token × $0.00000015/M = 1.5 × 10^-13 USD → rounds to 0; 1 token at $0.00005/M = 5·10^-11 → 1 unit
    expect(computeCost(usage({ input: 1 }), { input: "0.00000015", output: "0" }).total).toBe(0n);
    expect(computeCost(usage({ input: 1 }), { input: "0.00005", output: "0" }).total).toBe(1n);
    expect(computeCost(usage({ input: 1 }), { input: "0.0000499", output: "0" }).total).toBe(0n);
  });

  it("is reproducible from a logged row: same tokens and prices, same decimal", () => {
    const u = usage({ input: 123_457, cachedInput: 100_000, output: 8_765, reasoning: 5_000 });
    const first = decimalToString(computeCost(u, GPT_4O_MINI).total);
    // 23,457 × 0.15/M + 100,000 × 0.075/M + 8,765 × 0.6/M = 0.00351855 + 0.0075 + 0.005259
    expect(first).toBe("0.01627755");
    expect(decimalToString(computeCost({ ...u }, { ...GPT_4O_MINI }).total)).toBe(first);
  });

  it("ignores fields outside the five token classes", () => {
    const extended = { ...usage({ input: 10 }), estimated: true } as TokenUsage;
    expect(computeCost(extended, GPT_4O_MINI).total).toBe(computeCost(usage({ input: 10 }), GPT_4O_MINI).total);
  });

  it.each([
    [{ input: -1 }, /usage.input/],
    [{ output: 1.5 }, /usage.output/],
    [{ input: Number.NaN }, /usage.input/],
    [{ input: 10, cachedInput: 6, cacheWrite: 5 }, /cachedInput \+ usage.cacheWrite/],
    [{ output: 3, reasoning: 4 }, /reasoning/],
  ])("refuses inconsistent usage %o", (u, message) => {
    expect(() => computeCost(usage(u), GPT_4O_MINI)).toThrow(message);
  });

  it("costs the catalog's simulator models like the models they mirror", () => {
    const catalog = loadCatalog();
    const u = usage({ input: 5_000, cachedInput: 1_000, output: 700 });
    const sim = catalog.get("simulator", "sim-small");
    const real = catalog.get("openai", "gpt-4o-mini");
    expect(sim && real).toBeTruthy();
    expect(computeCost(u, sim!.prices)).toEqual(computeCost(u, real!.prices));
  });
});

// Prices with up to 10 fractional digits, as the database stores them.
const priceArb = fc.bigInt({ min: 0n, max: 200n * 10n ** 10n }).map(decimalToString);
const pricesArb = fc
  .record({
    input: priceArb,
    output: priceArb,
    extraReasoning: fc.option(priceArb, { nil: undefined }),
    cacheRead: fc.option(priceArb, { nil: undefined }),
    cacheWrite: fc.option(priceArb, { nil: undefined }),
    batch: fc.boolean(),
  })
  .map(({ input, output, extraReasoning, cacheRead, cacheWrite, batch }): ModelPrices => {
    const published: ModelPrices = {
      input,
      output,
      // Reasoning is never priced below output by any provider.
      ...(extraReasoning !== undefined && { reasoning: decimalToString(parseDecimal(output) + parseDecimal(extraReasoning)) }),
      ...(cacheRead !== undefined && { cacheRead }),
      ...(cacheWrite !== undefined && { cacheWrite }),
    };
    return batch ? deriveBatchPrices("openai", published).prices : published;
  });
const count = fc.integer({ min: 0, max: 50_000_000 });
const usageArb = fc
  .record({ uncached: count, cachedInput: count, cacheWrite: count, visible: count, reasoning: count })
  .map(({ uncached, cachedInput, cacheWrite, visible, reasoning }) =>
    usage({ input: uncached + cachedInput + cacheWrite, cachedInput, cacheWrite, output: visible + reasoning, reasoning }),
  );

describe("computeCost properties", () => {
  it("is non-negative and its breakdown sums to the total", () => {
    fc.assert(
      fc.property(usageArb, pricesArb, fc.boolean(), (u, prices, batch) => {
        const { total, breakdown } = computeCost(u, prices, { batch });
        const parts = Object.values(breakdown);
        expect(parts.every((part) => part >= 0n)).toBe(true);
        expect(parts.reduce((a, b) => a + b, 0n)).toBe(total);
      }),
    );
  });

  it("never decreases when more tokens of any class are used", () => {
    fc.assert(
      fc.property(
        usageArb,
        pricesArb,
        fc.boolean(),
        fc.constantFrom("uncached", "cachedInput", "cacheWrite", "visible", "reasoning"),
        count,
        (u, prices, batch, grow, extra) => {
          const more = { ...u };
          if (grow === "uncached") more.input += extra;
          if (grow === "cachedInput" || grow === "cacheWrite") {
            more[grow] += extra;
            more.input += extra;
          }
          if (grow === "visible") more.output += extra;
          if (grow === "reasoning") {
            more.reasoning += extra;
            more.output += extra;
          }
          expect(computeCost(more, prices, { batch }).total >= computeCost(u, prices, { batch }).total).toBe(true);
        },
      ),
    );
  });

  it("costs a batch call no more than the same call outside batch", () => {
    fc.assert(
      fc.property(usageArb, pricesArb, (u, prices) => {
        expect(computeCost(u, prices, { batch: true }).total <= computeCost(u, prices).total).toBe(true);
      }),
    );
  });

  it("is within half a 10^-10 USD unit of the exact rational cost, per class", () => {
    fc.assert(
      fc.property(usageArb, pricesArb, (u, prices) => {
        const { breakdown } = computeCost(u, prices);
        const exact = (tokens: number, price: string | undefined) => BigInt(tokens) * parseDecimal(price ?? prices.input);
        const checks: [bigint, bigint][] = [
          [breakdown.input, exact(u.input - u.cachedInput - u.cacheWrite, prices.input)],
          [breakdown.cachedInput, exact(u.cachedInput, prices.cacheRead)],
          [breakdown.cacheWrite, exact(u.cacheWrite, prices.cacheWrite)],
          [breakdown.output, exact(u.output - u.reasoning, prices.output)],
          [breakdown.reasoning, exact(u.reasoning, prices.reasoning ?? prices.output)],
        ];
        for (const [rounded, exactTimesMillion] of checks) {
          const error = rounded * 1_000_000n - exactTimesMillion;
          expect(error <= 500_000n && error >= -500_000n).toBe(true);
        }
      }),
    );
  });

  it("is exact with no rounding for whole millions of tokens", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), priceArb, (millions, price) => {
        const cost = computeCost(usage({ input: millions * 1_000_000 }), { input: price, output: "0" });
        expect(cost.total).toBe(BigInt(millions) * parseDecimal(price));
      }),
    );
  });
});

describe("formatUsd", () => {
  it.each([
    ["0", "$0.00"],
    ["0.5", "$0.50"],
    ["1", "$1.00"],
    ["1234.567", "$1,234.57"],
    ["1234567.891", "$1,234,567.89"],
    ["0.0153", "$0.0153"],
    ["0.000123456", "$0.0001235"],
    ["0.0000000001", "$0.0000000001"],
    ["0.99999", "$1.00"],
    ["0.123456", "$0.1235"],
    ["-0.5", "-$0.50"],
    ["-2.345", "-$2.35"],
  ])("formats %s as %s", (amount, text) => {
    expect(formatUsd(usd(amount))).toBe(text);
  });

  it("uses fixed decimals when asked, rounding half away from zero", () => {
    expect(formatUsd(usd("0.125"), { decimals: 2 })).toBe("$0.13");
    expect(formatUsd(usd("-0.125"), { decimals: 2 })).toBe("-$0.13");
    expect(formatUsd(usd("-0.001"), { decimals: 2 })).toBe("$0.00");
    expect(formatUsd(usd("12.3456789"), { decimals: 0 })).toBe("$12");
    expect(formatUsd(usd("1.5"), { decimals: 6 })).toBe("$1.500000");
    expect(() => formatUsd(1n, { decimals: 11 })).toThrow(RangeError);
  });
});
