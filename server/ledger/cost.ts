/**
 * The cost of one call, from its token usage and the model's prices. Pure and exact: amounts are bigint counts of
 * 10^-10 USD (the scale of the call log's Decimal(20, 10) columns; convert with `decimalToString` /
 * `parseDecimal` from server/catalog/money), so a cost recomputed from a logged row matches to the last digit.
 *
 * Usage convention (OpenAI style; adapters normalize other shapes to it):
 * - `input` counts ALL prompt tokens, including the cache-read (`cachedInput`) and cache-write (`cacheWrite`)
 *   ones. Uncached input = input − cachedInput − cacheWrite. Anthropic reports input_tokens without either, so
 *   its adapter adds cache_read_input_tokens and cache_creation_input_tokens back in.
 * - `output` counts ALL generated tokens, including `reasoning`. Visible output = output − reasoning. Gemini
 *   reports thoughtsTokenCount apart from candidatesTokenCount, so its adapter adds them.
 * Every token is therefore priced exactly once, in one of five classes: uncached input, cache read, cache write,
 * visible output, reasoning.
 */
import type { ModelPrices } from "../catalog/model";
import { DECIMAL_ONE, divRound, parseDecimal } from "../catalog/money";

export interface TokenUsage {
  /** All prompt tokens, cached-read and cache-write ones included. */
  input: number;
  /** Prompt tokens read from the provider's prompt cache (part of `input`). */
  cachedInput: number;
  /** Prompt tokens written to the provider's prompt cache (part of `input`). */
  cacheWrite: number;
  /** All generated tokens, reasoning included. */
  output: number;
  /** Reasoning ("thinking") tokens (part of `output`). */
  reasoning: number;
}

/** USD × 10^10 per token class; `input` is the uncached input, `output` the visible output. */
export interface CostBreakdown {
  input: bigint;
  cachedInput: bigint;
  cacheWrite: bigint;
  output: bigint;
  reasoning: bigint;
}

export interface Cost {
  /** USD × 10^10; always the exact sum of the breakdown. */
  total: bigint;
  breakdown: CostBreakdown;
}

const TOKENS_PER_PRICE_UNIT = 1_000_000n;
const USAGE_FIELDS = ["input", "cachedInput", "cacheWrite", "output", "reasoning"] as const;

/**
 * Prices `usage`. Each class costs tokens × price / 1M, rounded half away from zero to 10^-10 USD (at most
 * 0.5·10^-10 USD per class); the total is the sum of the rounded classes, so the breakdown always adds up.
 *
 * Prices per class (standard → batch), falling back when the model has no specific price:
 * - uncached input: input → batchInput ?? input
 * - cache read:     cacheRead ?? input → batchCacheRead ?? cacheRead ?? (batch input price)
 * - cache write:    cacheWrite ?? input → batchCacheWrite ?? cacheWrite ?? (batch input price)
 * - visible output: output → batchOutput ?? output
 * - reasoning:      reasoning ?? output → batchOutput ?? reasoning ?? output (batch APIs bill reasoning as output)
 * A model without batch prices (its provider has no batch API) is costed at standard prices in batch mode.
 *
 * @throws RangeError when a count is not a non-negative safe integer, when cachedInput + cacheWrite > input, or
 *   when reasoning > output: an inconsistent usage has no single correct price.
 */
export function computeCost(usage: TokenUsage, prices: ModelPrices, options: { batch?: boolean } = {}): Cost {
  for (const name of USAGE_FIELDS) {
    const value = usage[name];
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`usage.${name} must be a non-negative integer, got ${value}`);
    }
  }
  if (usage.cachedInput + usage.cacheWrite > usage.input) {
    throw new RangeError("usage.cachedInput + usage.cacheWrite must not exceed usage.input (input includes them)");
  }
  if (usage.reasoning > usage.output) {
    throw new RangeError("usage.reasoning must not exceed usage.output (output includes it)");
  }
  const batch = options.batch === true;
  const input = parseDecimal(batch ? (prices.batchInput ?? prices.input) : prices.input);
  const rate = (standard: string | undefined, batchPrice: string | undefined): bigint => {
    if (batch && batchPrice !== undefined) return parseDecimal(batchPrice);
    return standard === undefined ? input : parseDecimal(standard);
  };
  const output = parseDecimal(batch ? (prices.batchOutput ?? prices.output) : prices.output);
  const reasoning =
    batch && prices.batchOutput !== undefined ? output : parseDecimal(prices.reasoning ?? prices.output);

  const breakdown: CostBreakdown = {
    input: price(usage.input - usage.cachedInput - usage.cacheWrite, input),
    cachedInput: price(usage.cachedInput, rate(prices.cacheRead, prices.batchCacheRead)),
    cacheWrite: price(usage.cacheWrite, rate(prices.cacheWrite, prices.batchCacheWrite)),
    output: price(usage.output - usage.reasoning, output),
    reasoning: price(usage.reasoning, reasoning),
  };
  const total = breakdown.input + breakdown.cachedInput + breakdown.cacheWrite + breakdown.output + breakdown.reasoning;
  return { total, breakdown };
}

function price(tokens: number, perMillion: bigint): bigint {
  return divRound(BigInt(tokens) * perMillion, TOKENS_PER_PRICE_UNIT);
}

/**
 * Formats USD × 10^10 for display, rounding half away from zero. By default amounts of $1 or more get 2 decimals
 * ("$1,234.57"); smaller ones keep 4 significant digits, at least 2 and at most 10 decimals ("$0.50",
 * "$0.0001235"), because per-call costs are fractions of a cent. `decimals` fixes the number of decimals.
 */
export function formatUsd(amount: bigint, options: { decimals?: number } = {}): string {
  const negative = amount < 0n;
  const magnitude = negative ? -amount : amount;
  const decimals = options.decimals ?? defaultDecimals(magnitude);
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 10) throw new RangeError("decimals must be 0..10");
  const scale = 10n ** BigInt(10 - decimals);
  const rounded = divRound(magnitude, scale);
  const unit = 10n ** BigInt(decimals);
  const whole = (rounded / unit).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = decimals > 0 ? `.${(rounded % unit).toString().padStart(decimals, "0")}` : "";
  return `${negative && rounded !== 0n ? "-" : ""}$${whole}${fraction}`;
}

function defaultDecimals(magnitude: bigint): number {
  if (magnitude >= DECIMAL_ONE || magnitude === 0n) return 2;
  // Position of the first significant digit after the point, plus 3 more digits.
  const leadingZeros = 10 - magnitude.toString().length;
  const decimals = Math.min(10, leadingZeros + 4);
  return Math.max(2, trimmedDecimals(magnitude, decimals));
}

/** The decimals needed to show `magnitude` at `decimals` precision without trailing zeros. */
function trimmedDecimals(magnitude: bigint, decimals: number): number {
  let rounded = divRound(magnitude, 10n ** BigInt(10 - decimals));
  let needed = decimals;
  while (needed > 0 && rounded % 10n === 0n) {
    rounded /= 10n;
    needed -= 1;
  }
  return needed;
}
