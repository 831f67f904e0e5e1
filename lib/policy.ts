/**
 * Policy documents: a policy is a virtual model name ("support-bot") that apps put in `model`. Shared by the
 * gateway, the tRPC routers, the CLI and the dashboard's forms.
 *
 * A document is a discriminated union on `strategy` (absent = "ordered", so documents written before strategies
 * existed keep their meaning). Every strategy has `targets`, the ordered chain of provider + model pairs the
 * policy may use: the fallback order, and the tie-break when a strategy ranks two targets equally. Around it:
 * - `constraints`: required capabilities, max cost per query, latency budget, allowed/denied providers and regions;
 * - `retry`: which failures retry, how often and how long to wait, and which ones fall back to the next target;
 * - `fallbacks`: separate chains for context-length-exceeded (longer-context models) and content-filter refusals;
 * - `parameters`: a max_tokens cap (also per task type), a default temperature, and params to drop per target;
 * - `compression`: prompt compression (lossless steps, and opt-in lossy history trimming).
 * - `logging`: whether the call log stores the call's request and response bodies (off by default, redacted).
 * The gateway's planner (server/routing/plan.ts) reads these fields; `policyTargetRefs` lists every reference a
 * document makes, for editors and validators.
 */
import { z } from "zod";

/** A provider (by its configured name) and one of its models. */
export const targetRef = z.strictObject({
  provider: z.string().min(1).max(128),
  model: z.string().min(1).max(256),
});
export type TargetRef = z.infer<typeof targetRef>;

export const STRATEGIES = ["ordered", "cheapest", "fastest", "weighted", "conditional", "cascade"] as const;
export type StrategyName = (typeof STRATEGIES)[number];

/**
 * Capabilities a policy (or a request's `switchyard.require`) can demand. `json_schema` is served by models with
 * the catalog's `json` capability; the others are catalog capability names.
 */
export const REQUIREMENTS = ["tools", "vision", "json", "json_schema", "reasoning", "streaming"] as const;
export type Requirement = (typeof REQUIREMENTS)[number];

