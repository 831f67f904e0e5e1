/**
 * Explainability: what the call log's `route` JSON records about a routing decision (candidates and why each was
 * ranked, rejections and why, the difficulty verdict, targets skipped during execution, the final target, the
 * estimated and allowed cost), and its one-line summary in the `x-switchyard-route` header. Attempts are recorded
 * next to it (`attempts`), and counted in `x-switchyard-attempts`.
 */
import { capRecord, type CapRecord, type CompressionReport } from "../optimize";
import type { AttemptRecord, SkippedTarget } from "./execute";
import type { RouteDecision } from "./plan";
import type { Plan } from "./resolve";
import { targetLabel, type Target } from "./types";

export interface RouteRecord {
  requested: string;
  policy: string | null;
  policyVersion?: number;
  /** The final target ("provider/model"), or "cache" for a response-cache hit. */
  target: string;
  strategy?: string;
  rule?: string | null;
  /** The cascade tier of the final target. */
  tier?: number;
  difficulty?: NonNullable<RouteDecision["difficulty"]>;
  candidates?: Array<{ target: string; tier?: number; estimatedCostUsd: number | null; notes: string[]; demoted?: string[] }>;
  rejected?: Array<{ target: string; reasons: string[] }>;
  skipped?: SkippedTarget[];
  estimatedCostUsd?: number | null;
  maxCostUsd?: number | null;
  /** True when the actual cost came out above the max cost per query (the estimate was too low). */
  overBudget?: boolean;
  /** Hashed prompt features for a learned cascade classifier (never the prompt). */
  features?: string;
  /** What prompt compression did (server/optimize/compress.ts); `lossy` marks trimmed history. */
  compression?: CompressionReport;
  /** The output cap applied and how the answer ended (server/optimize/caps.ts). */
  cap?: CapRecord;
}

/** A decision's candidates and rejections as recorded (targets by label). */
export function describeDecision(decision: RouteDecision): Required<Pick<RouteRecord, "candidates" | "rejected">> {
  return {
    candidates: decision.candidates.map((c) => ({
      target: c.label,
      ...(c.tier !== undefined ? { tier: c.tier } : {}),
      estimatedCostUsd: c.estimatedCostUsd,
      notes: c.notes,
      ...(c.demoted.length > 0 ? { demoted: c.demoted } : {}),
    })),
    rejected: decision.rejected.map((r) => ({ target: r.label, reasons: r.reasons })),
  };
}

/** The route JSON of a call that ended on `final` (null: it failed before any target answered). */
export function routeRecord(
  plan: Plan,
  final: Target | "cache" | null,
  extra: { skipped?: SkippedTarget[]; costUsd?: string; finishReason?: string | null } = {},
): RouteRecord {
  const decision = plan.decision;
  const label = final === "cache" ? "cache" : final ? targetLabel(final) : null;
  const record: RouteRecord = {
    requested: plan.requested,
    policy: plan.policy?.name ?? null,
    target: label ?? "none",
  };
  if (plan.policy) record.policyVersion = plan.policy.version;
  if (decision) {
    record.strategy = decision.strategy;
    if (decision.rule !== null) record.rule = decision.rule;
    if (decision.difficulty) record.difficulty = decision.difficulty;
    const tier = decision.candidates.find((c) => c.label === label)?.tier;
    if (tier !== undefined) record.tier = tier;
    Object.assign(record, describeDecision(decision));
    record.estimatedCostUsd = decision.estimatedCostUsd;
    record.maxCostUsd = decision.constraints.maxCostUsd;
    if (decision.constraints.maxCostUsd !== null && extra.costUsd !== undefined && Number(extra.costUsd) > decision.constraints.maxCostUsd) {
      record.overBudget = true;
    }
  }
  if (extra.skipped && extra.skipped.length > 0) record.skipped = extra.skipped;
  if (plan.features) record.features = plan.features;
  const optimized = plan.optimized;
  if (optimized?.compression) record.compression = optimized.compression;
  if (optimized?.cap) {
    record.cap = capRecord(optimized.cap, extra.finishReason, final && final !== "cache" ? final : null, optimized.request.n ?? 1);
  }
  return record;
}

const MAX_HEADER = 1_024;

/**
 * Response headers summarising the route: `x-switchyard-target`, `x-switchyard-attempts` (upstream attempts), and
 * `x-switchyard-route`: `target=…; policy=…; strategy=…; tier=…; tried=a:error>b:200; rejected=N`.
 */
export function routeHeaders(plan: Plan, target: Target, attempts: readonly AttemptRecord[]): Record<string, string> {
  const decision = plan.decision;
  const parts = [`target=${targetLabel(target)}`];
  if (plan.policy) parts.push(`policy=${plan.policy.name}`);
  if (decision) {
    parts.push(`strategy=${decision.strategy}`);
    if (decision.rule !== null) parts.push(`rule=${decision.rule}`);
    const tier = decision.candidates.find((c) => c.target === target)?.tier;
    if (tier !== undefined) parts.push(`tier=${tier}`);
  }
  parts.push(`tried=${attempts.map((a) => `${a.provider}/${a.model}:${a.error ?? a.status}`).join(">")}`);
  if (decision && decision.rejected.length > 0) parts.push(`rejected=${decision.rejected.length}`);
  let route = parts.join("; ");
  if (route.length > MAX_HEADER) route = `${route.slice(0, MAX_HEADER - 3)}...`;
  return {
    "x-switchyard-target": targetLabel(target),
    "x-switchyard-attempts": String(attempts.length),
    // Header values must be Latin-1: anything else in a model or provider name is replaced.
    "x-switchyard-route": route.replace(/[^\x20-\x7e]/g, "?"),
  };
}
