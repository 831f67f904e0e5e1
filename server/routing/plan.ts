/**
 * The planner: given a policy (or a direct model), a request and the live state of each target, which targets
 * may serve the call, in which order, and why. Pure — clock, randomness, prices and health are injected — so it is
 * tested exhaustively (plan.test.ts, including fast-check properties: a candidate never violates a hard constraint,
 * and never has an estimated cost above the ceiling).
 *
 * Hard constraints (a target that fails one is rejected, with the reason): provider enabled and model known,
 * allowed/denied providers and regions, required capabilities (the policy's and the request's `require`; those the
 * request implies — tools, image parts, a JSON schema, reasoning, streaming — when the catalog knows the model and
 * the target was not named explicitly by the client), context window ≥ prompt tokens + requested output, max output,
 * and the max cost per query (prompt tokens × input price + output cap × output price, at catalog prices). An open
 * circuit breaker also rejects a target.
 * Soft judgements only reorder: targets over the latency budget (live percentile), degraded (error or 429 rate
 * over the window), saturated (calls in flight), or cooling down after a 429's Retry-After go after the healthy
 * ones, so traffic shifts away while nothing is refused that could still answer.
 */
import type { ConditionalRule, Constraints, PolicyDocument, Requirement, StrategyName, TargetRef } from "@/lib/policy";
import type { DifficultyClassifier } from "./classifier/types";
import { matchCondition, type RequestFacts } from "./conditions";
import type { TargetHealth } from "./health";
import { targetId, targetLabel, type Target } from "./types";

/** Output tokens assumed by cost estimates when neither the request nor the policy caps them. */
export const DEFAULT_EXPECTED_OUTPUT_TOKENS = 512;
/** Share of calls a `fastest` policy spends on a target without recent statistics (so it gets some). */
export const EXPLORE_RATE = 0.05;
/** Error (or 429) rate over the window at which a target counts as degraded. */
export const DEGRADED_ERROR_RATE = 0.25;
export const DEGRADED_RATE_LIMIT_RATE = 0.5;

/** Per-request overrides (the `switchyard` body field): they can only tighten the policy. */
export interface RequestOverrides {
  maxCostUsd?: number;
  maxLatencyMs?: number;
  require?: Requirement[];
}

export interface PlanInput {
  /** What the client asked for (a policy name or a model). */
  requested: string;
  policyName: string | null;
  /** The policy; null for a direct model request. */
  document: PolicyDocument | null;
  /** The target of a direct model request. */
  direct?: Target;
  /** Resolves a policy reference; a string says why it cannot be used (provider disabled, model unknown). */
  resolve: (ref: TargetRef) => Target | string;
  /** Extra fallbacks the client named (already checked against its key's allow-list). */
  requestFallbacks: readonly Target[];
  overrides: RequestOverrides;
  facts: RequestFacts;
  /** Cascade policies: the classifier that picks the starting tier. */
  classifier?: DifficultyClassifier;
  /** Prefix affinity: the target that recently served this request's cacheable prefix (see `applyPrefixAffinity`). */
  sticky?: PrefixSticky | null;
}

/** The target (by `targetId`) that recently served a request with the same cacheable prefix (system + tools). */
export interface PrefixSticky {
  targetId: string;
  /** Estimated tokens of the shared prefix (what the provider's prompt cache would bill at its read rate). */
  prefixTokens: number;
}

/** Fastest: a sticky target within this factor of the fastest candidate's latency counts as equally fast. */
export const STICKY_LATENCY_TOLERANCE = 1.25;

export interface PlannerEnv {
  now: number;
  /** In [0, 1). */
  random: () => number;
  health: (target: Target) => TargetHealth;
  /** Estimated USD of a call with these tokens on the target; null when its prices are unknown. */
  estimateCostUsd: (target: Target, usage: { input: number; output: number }) => number | null;
  /** Samples a live statistic needs before it is trusted. */
  minSamples: number;
  /**
   * Estimate every candidate's cost (dry runs). Otherwise estimates — a tokenizer pass over the prompt — are made
   * only where they decide something: a cost ceiling, or the cheapest strategy.
   */
  estimateAll?: boolean;
}

