/**
 * From the client's `model` (or the `x-switchyard-policy` header) to a Plan: the ordered targets to try, with the
 * decision that produced them. A name is, in order of precedence, a policy (virtual model), `provider/model`, or a
 * bare model id served by one of the organization's providers. Unknown names are a 404 that lists nothing; names
 * outside the key's allow-list are a 403.
 *
 * `routeCall` is the data plane's path: live health, the request's own needs and overrides, learned classifiers.
 * `resolvePlan` is the synchronous name → targets lookup (embeddings, up-front checks); batch and deferred chat
 * lines are planned by routeCall like live calls (server/batch/lines.ts).
 */
import { DEFAULT_RETRY, type PolicyDocument, type RetryPolicy, type TargetRef } from "@/lib/policy";
import type { AuthContext } from "../gateway/auth";
import { providerModel, type GatewayConfig, type OrgConfig, type PolicyConfig } from "../gateway/config";
import { AppError } from "../gateway/errors";
import { switchyardOptions } from "../gateway/schemas/chat";
import { optimizeCall, type OptimizedCall } from "../optimize";
import type { ChatRequest } from "../providers/types";
import { encodeCounts, type FeatureExtractor, type PromptFeatures } from "./classifier/features";
import { heuristicClassifier } from "./classifier/heuristic";
import type { LearnedClassifier } from "./classifier/learned";
import type { DifficultyClassifier } from "./classifier/types";
import type { RequestFacts } from "./conditions";
import { estimateCostUsd } from "./estimate";
import { UNKNOWN_HEALTH, type HealthTracker, type TargetHealth } from "./health";
import { planRoute, type PlanInput, type PrefixSticky, type RequestOverrides, type RouteDecision } from "./plan";
import { stickyPrefix, type PrefixAffinity } from "../cache/prefix-affinity";
import { profileRequest } from "./profile";
import { targetId, targetLabel, type Target } from "./types";

export type { Target } from "./types";

/** A target as one attempt uses it: the policy's parameter overrides and the params to drop there. */
export interface PreparedTarget {
  prepare(request: ChatRequest): ChatRequest;
  dropParams: ReadonlySet<string>;
}

/**
 * The ordered targets to try and why. The first five fields are all a hand-built plan needs (tests, embeddings);
 * the rest default to the policy-less behaviour (default retries, no special fallbacks, no deadlines).
 */
export interface Plan {
  requested: string;
  policy: PolicyConfig | null;
  targets: Target[];
  /** What the savings baseline is priced at: the policy's reference, else the first target. */
  reference: Target;
  /** The policy-wide params to drop (per-target additions come from `prepare`). */
  dropParams: ReadonlySet<string>;
  retry?: RetryPolicy;
  /** The planner's decision: candidates, rejections and reasons (recorded in the call log's `route`). */
  decision?: RouteDecision;
  fallbacks?: { contextLength: Target[]; contentFilter: Target[] };
  /** Per-attempt deadlines from the latency budget (ms), enforced while another target remains. */
  deadlines?: { ttftMs: number | null; totalMs: number | null };
  prepare?(target: Target): PreparedTarget;
  health?: HealthTracker | null;
  /** Hashed prompt features (learned cascade policies), stored with the call so feedback can train on them. */
  features?: string | null;
  /** Prefix affinity: records the target that served the call, for sticky routing of later calls with its prefix. */
  affinity?: { served(target: Target): void } | null;
  /** The policy's prompt compression and output cap (server/optimize): `request` is what goes upstream. */
  optimized?: OptimizedCall;
}

/** What routeCall needs from the process: live health and the cascade classifiers. */
export interface RoutingServices {
  health: HealthTracker | null;
  /** The learned classifier of a policy when one is trained (else null: the heuristic stands in). */
  learned(orgId: string, policy: string): LearnedClassifier | null;
  extractor: FeatureExtractor;
  now(): number;
  random(): number;
  /** Which target recently served a cacheable prefix (sticky routing); absent = no stickiness. */
  affinity?: PrefixAffinity | null;
}

