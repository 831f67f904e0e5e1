/**
 * The declarative configuration file (YAML or JSON) that `switchyard apply -f FILE` and SWITCHYARD_CONFIG load:
 * teams, providers, model overrides, policies, cache rules, budgets and users, each identified by a natural key
 * (team slug, provider name, provider + model, policy name, cache-rule name, budget scope + period, user email).
 * Field names follow prisma/schema.prisma. Secrets never live in the file: providers and users name the
 * environment variable that holds their key or password (`apiKeyEnv`, `passwordEnv`).
 *
 * Isomorphic (no server imports), so the dashboard can validate and export the same format.
 */
import { z } from "zod";
import { extendPolicyDocument, policyName } from "./policy";

import { PROVIDER_KINDS } from "./provider-kinds";
export { PROVIDER_KINDS };

/** Mirrors of prisma/schema.prisma enums and of the catalog's capability names (asserted equal by unit tests). */
export const ROLES = ["admin", "developer", "finance"] as const;
export const BUDGET_SCOPES = ["organization", "team", "api_key", "end_user"] as const;
export const BUDGET_PERIODS = ["daily", "weekly", "monthly", "lifetime"] as const;
/** Endpoints a cache rule can cover (CacheRule.endpoints). */
export const CACHE_ENDPOINTS = ["chat.completions", "responses", "messages", "embeddings"] as const;
export const CAPABILITY_NAMES = ["tools", "vision", "json", "reasoning", "streaming", "embeddings"] as const;

export const teamSlug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be lowercase letters, digits and '-' (at most 63 characters)");

/** Provider names appear in policy targets and in "provider/model" ids, so no "/" and no spaces. */
export const providerName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "must be letters, digits, '.', '_' or '-' (at most 128 characters)");

const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "must be the name of an environment variable (letters, digits, '_')");

/** Money columns are Decimal(20, 10): a non-negative decimal below 10^10, kept as a string so nothing is rounded. */
const decimal = z.unknown().transform((value, ctx) => {
  const text = typeof value === "number" && Number.isFinite(value) ? String(value) : typeof value === "string" ? value.trim() : "";
  if (/^\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text) && Number(text) < 1e10) return text;
  ctx.addIssue({ code: "custom", message: "must be a non-negative decimal number below 10000000000" });
  return z.NEVER;
});

const positiveInt = z.number().int().positive().max(2_147_483_647);

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export const teamSpec = z.strictObject({
  slug: teamSlug,
  name: z.string().trim().min(1).max(128),
});

export const providerSpec = z.strictObject({
  name: providerName,
  kind: z.enum(PROVIDER_KINDS),
  /** Defaults to the kind's public endpoint; required for kinds without one (Azure, self-hosted, simulator). */
  baseUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).max(2048).optional(),
  /** Environment variable holding the provider key. Absent: the stored key (if any) is kept. */
  apiKeyEnv: envVarName.optional(),
  allowPrivate: z.boolean().default(false),
  enabled: z.boolean().default(true),
  region: z.string().min(1).max(64).optional(),
  /** Non-secret provider settings (apiVersion, deployment, headers, protocol); checked by the server. */
  config: z.record(z.string(), z.unknown()).default({}),
});

export const modelSpec = z.strictObject({
  /** Provider name; absent = the override applies to the model id under every provider. */
  provider: providerName.optional(),
  model: z.string().min(1).max(256),
  displayName: z.string().min(1).max(256).optional(),
  /** USD per 1M tokens; absent = keep the catalog's price. */
  inputPrice: decimal.optional(),
  outputPrice: decimal.optional(),
  cacheReadPrice: decimal.optional(),
  cacheWritePrice: decimal.optional(),
  batchInputPrice: decimal.optional(),
  batchOutputPrice: decimal.optional(),
  contextWindow: positiveInt.optional(),
  maxOutput: positiveInt.optional(),
  capabilities: z.strictObject(Object.fromEntries(CAPABILITY_NAMES.map((name) => [name, z.boolean().optional()]))).default({}),
  enabled: z.boolean().default(true),
});

/** A policy: its document's fields (strategy, targets, reference, dropParams) plus name, team and description. */
export const policySpec = extendPolicyDocument({
  name: policyName,
  team: teamSlug.optional(),
  description: z.string().max(1000).optional(),
  enabled: z.boolean().default(true),
});

export const cacheRuleSpec = z.strictObject({
  name: z.string().trim().min(1).max(128),
  team: teamSlug.optional(),
  policy: policyName.optional(),
  exact: z.boolean().default(true),
  semantic: z.boolean().default(false),
  ttlSeconds: z.number().int().min(1).max(365 * 24 * 3600).default(3600),
  threshold: z.number().min(0).max(1).default(0.92),
  maxEntryBytes: positiveInt.default(262144),
  endpoints: z.array(z.enum(CACHE_ENDPOINTS)).min(1).default(["chat.completions"]),
  scope: z.enum(["team", "key"]).default("team"),
  allowNonZeroTemperature: z.boolean().default(false),
  shadow: z.boolean().default(false),
  enabled: z.boolean().default(true),
});