/** The constraints in force for this call: the policy's, tightened by the request's overrides. */
export interface EffectiveConstraints {
  /** Capabilities demanded explicitly (policy `require` and request `require`). */
  require: Requirement[];
  /** Capabilities the request implies (enforced on models the catalog knows, except a client-named target). */
  inferred: Requirement[];
  maxCostUsd: number | null;
  /** Output tokens the cost estimate assumes. */
  outputTokens: number;
  /** The output cap in force (request or policy), null when none. */
  maxOutputTokens: number | null;
  ttftMs: number | null;
  totalMs: number | null;
  percentile: "p50" | "p95";
  providers: Constraints["providers"] | null;
  regions: Constraints["regions"] | null;
  maxInFlight: number | null;
}

export interface Candidate {
  target: Target;
  label: string;
  /** Cascade tier (index in the policy's targets). */
  tier?: number;
  /** USD for this request; null when the price is unknown or no estimate was needed. */
  estimatedCostUsd: number | null;
  /** Why it is ranked where it is. */
  notes: string[];
  /** Soft judgements that moved it after the healthy targets. */
  demoted: string[];
  /** Where it came from: the policy chain, a conditional rule, the client's fallbacks, or the client's model. */
  origin: "policy" | "rule" | "request" | "direct";
}

export interface Rejected {
  label: string;
  reasons: string[];
}

export interface RouteDecision {
  strategy: StrategyName | "direct";
  /** Conditional policies: the rule that matched (name or index), or "default". */
  rule: string | null;
  difficulty: { score: number; tier: number; startTier: number; classifier: string; detail?: string } | null;
  candidates: Candidate[];
  rejected: Rejected[];
  fallbacks: { contextLength: Candidate[]; contentFilter: Candidate[] };
  constraints: EffectiveConstraints;
  /** Estimated cost on the first candidate (USD), null when unknown, not needed (see `estimateAll`) or nothing is eligible. */
  estimatedCostUsd: number | null;
}

interface Entry {
  ref: string;
  target: Target | string;
  origin: Candidate["origin"];
  tier?: number;
}

export function effectiveConstraints(document: PolicyDocument | null, overrides: RequestOverrides, facts: RequestFacts): EffectiveConstraints {
  const c = document?.constraints ?? {};
  const require = [...new Set([...(c.require ?? []), ...(overrides.require ?? [])])];
  const cap = document?.parameters?.maxTokens ?? null;
  const asked = facts.profile.maxOutputTokens;
  const maxOutputTokens = asked !== null && cap !== null ? Math.min(asked, cap) : (asked ?? cap);
  const min = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined ? Math.min(a, b) : (a ?? b ?? null);
  return {
    require,
    inferred: [...facts.profile.needs].filter((need) => !require.includes(need)),
    maxCostUsd: min(c.maxCostUsd, overrides.maxCostUsd),
    outputTokens: maxOutputTokens ?? c.expectedOutputTokens ?? DEFAULT_EXPECTED_OUTPUT_TOKENS,
    maxOutputTokens,
    ttftMs: c.latency?.ttftMs ?? null,
    totalMs: min(c.latency?.totalMs, overrides.maxLatencyMs),
    percentile: c.latency?.percentile ?? "p95",
    providers: c.providers ?? null,
    regions: c.regions ?? null,
    maxInFlight: c.maxInFlight ?? null,
  };
}

export function hasCapability(target: Target, need: Requirement): boolean | null {
  if (!target.model) return null;
  const caps = target.model.capabilities;
  return need === "json_schema" || need === "json" ? caps.json : caps[need];
}

/**
 * Why a target may not serve this call (empty: it may). `explicit` targets (the model the client named) skip the
 * capabilities the request merely implies: the client chose them, the upstream is the judge.
 */