/** Self-hosted kinds serve whatever models they were started with; the catalog has no list for them. */
const OPEN_MODEL_KINDS = new Set(["ollama", "vllm", "openai-compatible"]);
/** Headers conditions never see (credentials). */
const HIDDEN_HEADERS = new Set(["authorization", "x-api-key", "x-goog-api-key", "cookie", "proxy-authorization"]);
/** Headers that describe the connection or the body's bytes, not the request: never worth storing. */
const TRANSPORT_HEADERS = new Set(["host", "connection", "content-length", "content-type", "transfer-encoding", "accept", "accept-encoding", "keep-alive", "user-agent"]);
/** Names that suggest a credential, whatever the header: never stored. */
const SECRET_NAME = /key|token|secret|auth|cookie|passw|signature|session/i;

/**
 * The headers of a request worth keeping for planning it later (a deferred request's batch line): what routing
 * reads, without credentials or transport headers.
 */
export function storableHeaders(headers: Headers): Record<string, string> {
  const kept: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (HIDDEN_HEADERS.has(name) || TRANSPORT_HEADERS.has(name) || SECRET_NAME.test(name)) return;
    kept[name] = value;
  });
  return kept;
}

type Named = { policy: PolicyConfig; target?: never } | { target: Target; policy?: never };

function lookup(config: GatewayConfig, auth: AuthContext, requested: string, options: { policyOnly?: boolean } = {}): { org: OrgConfig; named: Named } {
  if (auth.allowedModels.length > 0 && !auth.allowedModels.includes(requested)) {
    throw new AppError(403, "model_not_allowed", `This API key is not allowed to use the model '${requested}'`, { param: "model" });
  }
  const notFound = () =>
    options.policyOnly
      ? new AppError(404, "policy_not_found", `The policy '${requested}' named by x-switchyard-policy does not exist or you do not have access to it`)
      : new AppError(404, "model_not_found", `The model '${requested}' does not exist or you do not have access to it`, { param: "model" });
  const org = config.orgs.get(auth.orgId);
  if (!org) throw notFound();
  const policy = org.policies.get(requested);
  if (policy && (!policy.teamId || policy.teamId === auth.teamId)) return { org, named: { policy } };
  if (options.policyOnly) throw notFound();
  const slash = requested.indexOf("/");
  if (slash > 0) {
    const explicit = resolveTarget(org, requested.slice(0, slash), requested.slice(slash + 1));
    if (typeof explicit !== "string") return { org, named: { target: explicit } };
  }
  for (const provider of org.providers.values()) {
    const model = providerModel(org, provider, requested);
    if (model) return { org, named: { target: { provider, modelId: requested, model } } };
  }
  throw notFound();
}

/** A provider + model of the organization, or why it cannot be used. */
export function resolveTarget(org: OrgConfig, providerName: string, modelId: string): Target | string {
  const provider = org.providers.get(providerName);
  if (!provider) return `provider '${providerName}' is not configured or not enabled`;
  const model = providerModel(org, provider, modelId);
  if (model) return { provider, modelId, model };
  return OPEN_MODEL_KINDS.has(provider.kind) ? { provider, modelId, model: null } : `model '${modelId}' is not in the catalog of '${providerName}' (or is disabled)`;
}

/**
 * The synchronous plan without the planner (no classifier, constraints or health): a direct model, or the policy's
 * targets in chain order (those that resolve), with the policy's retry rules. Chat calls use routeCall.
 */
export function resolvePlan(config: GatewayConfig, auth: AuthContext, requested: string): Plan {
  const { org, named } = lookup(config, auth, requested);
  if (named.target) return buildPlan(requested, null, org, null, [named.target], null);
  const targets = named.policy.document.targets.map((ref) => resolveTarget(org, ref.provider, ref.model)).filter((t): t is Target => typeof t !== "string");
  if (targets.length === 0) {
    throw new AppError(503, "no_available_target", `The policy '${requested}' has no target with an enabled provider and model`);
  }
  return buildPlan(requested, named.policy, org, null, targets, null);
}

