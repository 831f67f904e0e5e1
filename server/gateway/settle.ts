/**
 * Cost and savings of one call, from normalized usage and catalog prices (exact decimals, see ledger/cost.ts).
 * Savings = baseline − actual, where the baseline is the reference model with no caching and the same tokens; it is
 * split by lever so each part can be recomputed from the row:
 *   routing      = reference without cache − target without cache
 *   prompt cache = target without cache − target as billed
 */
import { decimalToString } from "../catalog/money";
import { computeCost } from "../ledger/cost";
import type { NormalizedUsage } from "../providers/types";
import type { Target } from "./resolve";

export interface CallMoney {
  costUsd: string;
  baselineCostUsd: string;
  savingsRoutingUsd: string;
  savingsPromptCacheUsd: string;
  savingsCacheUsd?: string;
}

/** A response-cache hit costs nothing upstream: the whole baseline (reference model, same tokens) is saved. */
export function priceCacheHit(usage: NormalizedUsage, reference: Target): CallMoney {
  const baseline = reference.model ? computeCost({ ...usage, cachedInput: 0, cacheWrite: 0 }, reference.model.prices).total : 0n;
  return {
    costUsd: ZERO,
    baselineCostUsd: decimalToString(baseline),
    savingsRoutingUsd: ZERO,
    savingsPromptCacheUsd: ZERO,
    savingsCacheUsd: decimalToString(baseline),
  };
}

const ZERO = "0";

export function priceCall(usage: NormalizedUsage, target: Target, reference: Target): CallMoney {
  if (!target.model) return { costUsd: ZERO, baselineCostUsd: ZERO, savingsRoutingUsd: ZERO, savingsPromptCacheUsd: ZERO };
  const uncached = { ...usage, cachedInput: 0, cacheWrite: 0 };
  const actual = computeCost(usage, target.model.prices).total;
  const targetUncached = computeCost(uncached, target.model.prices).total;
  const referenceUncached = reference.model ? computeCost(uncached, reference.model.prices).total : targetUncached;
  return {
    costUsd: decimalToString(actual),
    baselineCostUsd: decimalToString(referenceUncached),
    savingsRoutingUsd: decimalToString(referenceUncached - targetUncached),
    savingsPromptCacheUsd: decimalToString(targetUncached - actual),
  };
}