export function hardReasons(target: Target, constraints: EffectiveConstraints, facts: RequestFacts, env: PlannerEnv, explicit: boolean): string[] {
  const reasons: string[] = [];
  const provider = target.provider;
  const { providers, regions } = constraints;
  if (providers?.allow && !providers.allow.includes(provider.name)) reasons.push(`provider '${provider.name}' is not in the allowed providers`);
  if (providers?.deny?.includes(provider.name)) reasons.push(`provider '${provider.name}' is denied`);
  if (regions?.allow && !(provider.region !== null && regions.allow.includes(provider.region))) {
    reasons.push(`region '${provider.region ?? "unset"}' is not allowed`);
  }
  if (regions?.deny && provider.region !== null && regions.deny.includes(provider.region)) reasons.push(`region '${provider.region}' is denied`);
  for (const need of constraints.require) {
    const has = hasCapability(target, need);
    if (has === null) reasons.push(`requires ${need}; the catalog does not know this model's capabilities`);
    else if (!has) reasons.push(`requires ${need}, which the model lacks`);
  }
  if (!explicit && target.model) {
    for (const need of constraints.inferred) {
      if (hasCapability(target, need) === false) reasons.push(`the request needs ${need}, which the model lacks`);
    }
  }
  const model = target.model;
  if (model) {
    const output = constraints.maxOutputTokens ?? 0;
    // Count tokens only when the cheap bound does not already show the prompt fits.
    if (model.contextWindow !== null && facts.profile.promptTokensAtMost + output > model.contextWindow) {
      const prompt = facts.profile.promptTokens;
      if (prompt + output > model.contextWindow) {
        reasons.push(`prompt ${prompt} + output ${output} tokens exceed the context window of ${model.contextWindow}`);
      }
    }
    if (constraints.maxOutputTokens !== null && model.maxOutput !== null && constraints.maxOutputTokens > model.maxOutput) {
      reasons.push(`max output ${constraints.maxOutputTokens} tokens exceeds the model's ${model.maxOutput}`);
    }
  }
  if (constraints.maxCostUsd !== null) {
    const cost = estimate(target, constraints, facts, env);
    if (cost === null) reasons.push(`max cost $${constraints.maxCostUsd} set, but the model has no known price`);
    else if (cost > constraints.maxCostUsd) reasons.push(`estimated $${formatUsd(cost)} exceeds the max cost of $${constraints.maxCostUsd}`);
  }
  const health = env.health(target);
  if (health.breaker === "open") reasons.push(`circuit open until ${new Date(health.openUntil ?? env.now).toISOString()} (failing)`);
  return reasons;
}

function estimate(target: Target, constraints: EffectiveConstraints, facts: RequestFacts, env: PlannerEnv): number | null {
  return env.estimateCostUsd(target, { input: facts.profile.promptTokens, output: constraints.outputTokens });
}

/** Soft judgements (reasons to try a target after the healthy ones). */
function softReasons(target: Target, constraints: EffectiveConstraints, env: PlannerEnv): string[] {
  const health = env.health(target);
  const out: string[] = [];
  if (health.coolingUntil !== null && health.coolingUntil > env.now) {
    out.push(`rate limited: cooling down for ${Math.ceil((health.coolingUntil - env.now) / 1000)}s (Retry-After)`);
  }
  if (health.calls >= env.minSamples && health.errorRate >= DEGRADED_ERROR_RATE) {
    out.push(`degraded: ${Math.round(health.errorRate * 100)}% errors over the window`);
  }
  if (health.calls >= env.minSamples && health.rateLimitRate >= DEGRADED_RATE_LIMIT_RATE) {
    out.push(`degraded: ${Math.round(health.rateLimitRate * 100)}% rate limited over the window`);
  }
  const key = constraints.percentile === "p50" ? "p50Ms" : "p95Ms";
  const over = (stats: TargetHealth["ttft"], budget: number | null, what: string) => {
    const value = stats[key];
    if (budget !== null && value !== null && stats.samples >= env.minSamples && value > budget) {
      out.push(`${constraints.percentile} ${what} ${Math.round(value)}ms is over the ${budget}ms budget`);
    }
  };
  over(health.ttft, constraints.ttftMs, "time to first token");
  over(health.total, constraints.totalMs, "latency");
  if (constraints.maxInFlight !== null && health.inFlight >= constraints.maxInFlight) {
    out.push(`saturated: ${health.inFlight} calls in flight (max ${constraints.maxInFlight})`);
  }
  return out;
}

