/**
 * Pre-call cost estimates for routing, in USD (a float is fine here: it ranks targets and compares with a ceiling;
 * the ledger prices actual calls exactly). Uses the same pricing rules as the ledger (computeCost) on the catalog
 * entry of the target: prompt tokens at the input price, the output cap at the output price.
 */
import { DECIMAL_ONE } from "../catalog/money";
import { computeCost } from "../ledger/cost";
import type { Target } from "./types";

export function estimateCostUsd(target: Target, usage: { input: number; output: number }): number | null {
  if (!target.model) return null;
  const { total } = computeCost({ input: usage.input, cachedInput: 0, cacheWrite: 0, output: usage.output, reasoning: 0 }, target.model.prices);
  return Number(total) / Number(DECIMAL_ONE);
}
