/**
 * The cost and savings of one batch line. A line answered by a provider batch API is billed at the model's batch
 * prices; a line that ran on the normal adapter path (its provider has no batch API, or its provider batch failed)
 * was billed at standard prices by the provider, so it is logged at standard prices with no batch saving.
 * The parts add up: baseline − cost = routing + compression + prompt cache + batch savings.
 */
import { decimalToString } from "../catalog/money";
import { priceCall, type CallMoney } from "../gateway/settle";
import type { Target } from "../gateway/resolve";
import { computeCost } from "../ledger/cost";
import type { NormalizedUsage } from "../providers/types";

export interface BatchMoney extends CallMoney {
  savingsBatchUsd: string;
}

const ZERO = "0";

/**
 * `inputTokensSaved`: prompt tokens the policy's compression removed (server/optimize), priced as a live call
 * prices them (priceCall: the baseline is the client's prompt; the difference is compression savings).
 */
export function priceBatchLine(usage: NormalizedUsage, target: Target, reference: Target, viaBatchApi: boolean, inputTokensSaved = 0): BatchMoney {
  const standard = priceCall(usage, target, reference, inputTokensSaved);
  if (!viaBatchApi || !target.model) return { ...standard, savingsBatchUsd: ZERO };
  const prices = target.model.prices;
  const billed = computeCost(usage, prices, { batch: true }).total;
  return { ...standard, costUsd: decimalToString(billed), savingsBatchUsd: decimalToString(computeCost(usage, prices).total - billed) };
}
