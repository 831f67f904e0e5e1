/**
 * Requests-per-minute and tokens-per-minute limits: the key's own (ApiKey.rpmLimit / tpmLimit) and the
 * organization's RateLimit rules (per team, per model, per model within a team). Every limit that applies is one
 * sliding one-minute window on the shared StateStore, checked and counted in one atomic step, so instances sharing
 * Redis together admit no more than the limit.
 *
 * Tokens: a call counts its prompt (o200k estimate) plus its output cap (when it sets one) at admission; when it
 * settles the difference to its actual usage is added (or given back), so the window holds real usage.
 */
import type { AuthContext } from "../gateway/auth";
import type { Plan } from "../gateway/resolve";
import type { LedgerConfig, RateRule } from "./budgets";

export const RATE_WINDOW_MS = 60_000;

export interface AppliedLimit {
  kind: "requests" | "tokens";
  /** Who the limit belongs to, for messages: "API key k1", "team t1", "model gpt-4o", "team t1 on model gpt-4o". */
  owner: string;
  key: string;
  limit: number;
  amount: number;
}

/** Whether a rule's model names this call: the requested name (policy or model) or the first target's model. */
function ruleMatches(rule: RateRule, key: AuthContext, plan: Plan): boolean {
  if (rule.teamId !== null && rule.teamId !== key.teamId) return false;
  if (rule.model === null) return true;
  const first = plan.targets[0];
  return rule.model === plan.requested || (first !== undefined && (rule.model === first.modelId || rule.model === `${first.provider.name}/${first.modelId}`));
}

function ruleOwner(rule: RateRule): string {
  if (rule.teamId && rule.model) return `team ${rule.teamId} on model ${rule.model}`;
  if (rule.teamId) return `team ${rule.teamId}`;
  if (rule.model) return `model ${rule.model}`;
  return "the organization";
}

/** The limits a call is subject to; `tokens` is what it counts against token limits at admission. */
export function applyRateLimits(config: LedgerConfig, key: AuthContext, plan: Plan, tokens: () => number): AppliedLimit[] {
  const out: AppliedLimit[] = [];
  let counted: number | null = null;
  const amount = () => (counted ??= tokens());
  const add = (owner: string, base: string, rpm: number | null, tpm: number | null) => {
    if (rpm !== null && rpm >= 0) out.push({ kind: "requests", owner, key: `${base}:r`, limit: rpm, amount: 1 });
    if (tpm !== null && tpm >= 0) out.push({ kind: "tokens", owner, key: `${base}:t`, limit: tpm, amount: amount() });
  };
  add(`API key ${key.apiKeyId}`, `rl:key:${key.apiKeyId}`, key.rpmLimit, key.tpmLimit);
  for (const rule of config.rateRules.get(key.orgId) ?? []) {
    if (ruleMatches(rule, key, plan)) add(ruleOwner(rule), `rl:rule:${rule.id}`, rule.rpm, rule.tpm);
  }
  return out;
}

/** Durations as OpenAI writes them in x-ratelimit-reset-*: "20ms", "1s", "6m0s", "1m30.5s". */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total < 1_000) return `${total}ms`;
  const minutes = Math.floor(total / 60_000);
  const seconds = Number(((total % 60_000) / 1_000).toFixed(3));
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

/**
 * x-ratelimit-{limit,remaining,reset}-{requests,tokens}: for each kind, the window with the least room left
 * (the one that will refuse first).
 */
export function rateLimitHeaders(limits: AppliedLimit[], windows: Array<{ count: number; resetMs: number }>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const kind of ["requests", "tokens"] as const) {
    let best: { limit: number; remaining: number; resetMs: number } | null = null;
    limits.forEach((l, i) => {
      if (l.kind !== kind) return;
      const w = windows[i]!;
      const remaining = Math.max(0, Math.floor(l.limit - w.count + 1e-9));
      if (!best || remaining < best.remaining) best = { limit: l.limit, remaining, resetMs: w.resetMs };
    });
    if (best === null) continue;
    const { limit, remaining, resetMs } = best;
    headers[`x-ratelimit-limit-${kind}`] = String(limit);
    headers[`x-ratelimit-remaining-${kind}`] = String(remaining);
    headers[`x-ratelimit-reset-${kind}`] = formatResetDuration(resetMs);
  }
  return headers;
}