export function planRoute(input: PlanInput, env: PlannerEnv): RouteDecision {
  const { document, facts } = input;
  const constraints = effectiveConstraints(document, input.overrides, facts);
  const rejected: Rejected[] = [];
  const seen = new Set<string>();
  let rule: string | null = null;
  let difficulty: RouteDecision["difficulty"] = null;

  const resolveAll = (refs: readonly TargetRef[], origin: Entry["origin"], tiered = false): Entry[] =>
    refs.map((ref, i) => ({ ref: `${ref.provider}/${ref.model}`, target: input.resolve(ref), origin, ...(tiered ? { tier: i } : {}) }));

  // 1. The chain this call draws from, and the strategy that orders it.
  let entries: Entry[];
  let order: StrategyName | "direct";
  if (!document) {
    entries = input.direct ? [{ ref: targetLabel(input.direct), target: input.direct, origin: "direct" }] : [];
    order = "direct";
  } else if (document.strategy === "conditional") {
    const index = document.rules.findIndex((r) => matchCondition(r.when, facts));
    const matched: ConditionalRule | undefined = document.rules[index];
    rule = matched ? (matched.name ?? `rules[${index}]`) : "default";
    entries = matched ? resolveAll(matched.targets, "rule") : resolveAll(document.targets, "policy");
    order = matched ? matched.strategy : "ordered";
  } else {
    entries = resolveAll(document.targets, "policy", document.strategy === "cascade");
    order = document.strategy;
  }
  entries.push(...input.requestFallbacks.map((t) => ({ ref: targetLabel(t), target: t, origin: "request" as const })));

  // 2. Hard constraints.
  const costs = env.estimateAll === true || constraints.maxCostUsd !== null || order === "cheapest";
  const costOf = (t: Target) => (costs ? estimate(t, constraints, facts, env) : null);
  const eligible: Candidate[] = [];
  for (const entry of entries) {
    const label = typeof entry.target === "string" ? entry.ref : targetLabel(entry.target);
    if (seen.has(label)) continue;
    seen.add(label);
    if (typeof entry.target === "string") {
      rejected.push({ label, reasons: [entry.target] });
      continue;
    }
    const reasons = hardReasons(entry.target, constraints, facts, env, entry.origin === "direct");
    if (reasons.length > 0) {
      rejected.push({ label, reasons });
      continue;
    }
    eligible.push({
      target: entry.target,
      label,
      ...(entry.tier !== undefined ? { tier: entry.tier } : {}),
      estimatedCostUsd: costOf(entry.target),
      notes: [],
      demoted: softReasons(entry.target, constraints, env),
      origin: entry.origin,
    });
  }

  // 3. The strategy's order.
  let ranked: Candidate[];
  switch (order) {
    case "cheapest":
      ranked = rankCheapest(eligible);
      break;
    case "fastest": {
      const fastest = document?.strategy === "fastest" ? document : null;
      ranked = rankFastest(eligible, fastest?.metric ?? "ttft", fastest?.percentile ?? "p50", env);
      break;
    }
    case "weighted":
      ranked = document?.strategy === "weighted" ? rankWeighted(eligible, document, input, env) : eligible;
      break;
    case "cascade":
      if (document?.strategy === "cascade") {
        const tiers = document.targets.length;
        const classified = (input.classifier ?? fallbackClassifier).classify(facts.profile, tiers);
        const forced = document.escalate.filter((e) => matchCondition(e.when, facts)).reduce((m, e) => Math.max(m, e.minTier), 0);
        const startTier = Math.min(tiers - 1, Math.max(classified.tier, forced));
        difficulty = { score: classified.score, tier: classified.tier, startTier, classifier: classified.classifier, ...(classified.detail ? { detail: classified.detail } : {}) };
        if (forced > classified.tier) difficulty.detail = `${classified.detail ?? ""}; escalated to tier ${startTier} by rule`.replace(/^; /, "");
        ranked = rankCascade(eligible, startTier);
      } else ranked = eligible;
      break;
    default:
      ranked = eligible.map((c, i) => ({ ...c, notes: [...c.notes, c.origin === "request" ? "client fallback" : `chain position ${i + 1}`] }));
  }

  // 3b. Prefix affinity: keep a shared cached prefix on the target that holds it, where the strategy allows.
  const speed = document?.strategy === "fastest" ? { metric: document.metric ?? "ttft", percentile: document.percentile ?? "p50" } : undefined;
  ranked = applyPrefixAffinity(ranked, order, input.sticky ?? null, env, speed);

  // 4. Healthy targets first; the demoted ones keep their relative order after them.
  const candidates = [...ranked.filter((c) => c.demoted.length === 0), ...ranked.filter((c) => c.demoted.length > 0)];

  const fallbackList = (refs: readonly TargetRef[] | undefined): Candidate[] => {
    const out: Candidate[] = [];
    for (const ref of refs ?? []) {
      const resolved = input.resolve(ref);
      const label = typeof resolved === "string" ? `${ref.provider}/${ref.model}` : targetLabel(resolved);
      if (typeof resolved === "string") {
        rejected.push({ label: `${label} (fallback)`, reasons: [resolved] });
        continue;
      }
      const reasons = hardReasons(resolved, constraints, facts, env, false);
      if (reasons.length > 0) {
        rejected.push({ label: `${label} (fallback)`, reasons });
        continue;
      }
      out.push({ target: resolved, label, estimatedCostUsd: costOf(resolved), notes: ["fallback"], demoted: softReasons(resolved, constraints, env), origin: "policy" });
    }
    return out;
  };

  return {
    strategy: order === "direct" ? "direct" : (document?.strategy ?? order),
    rule,
    difficulty,
    candidates,
    rejected,
    fallbacks: { contextLength: fallbackList(document?.fallbacks?.contextLength), contentFilter: fallbackList(document?.fallbacks?.contentFilter) },
    constraints,
    estimatedCostUsd: candidates[0]?.estimatedCostUsd ?? null,
  };
}

