/**
 * The cost and savings of one batch line. A line answered by a provider batch API is billed at the model's batch
 * prices; a line that ran on the normal adapter path (its provider has no batch API, or its provider batch failed)
 * was billed at standard prices by the provider, so it is logged at standard prices with no batch saving.
 * The parts add up: baseline − cost = routing + prompt cache + batch savings.
 */
import { decimalToString } from "../catalog/money";
import type { CallMoney } from "../gateway/settle";
import type { Target } from "../gateway/resolve";
import { computeCost } from "../ledger/cost";
import type { NormalizedUsage } from "../providers/types";

export interface BatchMoney extends CallMoney {
  savingsBatchUsd: string;
}

const ZERO = "0";

export function priceBatchLine(usage: NormalizedUsage, target: Target, reference: Target, viaBatchApi: boolean): BatchMoney {
  if (!target.model) return { costUsd: ZERO, baselineCostUsd: ZERO, savingsRoutingUsd: ZERO, savingsPromptCacheUsd: ZERO, savingsBatchUsd: ZERO };
  const prices = target.model.prices;
  const uncached = { ...usage, cachedInput: 0, cacheWrite: 0 };
  const standard = computeCost(usage, prices).total;
  const billed = viaBatchApi ? computeCost(usage, prices, { batch: true }).total : standard;
  const targetUncached = computeCost(uncached, prices).total;
  const referenceUncached = reference.model ? computeCost(uncached, reference.model.prices).total : targetUncached;
  return {
    costUsd: decimalToString(billed),
    baselineCostUsd: decimalToString(referenceUncached),
    savingsRoutingUsd: decimalToString(referenceUncached - targetUncached),
    savingsPromptCacheUsd: decimalToString(targetUncached - standard),
    savingsBatchUsd: decimalToString(standard - billed),
  };
}