/** Upstream failure kinds (server/providers/types.ts UpstreamErrorKind), as retry and fallback rules name them. */
export const ERROR_KINDS = [
  "rate_limited",
  "server_error",
  "overloaded",
  "timeout",
  "connection",
  "context_length",
  "content_filter",
  "auth",
  "bad_request",
  "not_found",
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** What the gateway does when a policy says nothing: the defaults of `retry`. */
export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze<RetryPolicy>({
  maxAttempts: 2,
  baseDelayMs: 100,
  maxDelayMs: 2_000,
  maxRetryAfterMs: 5_000,
  retryOn: ["rate_limited", "server_error", "overloaded", "timeout", "connection"],
  fallbackOn: ["rate_limited", "server_error", "overloaded", "timeout", "connection", "auth", "not_found"],
});

const regexSource = z
  .string()
  .min(1)
  .max(500)
  .refine((source) => {
    try {
      new RegExp(source);
      return true;
    } catch {
      return false;
    }
  }, "must be a valid regular expression");

const nameList = z.array(z.string().min(1).max(256)).min(1).max(256);
const allowDeny = z.strictObject({ allow: nameList.optional(), deny: nameList.optional() });

/**
 * A condition on the request (conditional rules, cascade escalation). Every field present must hold; `any` holds
 * when one of its conditions does, `not` when its condition does not.
 */
// A type alias (not an interface) so documents stay assignable to JSON column types.
export type Condition = {
  /** Request `metadata` keys that must equal the value (or one of the values). */
  metadata?: Record<string, string | string[]>;
  /** Request headers (lower-case names) whose value must match the regular expression. */
  headers?: Record<string, string>;
  /** API key ids. */
  apiKeys?: string[];
  /** Team ids (the key's team). */
  teams?: string[];
  /** End-user ids (the request's `user`). */
  users?: string[];
  /** A regular expression searched in the last user message (or every message with `scope: "all"`). */
  content?: { pattern: string; ignoreCase?: boolean; scope?: "last_user" | "all" };
  /** Prompt tokens (o200k tokenizer) within [min, max]. */
  promptTokens?: { min?: number; max?: number };
  /** Capabilities the request needs (inferred from it: tools, image parts, a JSON schema, reasoning effort). */
  requires?: Requirement[];
  any?: Condition[];
  not?: Condition;
};

export const condition: z.ZodType<Condition> = z.lazy(() =>
  z.strictObject({
    metadata: z.record(z.string().min(1).max(64), z.union([z.string().max(512), z.array(z.string().max(512)).min(1).max(64)])).optional(),
    headers: z.record(z.string().regex(/^[a-z0-9-]{1,64}$/, "lower-case header name"), regexSource).optional(),
    apiKeys: nameList.optional(),
    teams: nameList.optional(),
    users: nameList.optional(),
    content: z
      .strictObject({
        pattern: regexSource,
        ignoreCase: z.boolean().optional(),
        scope: z.enum(["last_user", "all"]).optional(),
      })
      .optional(),
    promptTokens: z
      .strictObject({ min: z.number().int().nonnegative().optional(), max: z.number().int().nonnegative().optional() })
      .optional(),
    requires: z.array(z.enum(REQUIREMENTS)).min(1).optional(),
    any: z.array(condition).min(1).max(32).optional(),
    not: condition.optional(),
  }),
);

export const constraintsSchema = z.strictObject({
  /** Capabilities every target must have, on top of what the request itself needs. */
  require: z.array(z.enum(REQUIREMENTS)).max(REQUIREMENTS.length).optional(),
  /** Most a single call may cost (USD), estimated before sending from the prompt's tokens and catalog prices. */
  maxCostUsd: z.number().positive().max(10_000).optional(),
  /**
   * Output tokens assumed by the cost estimate when the request sets no max_tokens (a request that sets one is
   * estimated at that worst case). Default 512.
   */
  expectedOutputTokens: z.number().int().positive().max(1_000_000).optional(),
  /** Latency budget, judged against each target's live statistics (and enforced per attempt while a fallback remains). */
  latency: z
    .strictObject({
      ttftMs: z.number().int().positive().max(600_000).optional(),
      totalMs: z.number().int().positive().max(3_600_000).optional(),
      /** Which live statistic is compared with the budget. */
      percentile: z.enum(["p50", "p95"]).optional(),
    })
    .optional(),
  /** Provider names (as configured) a call may or may not go to. */
  providers: allowDeny.optional(),
  /** Provider regions (Provider.region) a call may or may not go to; a provider without a region fails `allow`. */
  regions: allowDeny.optional(),
  /** Targets with this many calls in flight (across instances) are tried last. */
  maxInFlight: z.number().int().positive().max(1_000_000).optional(),
});
export type Constraints = z.infer<typeof constraintsSchema>;

export const retrySchema = z.strictObject({
  /** Tries per target, the first included. */
  maxAttempts: z.number().int().min(1).max(10).optional(),
  /** Exponential backoff with full jitter: wait uniform(0, min(maxDelayMs, baseDelayMs·2^(n-1))). */
  baseDelayMs: z.number().int().min(0).max(60_000).optional(),
  maxDelayMs: z.number().int().min(0).max(300_000).optional(),
  /** Longest Retry-After honoured; a longer one fails over at once instead of blocking the caller. */
  maxRetryAfterMs: z.number().int().min(0).max(300_000).optional(),
  /** Failures that retry the same target. */
  retryOn: z.array(z.enum(ERROR_KINDS)).max(ERROR_KINDS.length).optional(),
  /** Failures that move on to the next target (context_length and content_filter use `fallbacks` instead). */
  fallbackOn: z.array(z.enum(ERROR_KINDS)).max(ERROR_KINDS.length).optional(),
});
export type RetryPolicy = Required<z.infer<typeof retrySchema>>;

export const fallbacksSchema = z.strictObject({
  /** Tried when a target reports context-length-exceeded (only targets with a larger known window qualify). */
  contextLength: z.array(targetRef).max(16).optional(),
  /** Tried when a target refuses on content grounds (an error, or a `content_filter` finish before bytes were sent). */
  contentFilter: z.array(targetRef).max(16).optional(),
});

const paramName = z.string().min(1).max(64);

/**
 * A task type for `parameters.maxTokensByTask` (server/optimize/README.md): the built-in cues recognise
 * `classification` and `extraction`; `taskRules` and the `x-switchyard-task` header may name any.
 */
export const taskName = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, "lower-case letters, digits, '_' or '-'");