export interface CallInput {
  canonical: ChatRequest;
  headers: Headers;
  /** The surface's raw request; its `switchyard` field (chat completions) holds per-request overrides. */
  raw?: unknown;
}

/** The data plane's plan for one call: header override, request overrides, live health, classifiers. */
export async function routeCall(services: RoutingServices, config: GatewayConfig, auth: AuthContext, call: CallInput): Promise<Plan> {
  let prepared = prepareCall(config, auth, call);
  // Compression and caps first, so the planner's estimates and context checks see the request that will be sent.
  const optimized = optimizeCall(prepared.policy?.document ?? null, call.canonical, call.headers, prepared.facts);
  if (optimized) prepared = { ...prepared, facts: requestFacts(auth, optimized.request, call.headers) };
  const ids = prepared.known.map(targetId);
  const health = services.health ? await services.health.view(ids) : new Map<string, TargetHealth>();
  // Sticky routing: the target that recently served this request's cacheable prefix, if any.
  const prefix = services.affinity ? stickyPrefix(optimized?.request ?? call.canonical) : null;
  const stuck = prefix ? await services.affinity!.lookup(auth.orgId, prefix.hash) : null;
  // A learned cascade's full features (a sentence embedding, when the extractor has one) — only for such policies.
  const document = prepared.policy?.document;
  const features =
    document?.strategy === "cascade" && document.classifier.kind === "learned" && services.extractor.extractAll
      ? await services.extractor.extractAll(prepared.facts.profile.lastUserText).catch(() => null)
      : null;
  const planned = decide(prepared, auth, {
    ...(features ? { features } : {}),
    sticky: stuck && prefix ? { targetId: stuck, prefixTokens: prefix.tokens } : null,
    learned: services.learned,
    extractor: services.extractor,
    now: services.now(),
    random: services.random,
    health: (t) => health.get(targetId(t)) ?? services.health?.peek(targetId(t)) ?? UNKNOWN_HEALTH,
    minSamples: services.health?.options.minSamples ?? 5,
  });
  const plan = buildPlan(prepared.requested, prepared.policy, prepared.org, planned.decision, null, services.health, planned.features);
  if (prefix) {
    const affinity = services.affinity!;
    plan.affinity = { served: (target) => void affinity.record(auth.orgId, prefix.hash, targetId(target)) };
  }
  return optimized ? { ...plan, optimized } : plan;
}

/** A call's routing inputs, resolved: what was asked for, the policy or target, the client's fallbacks, the facts. */
export interface PreparedCall {
  requested: string;
  org: OrgConfig;
  policy: PolicyConfig | null;
  direct: Target | null;
  requestFallbacks: Target[];
  overrides: RequestOverrides;
  facts: RequestFacts;
  /** Every target the plan may consider (for health look-ups). */
  known: Target[];
}

export function prepareCall(config: GatewayConfig, auth: AuthContext, call: CallInput): PreparedCall {
  const header = call.headers.get("x-switchyard-policy")?.trim();
  const requested = header || call.canonical.model;
  const { org, named } = lookup(config, auth, requested, { policyOnly: Boolean(header) });
  const options = parseOverrides(call.raw);
  const requestFallbacks: Target[] = [];
  for (const name of options.fallbacks ?? []) {
    const fallback = lookup(config, auth, name).named;
    if (fallback.target) requestFallbacks.push(fallback.target);
    else {
      for (const ref of fallback.policy.document.targets) {
        const t = resolveTarget(org, ref.provider, ref.model);
        if (typeof t !== "string") requestFallbacks.push(t);
      }
    }
  }
  const document = named.policy?.document ?? null;
  const refs: TargetRef[] = document ? allRefs(document) : [];
  return {
    requested,
    org,
    policy: named.policy ?? null,
    direct: named.target ?? null,
    requestFallbacks,
    overrides: toOverrides(options),
    facts: requestFacts(auth, call.canonical, call.headers),
    known: [
      ...refs.map((ref) => resolveTarget(org, ref.provider, ref.model)).filter((t): t is Target => typeof t !== "string"),
      ...requestFallbacks,
      ...(named.target ? [named.target] : []),
    ],
  };
}