/**
 * Prefix-sticky routing: a request whose cacheable prefix (system prompt + tools) was recently served by target T
 * goes to T again, so it reads T's prompt cache instead of writing a new one elsewhere — but only among candidates
 * the strategy treats as equally good, never past a constraint:
 * - T must be an eligible candidate of this plan (hard constraints — providers, regions, capabilities, context,
 *   cost ceiling, open breaker — already applied), from the policy or a rule (never a client fallback);
 * - `ordered` (and conditional rules with `ordered`), `direct` and `cascade`: no change — chain positions and tiers
 *   are the admin's explicit preference (the first healthy target already keeps a prefix in place);
 * - `cheapest`: T goes first when its estimate, with the prefix priced at T's cache-read rate, is no higher than
 *   the cheapest candidate's estimate;
 * - `fastest`: T goes first when its latency statistic is within `STICKY_LATENCY_TOLERANCE` of the fastest's;
 * - `weighted`: T (weight > 0) goes first instead of the draw — the prefix's first call was drawn by weight;
 * - health still wins: the healthy-first pass that follows puts a demoted T after the healthy candidates.
 */
export function applyPrefixAffinity(
  ranked: Candidate[],
  order: StrategyName | "direct",
  sticky: PrefixSticky | null,
  env: PlannerEnv,
  fastest: { metric: "ttft" | "total"; percentile: "p50" | "p95" } = { metric: "ttft", percentile: "p50" },
): Candidate[] {
  if (!sticky || ranked.length < 2) return ranked;
  const index = ranked.findIndex((c) => c.origin !== "request" && targetId(c.target) === sticky.targetId);
  if (index <= 0) return ranked;
  const sticker = ranked[index]!;
  const first = ranked[0]!;
  let allowed = false;
  switch (order) {
    case "cheapest": {
      const mine = sticker.estimatedCostUsd;
      const best = first.estimatedCostUsd;
      const prices = sticker.target.model?.prices;
      if (mine === null || best === null || !prices) break;
      const discount = prices.cacheRead !== undefined ? (sticky.prefixTokens * Math.max(0, Number(prices.input) - Number(prices.cacheRead))) / 1e6 : 0;
      allowed = mine - discount <= best;
      break;
    }
    case "fastest": {
      const stat = (c: Candidate) => {
        const value = env.health(c.target)[fastest.metric];
        return value.samples > 0 ? (fastest.percentile === "p50" ? value.p50Ms : value.p95Ms) : null;
      };
      const mine = stat(sticker);
      const best = stat(first);
      allowed = mine !== null && best !== null && mine <= best * STICKY_LATENCY_TOLERANCE;
      break;
    }
    case "weighted":
      allowed = !sticker.notes.some((n) => n.startsWith("weight 0"));
      break;
    default:
      allowed = false;
  }
  if (!allowed) return ranked;
  return [{ ...sticker, notes: [...sticker.notes, "prefix-sticky: recently served this prompt prefix (its prompt cache)"] }, ...ranked.filter((_, i) => i !== index)];
}

/** Cascade without a classifier (planning in isolation): everything starts at the cheapest tier. */
const fallbackClassifier: DifficultyClassifier = {
  name: "none",
  classify: () => ({ tier: 0, score: 0, classifier: "none" }),
};

function rankCheapest(eligible: Candidate[]): Candidate[] {
  return eligible
    .map((c, i) => ({ c, i }))
    .sort((a, b) => costKey(a.c) - costKey(b.c) || a.i - b.i)
    .map(({ c }) => ({ ...c, notes: [...c.notes, c.estimatedCostUsd === null ? "price unknown: ranked last" : `estimated $${formatUsd(c.estimatedCostUsd)}`] }));
}