export const parametersSchema = z.strictObject({
  /** Cap on max_tokens / max_completion_tokens (a request asking for more is lowered to it; absent, it is set). */
  maxTokens: z.number().int().positive().max(10_000_000).optional(),
  /**
   * Caps per task type, applied like `maxTokens` (the smaller of the two wins) when the request is recognised as
   * that task: by the `x-switchyard-task` header, else the first matching `taskRules` entry, else built-in cues.
   */
  maxTokensByTask: z.record(taskName, z.number().int().positive().max(10_000_000)).optional(),
  /** Rules naming a request's task type (first match wins), checked before the built-in cues. */
  taskRules: z.array(z.strictObject({ when: condition, task: taskName })).max(64).optional(),
  /** Cues off: only the header and `taskRules` name a task. */
  taskCues: z.boolean().optional(),
  /** Temperature used when the request sets none. */
  temperature: z.number().min(0).max(2).optional(),
  /** Params dropped for one target ("provider/model") or every model of a provider ("provider"). */
  dropParams: z.record(z.string().min(1).max(400), z.array(paramName).max(64)).optional(),
});

/**
 * Prompt compression (server/optimize/compress.ts). Absent = off: a policy's prompts are sent as the client wrote
 * them. Present, the lossless steps default on; the lossy one (`trimHistory`) runs only when configured.
 */
export const compressionSchema = z.strictObject({
  /** Lossless: line endings, trailing spaces, runs of spaces and blank lines (never in code or indented lines). Default true. */
  whitespace: z.boolean().optional(),
  /** Lossless: repeated system messages, adjacent identical messages, repeated paragraphs of system text. Default true. */
  dedupe: z.boolean().optional(),
  /**
   * LOSSY, opt-in: when the prompt exceeds `maxTokens`, the oldest conversation turns are dropped (system messages
   * and the last `keepLastMessages` messages are kept) and a system marker says how much was omitted.
   */
  trimHistory: z
    .strictObject({
      maxTokens: z.number().int().min(64).max(10_000_000),
      keepLastMessages: z.number().int().min(1).max(1_000).optional(),
    })
    .optional(),
});
export type CompressionPolicy = z.infer<typeof compressionSchema>;

/**
 * What the call log keeps of a policy's calls. Absent (the default): metadata only. `bodies: true` also stores
 * the request as the client sent it and the final response (server/gateway/bodies.ts), scrubbed of key-shaped
 * strings and capped at 64 KiB each.
 */
export const loggingSchema = z.strictObject({
  bodies: z.boolean().optional(),
});

const common = {
  targets: z.array(targetRef).min(1).max(32),
  /** The model the savings baseline is priced at (what the app would have used); defaults to the first target. */
  reference: targetRef.optional(),
  /** Request parameters to drop (instead of a 400) when a target cannot honour them. */
  dropParams: z.array(paramName).max(64).default([]),
  constraints: constraintsSchema.optional(),
  retry: retrySchema.optional(),
  fallbacks: fallbacksSchema.optional(),
  parameters: parametersSchema.optional(),
  compression: compressionSchema.optional(),
  logging: loggingSchema.optional(),
};

/** `ordered`: the targets in order, falling back on retryable failures. */
const orderedPolicy = z.strictObject({ strategy: z.literal("ordered").default("ordered"), ...common });

/** `cheapest`: the lowest estimated cost for this request first (the prompt's real token count, catalog prices). */
const cheapestPolicy = z.strictObject({ strategy: z.literal("cheapest"), ...common });

/** `fastest`: the best live latency first (targets without recent statistics are explored now and then). */
const fastestPolicy = z.strictObject({
  strategy: z.literal("fastest"),
  ...common,
  metric: z.enum(["ttft", "total"]).default("ttft"),
  percentile: z.enum(["p50", "p95"]).default("p50"),
});

/** `weighted`: an A/B split by weight, sticky per API key or end user (hash), the others as fallbacks. */
const weightedPolicy = z
  .strictObject({
    strategy: z.literal("weighted"),
    ...common,
    /** One non-negative weight per target, in the same order. */
    weights: z.array(z.number().nonnegative().max(1_000_000)).min(1).max(32),
    /** `user`: the request's `user` (else the key); `key`: the API key; `none`: a fresh draw per call. */
    sticky: z.enum(["user", "key", "none"]).default("user"),
  })
  .check((ctx) => {
    if (ctx.value.weights.length !== ctx.value.targets.length) {
      ctx.issues.push({ code: "custom", message: "needs one weight per target", path: ["weights"], input: ctx.value.weights });
    } else if (!ctx.value.weights.some((w) => w > 0)) {
      ctx.issues.push({ code: "custom", message: "at least one weight must be positive", path: ["weights"], input: ctx.value.weights });
    }
  });

