/**
 * Cost and savings of one call, from normalized usage and catalog prices (exact decimals, see ledger/cost.ts).
 * Savings = baseline − actual, where the baseline is the reference model with no caching and the same tokens; it is
 * split by lever so each part can be recomputed from the row. With prompt compression, "the same tokens" are the
 * prompt as the client wrote it: `inputTokensSaved` (server/optimize) are added back for the baseline.
 *   routing      = reference without cache − target without cache    (both on the client's prompt)
 *   compression  = target without cache on the client's prompt − target without cache on the prompt sent
 *                = input tokens saved × the target's input price
 *   prompt cache = target without cache − target as billed           (on the prompt sent)
 * Output caps never appear here: a cap that truncated nothing changed no token (see server/ledger/README.md).
 */
import { decimalToString } from "../catalog/money";
import type { CallRecord } from "../ledger/call-log";
import { computeCost } from "../ledger/cost";
import type { NormalizedUsage } from "../providers/types";
import { toAppError, type AppError } from "./errors";
import type { Target } from "./resolve";

export interface CallMoney {
  costUsd: string;
  baselineCostUsd: string;
  savingsRoutingUsd: string;
  savingsPromptCacheUsd: string;
  savingsCacheUsd?: string;
  savingsCompressionUsd?: string;
}

/** A response-cache hit costs nothing upstream: the whole baseline (reference model, same tokens) is saved. */
export function priceCacheHit(usage: NormalizedUsage, reference: Target, inputTokensSaved = 0): CallMoney {
  const original = { ...usage, input: usage.input + inputTokensSaved, cachedInput: 0, cacheWrite: 0 };
  const baseline = reference.model ? computeCost(original, reference.model.prices).total : 0n;
  return {
    costUsd: ZERO,
    baselineCostUsd: decimalToString(baseline),
    savingsRoutingUsd: ZERO,
    savingsPromptCacheUsd: ZERO,
    savingsCacheUsd: decimalToString(baseline),
  };
}

const ZERO = "0";

/** `inputTokensSaved`: prompt tokens compression removed before sending (0 without compression). */
export function priceCall(usage: NormalizedUsage, target: Target, reference: Target, inputTokensSaved = 0): CallMoney {
  if (!target.model) return { costUsd: ZERO, baselineCostUsd: ZERO, savingsRoutingUsd: ZERO, savingsPromptCacheUsd: ZERO };
  const uncached = { ...usage, cachedInput: 0, cacheWrite: 0 };
  const original = { ...uncached, input: uncached.input + Math.max(0, inputTokensSaved) };
  const actual = computeCost(usage, target.model.prices).total;
  const targetUncached = computeCost(uncached, target.model.prices).total;
  const targetOriginal = inputTokensSaved > 0 ? computeCost(original, target.model.prices).total : targetUncached;
  const referenceOriginal = reference.model ? computeCost(original, reference.model.prices).total : targetOriginal;
  return {
    costUsd: decimalToString(actual),
    baselineCostUsd: decimalToString(referenceOriginal),
    savingsRoutingUsd: decimalToString(referenceOriginal - targetOriginal),
    savingsPromptCacheUsd: decimalToString(targetUncached - actual),
    ...(inputTokensSaved > 0 ? { savingsCompressionUsd: decimalToString(targetOriginal - targetUncached) } : {}),
  };
}

/**
 * The row of a call that failed: the error's status and code, and the latency up to the failure (`started` is the
 * call's `performance.now()`). Returns the error as the AppError the surface renders.
 */
export function recordFailure(record: CallRecord, error: unknown, started: number): AppError {
  const appError = toAppError(error);
  record.status = appError.status;
  record.errorClass = appError.code;
  record.latencyMs = Math.round(performance.now() - started);
  return appError;
}
