/**
 * Budgets and rate-limit rules as the data plane sees them: loaded from the database into memory, reloaded when
 * the config version changes (every control-plane write bumps it), matched to a call without any query.
 * Also where a period's spend comes from when its counter is missing (a restart, a new period): the call log,
 * plus the hourly rollups for the part of the window that raw-row retention already deleted.
 */
import { createHash } from "node:crypto";
import type { Db } from "../db/client";
import { parseDecimal } from "../catalog/money";
import type { Logger } from "../obs/log";
import { RETENTION_WATERMARK_KEY } from "./rollups";
import { isValidTimeZone, periodWindow, type BudgetPeriod, type PeriodWindow } from "./periods";

export type BudgetScope = "organization" | "team" | "api_key" | "end_user";

export interface BudgetRule {
  id: string;
  orgId: string;
  scope: BudgetScope;
  teamId: string | null;
  apiKeyId: string | null;
  /** For end_user budgets: the tag it caps, or null for "every end user, each on their own counter". */
  endUser: string | null;
  period: BudgetPeriod;
  /** 10^-10 USD */
  limit: bigint;
  hard: boolean;
  /** Percentages of the limit, ascending. */
  thresholds: number[];
  timezone: string;
  webhookUrl: string | null;
  createdAt: Date;
}

export interface RateRule {
  id: string;
  orgId: string;
  teamId: string | null;
  model: string | null;
  rpm: number | null;
  tpm: number | null;
}

export interface LedgerConfig {
  budgets: Map<string, BudgetRule[]>;
  rateRules: Map<string, RateRule[]>;
}

/** The subject of the call a budget applies to. */
export interface CallSubject {
  orgId: string;
  teamId: string;
  apiKeyId: string;
  endUser: string | null;
}

/** One budget as applied to one call: the rule, the counter, the window. */
export interface AppliedBudget {
  rule: BudgetRule;
  /** The end-user tag of a per-end-user budget; "" otherwise. */
  subject: string;
  window: PeriodWindow;
  key: string;
  /** Counter expiry: its window's end plus a day (late settlements still land), none for lifetime budgets. */
  ttlMs: number | undefined;
}

const COUNTER_GRACE_MS = 86_400_000;

export async function loadLedgerConfig(db: Db, log: Logger): Promise<LedgerConfig> {
  const [budgets, rules] = await Promise.all([
    db.budget.findMany({ where: { enabled: true }, orderBy: { createdAt: "asc" } }),
    db.rateLimit.findMany({ where: { enabled: true }, orderBy: { createdAt: "asc" } }),
  ]);
  const config: LedgerConfig = { budgets: new Map(), rateRules: new Map() };
  for (const b of budgets) {
    const limit = parseDecimal(b.limitUsd.toFixed());
    if (limit < 0n) {
      log.error({ budget: b.id }, "budget with a negative limit skipped");
      continue;
    }
    const timezone = isValidTimeZone(b.timezone) ? b.timezone : "UTC";
    if (timezone !== b.timezone) log.error({ budget: b.id, timezone: b.timezone }, "budget time zone unknown; using UTC");
    push(config.budgets, b.orgId, {
      id: b.id,
      orgId: b.orgId,
      scope: b.scope,
      teamId: b.teamId,
      apiKeyId: b.apiKeyId,
      endUser: b.endUser,
      period: b.period,
      limit,
      hard: b.hard,
      thresholds: [...new Set(b.alertThresholds.filter((t) => t > 0))].sort((x, y) => x - y),
      timezone,
      webhookUrl: b.webhookUrl,
      createdAt: b.createdAt,
    });
  }
  for (const r of rules) {
    push(config.rateRules, r.orgId, { id: r.id, orgId: r.orgId, teamId: r.teamId, model: r.model, rpm: r.rpmLimit, tpm: r.tpmLimit });
  }
  return config;
}

function push<T>(map: Map<string, T[]>, key: string, value: T) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Whether a budget caps this call. */
export function budgetApplies(rule: BudgetRule, call: CallSubject): boolean {
  if (rule.orgId !== call.orgId) return false;
  switch (rule.scope) {
    case "organization":
      return true;
    case "team":
      return rule.teamId === call.teamId;
    case "api_key":
      return rule.apiKeyId === call.apiKeyId;
    case "end_user":
      // An end-user budget may be narrowed to one team or key; calls without a user tag are not end-user calls.
      return (
        call.endUser !== null &&
        (rule.endUser === null || rule.endUser === call.endUser) &&
        (rule.teamId === null || rule.teamId === call.teamId) &&
        (rule.apiKeyId === null || rule.apiKeyId === call.apiKeyId)
      );
  }
}