export const budgetSpec = z
  .strictObject({
    scope: z.enum(BUDGET_SCOPES),
    team: teamSlug.optional(),
    /** The key's visible prefix ("sy-AbCdEf"), for scope api_key. */
    apiKey: z.string().min(1).max(64).optional(),
    endUser: z.string().min(1).max(256).optional(),
    period: z.enum(BUDGET_PERIODS),
    limitUsd: decimal,
    hard: z.boolean().default(true),
    alertThresholds: z.array(z.number().int().min(1).max(1000)).max(16).default([50, 80, 100]),
    timezone: z.string().refine(isTimeZone, "must be an IANA time zone such as UTC or Europe/Paris").default("UTC"),
    webhookUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
    enabled: z.boolean().default(true),
  })
  .superRefine((budget, ctx) => {
    const need = (field: "team" | "apiKey" | "endUser") => {
      if (budget[field] === undefined) ctx.addIssue({ code: "custom", path: [field], message: `required for scope ${budget.scope}` });
    };
    const forbid = (field: "team" | "apiKey" | "endUser") => {
      if (budget[field] !== undefined) ctx.addIssue({ code: "custom", path: [field], message: `not allowed for scope ${budget.scope}` });
    };
    if (budget.scope === "organization") (["team", "apiKey", "endUser"] as const).forEach(forbid);
    if (budget.scope === "team") (need("team"), forbid("apiKey"), forbid("endUser"));
    if (budget.scope === "api_key") (need("apiKey"), forbid("team"), forbid("endUser"));
    if (budget.scope === "end_user") (need("endUser"), forbid("apiKey"));
  });

export const userSpec = z.strictObject({
  email: z.email({ error: "must be an email address" }).max(320),
  name: z.string().trim().min(1).max(128).optional(),
  role: z.enum(ROLES),
  team: teamSlug.optional(),
  /** Environment variable holding the initial password. Absent: the stored password (if any) is kept. */
  passwordEnv: envVarName.optional(),
});

/** The natural key of a budget, as the file can express it. */
export function budgetKey(budget: z.output<typeof budgetSpec>): string {
  return [budget.scope, budget.team ?? "", budget.apiKey ?? "", budget.endUser ?? "", budget.period].join("\u0000");
}

export const configFileSchema = z
  .strictObject({
    /** Format version; only 1 exists. */
    version: z.literal(1).optional(),
    teams: z.array(teamSpec).default([]),
    providers: z.array(providerSpec).default([]),
    models: z.array(modelSpec).default([]),
    policies: z.array(policySpec).default([]),
    cacheRules: z.array(cacheRuleSpec).default([]),
    budgets: z.array(budgetSpec).default([]),
    users: z.array(userSpec).default([]),
  })
  .superRefine((file, ctx) => {
    // A natural key twice would make the file's meaning depend on order: refuse it.
    const unique = <T>(section: keyof typeof file, items: readonly T[], key: (item: T) => string, field: string, label: string) => {
      const seen = new Map<string, number>();
      items.forEach((item, index) => {
        const k = key(item);
        const first = seen.get(k);
        if (first === undefined) seen.set(k, index);
        else ctx.addIssue({ code: "custom", path: [section, index, field], message: `duplicate ${label} (also ${section}[${first}])` });
      });
    };
    unique("teams", file.teams, (t) => t.slug, "slug", "team slug");
    unique("providers", file.providers, (p) => p.name, "name", "provider name");
    unique("models", file.models, (m) => `${m.provider ?? ""}\u0000${m.model}`, "model", "provider and model");
    unique("policies", file.policies, (p) => p.name, "name", "policy name");
    unique("cacheRules", file.cacheRules, (r) => r.name, "name", "cache rule name");
    unique("budgets", file.budgets, budgetKey, "period", "budget (same scope, team, key, end user and period)");
    unique("users", file.users, (u) => u.email.toLowerCase(), "email", "user email");
  });

export type ConfigFile = z.output<typeof configFileSchema>;
export type ProviderSpec = ConfigFile["providers"][number];

/** One problem in a config file: where (`providers[1].kind`) and why. */
export interface ConfigIssue {
  path: string;
  message: string;
}

export type ConfigParseResult = { ok: true; config: ConfigFile } | { ok: false; issues: ConfigIssue[] };

/** ["providers", 1, "kind"] → "providers[1].kind"; the empty path is the file itself. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out === "" ? "(file)" : out;
}

/** "path: reason" lines, one per issue. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((issue) => `${issue.path}: ${issue.message}`).join("\n");
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
  record: "a mapping",
};

/**
 * Messages that read well next to a path. Never echoes the offending value: a misplaced secret must not be
 * printed back to a terminal or a start-up log.
 */
const errorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined ? "required" : `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case "invalid_value":
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map(String).join(", ")}`;
    case "too_small":
      if (issue.origin === "string") return Number(issue.minimum) <= 1 ? "must not be empty" : `must have at least ${issue.minimum} characters`;
      if (issue.origin === "array") return `must have at least ${issue.minimum} item(s)`;
      return `must be ${issue.inclusive ? "at least" : "greater than"} ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "string") return `must have at most ${issue.maximum} characters`;
      if (issue.origin === "array") return `must have at most ${issue.maximum} item(s)`;
      return `must be ${issue.inclusive ? "at most" : "less than"} ${issue.maximum}`;
    default:
      return undefined;
  }
};

/** Secret-looking fields people put in a file by mistake get a pointer to the right field. */
const SECRET_HINTS: Record<string, string> = {
  apiKey: "keys never live in the file; name an environment variable with apiKeyEnv",
  key: "keys never live in the file; name an environment variable with apiKeyEnv",
  password: "passwords never live in the file; name an environment variable with passwordEnv",
};

/** Validates a parsed YAML/JSON document (an empty document is an empty configuration). */
export function parseConfigFile(input: unknown): ConfigParseResult {
  const result = configFileSchema.safeParse(input ?? {}, { error: errorMap });
  if (result.success) return { ok: true, config: result.data };
  const issues: ConfigIssue[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const hint = issue.path.length > 0 ? SECRET_HINTS[key] : undefined;
        issues.push({ path: formatIssuePath([...issue.path, key]), message: hint ? `unknown field (${hint})` : "unknown field" });
      }
    } else {
      issues.push({ path: formatIssuePath(issue.path), message: issue.message });
    }
  }
  return { ok: false, issues };
}