/** How `decide` sees the world (synchronously). */
export interface DecideEnv {
  learned: RoutingServices["learned"];
  extractor: FeatureExtractor;
  /** The prompt's features computed ahead (asynchronously, dense part included); else the extractor's lexical ones. */
  features?: PromptFeatures;
  now: number;
  random: () => number;
  health: (target: Target) => TargetHealth;
  minSamples: number;
  estimateAll?: boolean;
  /** The target that recently served the request's cacheable prefix (sticky routing). */
  sticky?: PrefixSticky | null;
}

/** Runs the planner for a prepared call; `features` are set for learned cascade policies. */
export function decide(prepared: PreparedCall, auth: AuthContext, env: DecideEnv): { decision: RouteDecision; features: string | null } {
  const document = prepared.policy?.document ?? null;
  let classifier: DifficultyClassifier | undefined;
  let features: string | null = null;
  if (document?.strategy === "cascade") {
    classifier = cascadeHeuristic(document);
    if (document.classifier.kind === "learned") {
      const extracted = env.features ?? env.extractor.extract(prepared.facts.profile.lastUserText);
      features = encodeCounts(extracted);
      const learned = env.learned(auth.orgId, prepared.policy!.name);
      const threshold = document.classifier.threshold;
      classifier = learned
        ? { name: learned.name, classify: (_profile, tiers) => learned.classifyFeatures(extracted, tiers, threshold) }
        : withNote(classifier, "learned model not trained yet: heuristic");
    }
  }
  const input: PlanInput = {
    requested: prepared.requested,
    policyName: prepared.policy?.name ?? null,
    document,
    ...(prepared.direct ? { direct: prepared.direct } : {}),
    resolve: (ref) => resolveTarget(prepared.org, ref.provider, ref.model),
    requestFallbacks: prepared.requestFallbacks,
    overrides: prepared.overrides,
    facts: prepared.facts,
    ...(classifier ? { classifier } : {}),
    ...(env.sticky ? { sticky: env.sticky } : {}),
  };
  const decision = planRoute(input, { now: env.now, random: env.random, health: env.health, estimateCostUsd, minSamples: env.minSamples, estimateAll: env.estimateAll ?? false });
  return { decision, features };
}

function buildPlan(
  requested: string,
  policy: PolicyConfig | null,
  org: OrgConfig,
  decision: RouteDecision | null,
  chain: Target[] | null,
  health: HealthTracker | null,
  features: string | null = null,
): Plan {
  const document = policy?.document ?? null;
  const targets = chain ?? decision!.candidates.map((c) => c.target);
  if (targets.length === 0) throw noTarget(requested, policy, decision!);
  const referenceRef = document?.reference;
  const reference = referenceRef ? resolveTarget(org, referenceRef.provider, referenceRef.model) : null;
  const dropParams = new Set(document?.dropParams ?? []);
  return {
    requested,
    policy,
    targets,
    reference: reference && typeof reference !== "string" ? reference : targets[0]!,
    dropParams,
    retry: { ...DEFAULT_RETRY, ...document?.retry },
    ...(decision ? { decision } : {}),
    fallbacks: {
      contextLength: decision?.fallbacks.contextLength.map((c) => c.target) ?? [],
      contentFilter: decision?.fallbacks.contentFilter.map((c) => c.target) ?? [],
    },
    deadlines: { ttftMs: decision?.constraints.ttftMs ?? null, totalMs: decision?.constraints.totalMs ?? null },
    prepare: (target) => prepareTarget(document, dropParams, target),
    health,
    features,
  };
}