/**
 * The budgets that cap a call, each with its counter for the period containing `now`. `windows` memoizes each
 * rule's current window (computing one takes a few time-zone conversions) until the window ends.
 */
export function applyBudgets(config: LedgerConfig, call: CallSubject, now: number, windows?: WeakMap<BudgetRule, PeriodWindow>): AppliedBudget[] {
  const out: AppliedBudget[] = [];
  for (const rule of config.budgets.get(call.orgId) ?? []) {
    if (!budgetApplies(rule, call)) continue;
    const subject = rule.scope === "end_user" && rule.endUser === null ? call.endUser! : "";
    let window = windows?.get(rule);
    if (!window || now < window.start.getTime() || (window.end !== null && now >= window.end.getTime())) {
      window = periodWindow(rule.period, rule.timezone, now, rule.createdAt);
      windows?.set(rule, window);
    }
    const tag = subject ? createHash("sha256").update(subject).digest("hex").slice(0, 24) : "-";
    out.push({
      rule,
      subject,
      window,
      key: `budget:${rule.id}:${tag}:${window.start.getTime()}`,
      ttlMs: window.end ? window.end.getTime() - now + COUNTER_GRACE_MS : undefined,
    });
  }
  return out;
}

/**
 * What the budget's subject spent in its window, from the database: raw rows from the retention watermark on,
 * hourly rollups before it (whole UTC hours, so a window that starts mid-hour counts that hour from its start —
 * an over-count, the safe side). End-user spend exists only in raw rows.
 */
export async function spendInWindow(db: Db, applied: AppliedBudget): Promise<bigint> {
  const { rule, window } = applied;
  const start = window.start;
  const end = window.end ?? undefined;
  const watermarkRow = await db.setting.findUnique({ where: { key: RETENTION_WATERMARK_KEY } });
  const watermark = typeof watermarkRow?.value === "string" ? new Date(watermarkRow.value) : null;
  const scope = scopeWhere(applied);
  let total = 0n;
  let rawFrom = start;
  if (watermark && watermark > start && rule.scope !== "end_user") {
    const hourStart = new Date(Math.floor(start.getTime() / 3_600_000) * 3_600_000);
    const rolled = await db.rollupHourly.aggregate({
      _sum: { costUsd: true },
      where: { ...scope, hour: { gte: hourStart, lt: end && end < watermark ? end : watermark } },
    });
    total += parseDecimal(rolled._sum.costUsd?.toFixed() ?? "0");
    rawFrom = watermark;
  }
  if (!end || rawFrom < end) {
    const raw = await db.call.aggregate({
      _sum: { costUsd: true },
      where: { ...scope, createdAt: { gte: rawFrom, ...(end ? { lt: end } : {}) } },
    });
    total += parseDecimal(raw._sum.costUsd?.toFixed() ?? "0");
  }
  return total;
}

function scopeWhere({ rule, subject }: AppliedBudget) {
  switch (rule.scope) {
    case "organization":
      return { orgId: rule.orgId };
    case "team":
      return { orgId: rule.orgId, teamId: rule.teamId ?? "" };
    case "api_key":
      return { orgId: rule.orgId, apiKeyId: rule.apiKeyId ?? "" };
    case "end_user":
      return {
        orgId: rule.orgId,
        endUser: subject || rule.endUser || "",
        ...(rule.teamId ? { teamId: rule.teamId } : {}),
        ...(rule.apiKeyId ? { apiKeyId: rule.apiKeyId } : {}),
      };
  }
}

/** Which budget, in words: "the monthly hard budget of team t1 (budget b1)". */
export function describeBudget(applied: AppliedBudget): string {
  const { rule, subject } = applied;
  const who =
    rule.scope === "organization"
      ? "the organization"
      : rule.scope === "team"
        ? `team ${rule.teamId}`
        : rule.scope === "api_key"
          ? `API key ${rule.apiKeyId}`
          : `end user '${subject || rule.endUser}'`;
  return `the ${rule.period} budget of ${who} (budget ${rule.id})`;
}