export const conditionalRule = z.strictObject({
  name: z.string().min(1).max(128).optional(),
  when: condition,
  /** The chain used when the rule matches (then `strategy` orders it). */
  targets: z.array(targetRef).min(1).max(32),
  strategy: z.enum(["ordered", "cheapest", "fastest"]).default("ordered"),
});
export type ConditionalRule = z.infer<typeof conditionalRule>;

/** `conditional`: the first rule whose condition holds picks the chain; no match uses `targets` in order. */
const conditionalPolicy = z.strictObject({
  strategy: z.literal("conditional"),
  ...common,
  rules: z.array(conditionalRule).min(1).max(64),
});

export const cascadeClassifier = z.discriminatedUnion("kind", [
  z.strictObject({
    /** Transparent rules of thumb: length, reasoning cues, code, maths, multi-part questions. */
    kind: z.literal("heuristic"),
    /** Difficulty thresholds between tiers, ascending (n targets → n-1 values); default evenly spaced. */
    thresholds: z.array(z.number().min(0).max(1)).max(31).optional(),
  }),
  z.strictObject({
    /** Trained per policy from outcome feedback (POST /api/v1/feedback); heuristic until enough samples exist. */
    kind: z.literal("learned"),
    /** The operating point is chosen (by cross-validation) to keep quality ≥ this share of top-tier-only quality. */
    minQualityRatio: z.number().min(0.5).max(1).default(0.95),
    /** Feedback samples needed per tier before the learned model replaces the heuristic. */
    minSamples: z.number().int().min(20).max(1_000_000).default(200),
    /** A fixed escalation threshold (predicted quality gain) instead of the cross-validated one. */
    threshold: z.number().min(-1).max(1).optional(),
  }),
]);
export type CascadeClassifier = z.infer<typeof cascadeClassifier>;

/**
 * `cascade`: tiered escalation. `targets` run from the cheapest tier to the strongest; a difficulty classifier
 * picks the starting tier, `escalate` rules can force a higher one, and failures move up the tiers.
 */
const cascadePolicy = z.strictObject({
  strategy: z.literal("cascade"),
  ...common,
  targets: z.array(targetRef).min(2).max(32),
  classifier: cascadeClassifier.default({ kind: "heuristic" }),
  escalate: z
    .array(z.strictObject({ when: condition, minTier: z.number().int().min(0).max(31) }))
    .max(64)
    .default([]),
});

const VARIANTS = [orderedPolicy, cheapestPolicy, fastestPolicy, weightedPolicy, conditionalPolicy, cascadePolicy] as const;

export const policyDocument = z.discriminatedUnion("strategy", VARIANTS);
export type PolicyDocument = z.infer<typeof policyDocument>;
export type PolicyDocumentInput = z.input<typeof policyDocument>;

/** The same union with extra fields on every variant (the config file adds name, team, description, enabled). */
export function extendPolicyDocument<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.discriminatedUnion("strategy", [
    orderedPolicy.extend(shape),
    cheapestPolicy.extend(shape),
    fastestPolicy.extend(shape),
    weightedPolicy.extend(shape),
    conditionalPolicy.extend(shape),
    cascadePolicy.extend(shape),
  ]);
}

/** Every provider + model a document refers to, with its path (for reference checks and editors). */
export function policyTargetRefs(document: PolicyDocument): Array<{ path: string; ref: TargetRef }> {
  const out: Array<{ path: string; ref: TargetRef }> = [];
  document.targets.forEach((ref, i) => out.push({ path: `targets.${i}`, ref }));
  if (document.reference) out.push({ path: "reference", ref: document.reference });
  document.fallbacks?.contextLength?.forEach((ref, i) => out.push({ path: `fallbacks.contextLength.${i}`, ref }));
  document.fallbacks?.contentFilter?.forEach((ref, i) => out.push({ path: `fallbacks.contentFilter.${i}`, ref }));
  if (document.strategy === "conditional") {
    document.rules.forEach((rule, r) => rule.targets.forEach((ref, i) => out.push({ path: `rules.${r}.targets.${i}`, ref })));
  }
  return out;
}

/** Policy names look like model ids and must not contain a "/" (reserved for provider/model). */
export const policyName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "letters, digits, '.', '_', ':' or '-'");
