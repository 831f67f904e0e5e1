/**
 * Dry run: "where would this request go, and what would it cost?" — the planner's answer without calling upstream.
 * Pure given its inputs (pass live health and the learned classifiers to see what the data plane would do now;
 * without them every target looks unknown and cascades use the heuristic).
 */
import type { AuthContext } from "../gateway/auth";
import type { GatewayConfig } from "../gateway/config";
import { AppError } from "../gateway/errors";
import { optimizeCall, type CapDecision, type CompressionReport } from "../optimize";
import type { ChatRequest } from "../providers/types";
import { hashedNgrams, type PromptFeatures } from "./classifier/features";
import { describeDecision, type RouteRecord } from "./explain";
import { UNKNOWN_HEALTH, type TargetHealth } from "./health";
import { decide, noTarget, prepareCall, requestFacts, type RoutingServices } from "./resolve";
import type { Target } from "./types";

export interface DryRunOptions {
  /** Request headers (x-switchyard-policy, headers conditions look at). */
  headers?: Headers | Record<string, string>;
  /** Live health per target; default: unknown. */
  health?: (target: Target) => TargetHealth;
  learned?: RoutingServices["learned"];
  /**
   * The prompt's features for a learned cascade, computed ahead with the engine's extractor (`extractAll`: the
   * sentence embedding too); without them the dry run sees the lexical features only, an approximation when the
   * policy's model also weighs embeddings.
   */
  features?: PromptFeatures;
  now?: number;
  random?: () => number;
}

export interface DryRunResult {
  requested: string;
  policy: string | null;
  strategy: string;
  rule: string | null;
  difficulty: RouteRecord["difficulty"] | null;
  promptTokens: number;
  /** The first candidate: where the call would go. */
  chosen: { target: string; tier?: number; estimatedCostUsd: number | null } | null;
  candidates: NonNullable<RouteRecord["candidates"]>;
  rejected: NonNullable<RouteRecord["rejected"]>;
  /** Estimated USD on the chosen target (prompt tokens with the real tokenizer, output cap, catalog prices). */
  estimatedCostUsd: number | null;
  maxCostUsd: number | null;
  /** Set when no target is eligible: the error the call would get. */
  error: { status: number; code: string; message: string } | null;
  /** The policy's prompt compression (server/optimize), when it has any; promptTokens is after it. */
  compression?: CompressionReport;
  /** The output cap the policy would apply. */
  cap?: CapDecision;
}

/**
 * Plans `request` for `key` as the gateway would. `request` is a canonical chat request and may carry the
 * `switchyard` overrides field. Throws only what the call would throw before planning (unknown model: 404,
 * model outside the key's allow-list: 403).
 */
export function dryRun(config: GatewayConfig, key: AuthContext, request: ChatRequest & { switchyard?: unknown }, options: DryRunOptions = {}): DryRunResult {
  const headers = options.headers instanceof Headers ? options.headers : new Headers(options.headers ?? {});
  const { switchyard: _overrides, ...canonical } = request;
  let prepared = prepareCall(config, key, { canonical, headers, raw: request });
  const optimized = optimizeCall(prepared.policy?.document ?? null, canonical, headers, prepared.facts);
  if (optimized) prepared = { ...prepared, facts: requestFacts(key, optimized.request, headers) };
  const { decision } = decide(prepared, key, {
    learned: options.learned ?? (() => null),
    extractor: hashedNgrams(),
    ...(options.features ? { features: options.features } : {}),
    now: options.now ?? Date.now(),
    random: options.random ?? Math.random,
    health: options.health ?? (() => UNKNOWN_HEALTH),
    minSamples: 5,
    estimateAll: true,
  });
  const first = decision.candidates[0];
  let error: DryRunResult["error"] = null;
  if (!first) {
    const e: AppError = noTarget(prepared.requested, prepared.policy, decision);
    error = { status: e.status, code: e.code, message: e.message };
  }
  return {
    requested: prepared.requested,
    policy: prepared.policy?.name ?? null,
    strategy: decision.strategy,
    rule: decision.rule,
    difficulty: decision.difficulty,
    promptTokens: prepared.facts.profile.promptTokens,
    chosen: first ? { target: first.label, ...(first.tier !== undefined ? { tier: first.tier } : {}), estimatedCostUsd: first.estimatedCostUsd } : null,
    ...describeDecision(decision),
    estimatedCostUsd: decision.estimatedCostUsd,
    maxCostUsd: decision.constraints.maxCostUsd,
    error,
    ...(optimized?.compression ? { compression: optimized.compression } : {}),
    ...(optimized?.cap ? { cap: optimized.cap } : {}),
  };
}