const costKey = (c: Candidate) => c.estimatedCostUsd ?? Number.POSITIVE_INFINITY;

function rankFastest(eligible: Candidate[], metric: "ttft" | "total", percentile: "p50" | "p95", env: PlannerEnv): Candidate[] {
  const stat = (c: Candidate): number | null => {
    const stats = env.health(c.target)[metric];
    const value = percentile === "p50" ? stats.p50Ms : stats.p95Ms;
    return stats.samples >= Math.min(env.minSamples, 3) && value !== null ? value : null;
  };
  const withStat = eligible.map((c, i) => ({ c, i, v: stat(c) }));
  const known = withStat.filter((x) => x.v !== null).sort((a, b) => a.v! - b.v! || env.health(a.c.target).inFlight - env.health(b.c.target).inFlight || a.i - b.i);
  const unknown = withStat.filter((x) => x.v === null);
  const name = `${percentile} ${metric === "ttft" ? "time to first token" : "latency"}`;
  const out = [
    ...known.map(({ c, v }) => ({ ...c, notes: [...c.notes, `${name} ${Math.round(v!)}ms`] })),
    ...unknown.map(({ c }) => ({ ...c, notes: [...c.notes, "no recent statistics"] })),
  ];
  // Explore now and then, or a target without statistics would never get any.
  if (known.length > 0 && unknown.length > 0 && env.random() < EXPLORE_RATE) {
    const explore = out[known.length]!;
    out.splice(known.length, 1);
    out.unshift({ ...explore, notes: [...explore.notes, "exploring"] });
  }
  return out;
}

function rankWeighted(eligible: Candidate[], document: Extract<PolicyDocument, { strategy: "weighted" }>, input: PlanInput, env: PlannerEnv): Candidate[] {
  const weightOf = new Map(document.targets.map((ref, i) => [`${ref.provider}/${ref.model}`, document.weights[i]!]));
  const weighted = eligible.map((c, i) => ({ c, i, w: c.origin === "policy" ? (weightOf.get(c.label) ?? 0) : 0 }));
  const total = weighted.reduce((sum, x) => sum + x.w, 0);
  if (total <= 0) return eligible.map((c) => ({ ...c, notes: [...c.notes, "weight 0: fallback only"] }));
  const facts = input.facts;
  const stickyKey = document.sticky === "none" ? null : document.sticky === "key" ? facts.apiKeyId : (facts.user ?? facts.apiKeyId);
  const draw = stickyKey === null ? env.random() : unitHash(`${input.policyName ?? input.requested}\u0000${stickyKey}`);
  let cumulative = 0;
  let chosen = weighted.findIndex((x) => {
    cumulative += x.w / total;
    return x.w > 0 && draw < cumulative;
  });
  if (chosen < 0) chosen = weighted.findLastIndex((x) => x.w > 0);
  const pick = weighted[chosen]!;
  const rest = weighted.filter((_, i) => i !== chosen).sort((a, b) => b.w - a.w || a.i - b.i);
  const share = (w: number) => `weight ${w} (${Math.round((w / total) * 100)}%)`;
  return [
    { ...pick.c, notes: [...pick.c.notes, `${share(pick.w)}, drawn ${draw.toFixed(3)}${stickyKey === null ? "" : ` (sticky by ${document.sticky})`}`] },
    ...rest.map(({ c, w }) => ({ ...c, notes: [...c.notes, w > 0 ? `${share(w)}: fallback` : "weight 0: fallback only"] })),
  ];
}

function rankCascade(eligible: Candidate[], startTier: number): Candidate[] {
  const up = eligible.filter((c) => (c.tier ?? Number.POSITIVE_INFINITY) >= startTier);
  const down = eligible.filter((c) => c.tier !== undefined && c.tier < startTier).reverse();
  return [
    ...up.map((c) => ({ ...c, notes: [...c.notes, c.tier === undefined ? "client fallback" : c.tier === startTier ? `tier ${c.tier}: chosen by difficulty` : `tier ${c.tier}: escalation`] })),
    ...down.map((c) => ({ ...c, notes: [...c.notes, `tier ${c.tier}: below the chosen tier, last resort`] })),
  ];
}

/** A stable hash of a string to [0, 1) (FNV-1a), for sticky weighted assignment. */
export function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A final avalanche so close keys do not land in close buckets.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 4294967296;
}

export function formatUsd(value: number): string {
  return value >= 0.01 ? value.toFixed(4) : value.toPrecision(3);
}
