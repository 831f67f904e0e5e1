/**
 * Cache rules: which calls the response cache may answer and store, and how. Rules live in the database
 * (CacheRule, edited through tRPC) and are held in memory, reloaded whenever the config version changes.
 *
 * Matching: a rule applies to a call when it is enabled, belongs to the call's organization, its team (if set) is
 * the key's team, its policy (if set) is the policy the call resolved to, and it lists the call's endpoint. The most
 * specific rule wins — team and policy (3) > policy (2) > team (1) > organization-wide (0) — and among equals the
 * oldest. A matching rule with `exact` and `semantic` both off turns caching off for what it matches.
 *
 * No rule: the built-in default caches exactly (never semantically) requests that ask for `temperature: 0`, on
 * every endpoint, for an hour, per team. Those are the requests whose answer the client expects to be the same
 * every time, so an identical answer from the cache is what it would have got anyway; requests with sampling on
 * (temperature unset means the provider's default, usually 1) are left alone until an admin writes a rule — the
 * same "off unless configured" stance LiteLLM and Portkey take, minus the part that is risk-free.
 */
import type { Db } from "../db/client";
import type { ChatRequest } from "../providers/types";

export interface CacheRuleConfig {
  /** null for the built-in default. */
  id: string | null;
  orgId: string;
  teamId: string | null;
  policyId: string | null;
  name: string;
  exact: boolean;
  semantic: boolean;
  ttlSeconds: number;
  /** Cosine similarity a semantic match must reach before verification. */
  threshold: number;
  maxEntryBytes: number;
  endpoints: string[];
  scope: "team" | "key";
  allowNonZeroTemperature: boolean;
  /** Only requests that set `temperature: 0` explicitly (the built-in default). */
  requireZeroTemperature: boolean;
  shadow: boolean;
  namespace: number;
  /** "local" or "<provider>/<model>". */
  embedder: string;
  createdAt: number;
}

export const DEFAULT_TTL_SECONDS = 3600;
export const DEFAULT_THRESHOLD = 0.92;
export const DEFAULT_MAX_ENTRY_BYTES = 262_144;

/** The built-in rule used when no stored rule matches (see the module comment). */
export function defaultRule(orgId: string): CacheRuleConfig {
  return {
    id: null,
    orgId,
    teamId: null,
    policyId: null,
    name: "default",
    exact: true,
    semantic: false,
    ttlSeconds: DEFAULT_TTL_SECONDS,
    threshold: DEFAULT_THRESHOLD,
    maxEntryBytes: DEFAULT_MAX_ENTRY_BYTES,
    endpoints: ["chat.completions", "messages", "responses"],
    scope: "team",
    allowNonZeroTemperature: false,
    requireZeroTemperature: true,
    shadow: false,
    namespace: 0,
    embedder: "local",
    createdAt: 0,
  };
}

type RuleRow = Awaited<ReturnType<Db["cacheRule"]["findMany"]>>[number];

export function ruleFromRow(row: RuleRow): CacheRuleConfig {
  return {
    id: row.id,
    orgId: row.orgId,
    teamId: row.teamId,
    policyId: row.policyId,
    name: row.name,
    exact: row.exact,
    semantic: row.semantic,
    ttlSeconds: row.ttlSeconds,
    threshold: row.threshold,
    maxEntryBytes: row.maxEntryBytes,
    endpoints: row.endpoints,
    scope: row.scope === "key" ? "key" : "team",
    allowNonZeroTemperature: row.allowNonZeroTemperature,
    requireZeroTemperature: false,
    shadow: row.shadow,
    namespace: row.namespace,
    embedder: row.embedder,
    createdAt: row.createdAt.getTime(),
  };
}

/** Every enabled rule, grouped by organization. */
export async function loadRules(db: Db): Promise<Map<string, CacheRuleConfig[]>> {
  const rows = await db.cacheRule.findMany({ where: { enabled: true }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  const byOrg = new Map<string, CacheRuleConfig[]>();
  for (const row of rows) {
    const list = byOrg.get(row.orgId) ?? [];
    list.push(ruleFromRow(row));
    byOrg.set(row.orgId, list);
  }
  return byOrg;
}

export interface RuleQuery {
  orgId: string;
  teamId: string;
  policyId: string | null;
  endpoint: string;
}

/** The most specific enabled rule for a call (see the module comment), or the built-in default. */
export function matchRule(rules: readonly CacheRuleConfig[], q: RuleQuery): CacheRuleConfig {
  let best: CacheRuleConfig | null = null;
  let bestScore = -1;
  for (const rule of rules) {
    if (rule.orgId !== q.orgId) continue;
    if (rule.teamId !== null && rule.teamId !== q.teamId) continue;
    if (rule.policyId !== null && rule.policyId !== q.policyId) continue;
    if (!rule.endpoints.includes(q.endpoint)) continue;
    const score = (rule.policyId !== null ? 2 : 0) + (rule.teamId !== null ? 1 : 0);
    if (score > bestScore || (score === bestScore && best !== null && rule.createdAt < best.createdAt)) {
      best = rule;
      bestScore = score;
    }
  }
  if (best) return best;
  const fallback = defaultRule(q.orgId);
  return fallback.endpoints.includes(q.endpoint) ? fallback : { ...fallback, exact: false };
}

/** Why a request is not cacheable under a rule, or null when it is. */
export function notCacheableReason(rule: CacheRuleConfig, req: ChatRequest): string | null {
  if (!rule.exact && !rule.semantic) return "rule_disabled";
  const temperature = req.temperature ?? null;
  if (rule.requireZeroTemperature) return temperature === 0 ? null : "temperature_not_zero";
  if (temperature !== null && temperature > 0 && !rule.allowNonZeroTemperature) return "temperature_not_zero";
  return null;
}