export function noTarget(requested: string, policy: PolicyConfig | null, decision: RouteDecision): AppError {
  const reasons = decision.rejected.map((r) => `${r.label}: ${r.reasons.join(", ")}`).join("; ");
  const what = policy ? `policy '${policy.name}'` : `'${requested}'`;
  const down = decision.rejected.some((r) => r.reasons.some((reason) => reason.startsWith("circuit open")));
  return down
    ? new AppError(503, "no_available_target", `No target of ${what} is available: ${reasons}`)
    : new AppError(400, "no_eligible_target", `No target of ${what} can serve this request: ${reasons}`);
}

/** The policy's parameter overrides for one target. */
export function prepareTarget(document: PolicyDocument | null, base: ReadonlySet<string>, target: Target): PreparedTarget {
  const parameters = document?.parameters;
  const extra = [...(parameters?.dropParams?.[targetLabel(target)] ?? []), ...(parameters?.dropParams?.[target.provider.name] ?? [])];
  const dropParams = extra.length > 0 ? new Set([...base, ...extra]) : base;
  const cap = parameters?.maxTokens;
  const temperature = parameters?.temperature;
  return {
    dropParams,
    prepare(request) {
      if (cap === undefined && temperature === undefined) return request;
      const out: ChatRequest = { ...request };
      if (cap !== undefined) {
        if (out.max_completion_tokens != null) out.max_completion_tokens = Math.min(out.max_completion_tokens, cap);
        else if (out.max_tokens != null) out.max_tokens = Math.min(out.max_tokens, cap);
        else out.max_completion_tokens = cap;
      }
      if (temperature !== undefined && out.temperature == null) out.temperature = temperature;
      return out;
    },
  };
}

function allRefs(document: PolicyDocument): TargetRef[] {
  return [
    ...document.targets,
    ...(document.strategy === "conditional" ? document.rules.flatMap((r) => r.targets) : []),
    ...(document.fallbacks?.contextLength ?? []),
    ...(document.fallbacks?.contentFilter ?? []),
  ];
}

function cascadeHeuristic(document: Extract<PolicyDocument, { strategy: "cascade" }>): DifficultyClassifier {
  return heuristicClassifier(document.classifier.kind === "heuristic" ? document.classifier.thresholds : undefined);
}

function withNote(classifier: DifficultyClassifier, note: string): DifficultyClassifier {
  return {
    name: classifier.name,
    classify(profile, tiers) {
      const d = classifier.classify(profile, tiers);
      return { ...d, detail: d.detail ? `${d.detail} (${note})` : note };
    },
  };
}

export function requestFacts(auth: AuthContext, request: ChatRequest, headers: Headers): RequestFacts {
  const visible: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (!HIDDEN_HEADERS.has(name)) visible[name] = value;
  });
  return {
    apiKeyId: auth.apiKeyId,
    teamId: auth.teamId,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
    headers: visible,
    profile: profileRequest(request),
  };
}

type SwitchyardOptions = { max_cost_usd?: number; max_latency_ms?: number; require?: RequestOverrides["require"]; fallbacks?: string[] };

function parseOverrides(raw: unknown): SwitchyardOptions {
  if (typeof raw !== "object" || raw === null || !("switchyard" in raw)) return {};
  const parsed = switchyardOptions.safeParse((raw as { switchyard: unknown }).switchyard);
  if (!parsed.success) throw new AppError(400, "invalid_value", "Invalid 'switchyard' routing options", { param: "switchyard" });
  return parsed.data;
}

function toOverrides(options: SwitchyardOptions): RequestOverrides {
  return {
    ...(options.max_cost_usd !== undefined ? { maxCostUsd: options.max_cost_usd } : {}),
    ...(options.max_latency_ms !== undefined ? { maxLatencyMs: options.max_latency_ms } : {}),
    ...(options.require ? { require: options.require } : {}),
  };
}
