/**
 * Dashboard numbers from the rollups (RollupHourly / RollupDaily, written in the same transaction as the call log
 * by server/ledger/rollups.ts, so they cover every logged call and outlive raw-row retention). Latency percentiles
 * need individual calls and come from the Call table (within retention). All money leaves as exact decimal strings.
 * Scoping: teamScope on every table (RollupDaily's "" team matches no developer's team).
 */
import { TRPCError } from "@trpc/server";
import { breakdownInput, monthsInput, rangeInput, reportInput, type Breakdown } from "@/lib/contracts/analytics";
import { toCsv } from "@/lib/analytics/csv";
import { fillSeries, forecastMonthEnd, monthBounds, monthKey, percentile, rangeWindow, ratio, type SeriesRow } from "@/lib/analytics/series";
import type { SessionUser } from "../../auth/users";
import { decimalToString, normalizeDecimal, parseDecimal } from "../../catalog";
import { Prisma } from "../../db/generated/client";
import type { Db } from "../../db/client";
import { assertTeamAccess, teamScope } from "../access";
import { financeProcedure, memberProcedure, router } from "../trpc";

const MONEY = ["costUsd", "baselineCostUsd", "savingsRoutingUsd", "savingsCacheUsd", "savingsPromptCacheUsd", "savingsBatchUsd", "savingsCapsUsd", "savingsCompressionUsd"] as const;
type MoneyField = (typeof MONEY)[number];
const SUM = {
  calls: true, errors: true, cacheHits: true, inputTokens: true, outputTokens: true, cachedInputTokens: true, latencyMsSum: true,
  ...Object.fromEntries(MONEY.map((m) => [m, true])),
} as { calls: true; errors: true; cacheHits: true; inputTokens: true; outputTokens: true; cachedInputTokens: true; latencyMsSum: true } & Record<MoneyField, true>;

type Sums = {
  calls?: number | null; errors?: number | null; cacheHits?: number | null;
  inputTokens?: bigint | null; outputTokens?: bigint | null; cachedInputTokens?: bigint | null; latencyMsSum?: bigint | null;
} & Partial<Record<MoneyField, Prisma.Decimal | null>>;

/** Aggregated measures with money as decimal strings and token counts as numbers. */
function totals(sum: Sums) {
  const money = (f: MoneyField) => normalizeDecimal(sum[f] ?? "0");
  return {
    calls: sum.calls ?? 0,
    errors: sum.errors ?? 0,
    cacheHits: sum.cacheHits ?? 0,
    inputTokens: Number(sum.inputTokens ?? 0n),
    outputTokens: Number(sum.outputTokens ?? 0n),
    cachedInputTokens: Number(sum.cachedInputTokens ?? 0n),
    costUsd: money("costUsd"),
    baselineCostUsd: money("baselineCostUsd"),
    savings: {
      routing: money("savingsRoutingUsd"),
      cache: money("savingsCacheUsd"),
      promptCache: money("savingsPromptCacheUsd"),
      batch: money("savingsBatchUsd"),
      caps: money("savingsCapsUsd"),
      compression: money("savingsCompressionUsd"),
    },
    savingsTotalUsd: decimalToString(MONEY.slice(2).reduce((acc, f) => acc + parseDecimal(sum[f] ?? "0"), 0n)),
  };
}

/** Org scope, the developer's team, or a team named in the input (checked). */
function scope(user: SessionUser, teamId: string | undefined) {
  if (teamId) assertTeamAccess(user, teamId);
  return { ...teamScope(user), ...(teamId ? { teamId } : {}) };
}

async function sumDaily(db: Db, where: Prisma.RollupDailyWhereInput) {
  return totals((await db.rollupDaily.aggregate({ where, _sum: SUM }))._sum);
}

/** Latency percentiles over individual calls (Call rows; within retention). */
async function latencyPercentiles(db: Db, where: { orgId: string; teamId?: string }, from: Date, to: Date) {
  const rows = await db.call.findMany({
    where: { ...where, createdAt: { gte: from, lt: to }, latencyMs: { not: null } },
    select: { latencyMs: true },
    orderBy: { createdAt: "desc" },
    // Bounded: percentiles of the most recent 50k calls are the same numbers to the eye.
    take: 50_000,
  });
  const values = rows.map((r) => r.latencyMs!);
  return { p50: percentile(values, 50), p95: percentile(values, 95) };
}

const DIMENSION_COLUMN: Record<Breakdown, "teamId" | "apiKeyId" | "policy" | "providerKind" | "model"> = {
  team: "teamId",
  apiKey: "apiKeyId",
  policy: "policy",
  providerKind: "providerKind",
  model: "model",
};

async function breakdown(db: Db, user: SessionUser, month: string, by: Breakdown) {
  const { start, end } = monthBounds(month);
  const column = DIMENSION_COLUMN[by];
  const groups = await db.rollupDaily.groupBy({
    by: [column],
    where: { ...teamScope(user), day: { gte: start, lt: end } },
    _sum: SUM,
  });
  const keys = groups.map((g) => String(g[column as keyof typeof g] ?? ""));
  const labels = new Map<string, string>();
  if (by === "team") {
    for (const t of await db.team.findMany({ where: { orgId: user.orgId, id: { in: keys } }, select: { id: true, name: true } })) labels.set(t.id, t.name);
  } else if (by === "apiKey") {
    for (const k of await db.apiKey.findMany({ where: { orgId: user.orgId, id: { in: keys } }, select: { id: true, name: true, prefix: true } })) labels.set(k.id, `${k.name} (${k.prefix}…)`);
  }
  return groups
    .map((g, i) => ({ key: keys[i]!, label: labels.get(keys[i]!) ?? (keys[i] || "(none)"), ...totals(g._sum as Sums) }))
    .sort((a, b) => (parseDecimal(b.costUsd) > parseDecimal(a.costUsd) ? 1 : parseDecimal(b.costUsd) < parseDecimal(a.costUsd) ? -1 : a.label.localeCompare(b.label)));
}

export const analyticsRouter = router({
  /** The Overview cards: spend today / month to date / forecast, savings by lever, and traffic over `range`. */
  overview: memberProcedure.input(rangeInput).query(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const where = scope(ctx.user, input.teamId);
    const now = Date.now();
    const { start: monthStart } = monthBounds(now);
    const dayStart = new Date(Math.floor(now / 86_400_000) * 86_400_000);
    const window = rangeWindow(input.range, now);
    const [today, month, traffic, latency] = await Promise.all([
      sumDaily(db, { ...where, day: { gte: dayStart } }),
      sumDaily(db, { ...where, day: { gte: monthStart } }),
      window.bucket === "hour"
        ? db.rollupHourly.aggregate({ where: { ...where, hour: { gte: window.from, lt: window.to } }, _sum: SUM }).then((r) => totals(r._sum))
        : sumDaily(db, { ...where, day: { gte: window.from, lt: window.to } }),
      latencyPercentiles(db, where, window.from, window.to),
    ]);
    return {
      todayUsd: today.costUsd,
      monthToDateUsd: month.costUsd,
      forecastMonthEndUsd: forecastMonthEnd(month.costUsd, now),
      monthSavings: month.savings,
      monthSavingsTotalUsd: month.savingsTotalUsd,
      range: {
        requests: traffic.calls,
        cacheHitRate: ratio(traffic.cacheHits, traffic.calls),
        errorRate: ratio(traffic.errors, traffic.calls),
        p50LatencyMs: latency.p50,
        p95LatencyMs: latency.p95,
        costUsd: traffic.costUsd,
        savingsTotalUsd: traffic.savingsTotalUsd,
        savings: traffic.savings,
        baselineCostUsd: traffic.baselineCostUsd,
      },
    };
  }),

  /** A dense time series over `range`: hourly buckets up to 7 days, daily beyond. */
  series: memberProcedure.input(rangeInput).query(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const where = scope(ctx.user, input.teamId);
    const window = rangeWindow(input.range, Date.now());
    const select = { calls: true, errors: true, cacheHits: true, ...Object.fromEntries(MONEY.map((m) => [m, true])) } as const;
    const raw =
      window.bucket === "hour"
        ? (await db.rollupHourly.findMany({ where: { ...where, hour: { gte: window.from, lt: window.to } }, select: { hour: true, ...select } })).map(({ hour, ...r }) => ({ time: hour, ...r }))
        : (await db.rollupDaily.findMany({ where: { ...where, day: { gte: window.from, lt: window.to } }, select: { day: true, ...select } })).map(({ day, ...r }) => ({ time: day, ...r }));
    const rows: SeriesRow[] = raw.map((r) => {
      const rec = r as unknown as Record<MoneyField, Prisma.Decimal> & { time: Date; calls: number; errors: number; cacheHits: number };
      return { time: rec.time, calls: rec.calls, errors: rec.errors, cacheHits: rec.cacheHits, ...Object.fromEntries(MONEY.map((m) => [m, normalizeDecimal(rec[m])])) } as SeriesRow;
    });
    return { bucket: window.bucket, from: window.from, to: window.to, points: fillSeries(rows, window) };
  }),

  /** Spend month by month (UTC months, newest first), including months without traffic. */
  months: financeProcedure.input(monthsInput).query(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const now = new Date();
    const months = Array.from({ length: input.months }, (_, i) => monthKey(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1))));
    return Promise.all(
      months.map(async (month) => {
        const { start, end } = monthBounds(month);
        return { month, ...(await sumDaily(db, { ...teamScope(ctx.user), day: { gte: start, lt: end } })) };
      }),
    );
  }),

  /** One month's spend grouped by team, key, policy, provider kind or model; most expensive first. */
  breakdown: financeProcedure.input(breakdownInput).query(({ ctx, input }) => breakdown(ctx.rt.db.prisma, ctx.user, input.month, input.by)),

  /** The month-end report: the month against the previous one, and every breakdown. */
  report: financeProcedure.input(reportInput).query(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const { start, end } = monthBounds(input.month);
    const previous = monthKey(new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() - 1, 1)));
    const prev = monthBounds(previous);
    const [current, before, teams, providers, models] = await Promise.all([
      sumDaily(db, { ...teamScope(ctx.user), day: { gte: start, lt: end } }),
      sumDaily(db, { ...teamScope(ctx.user), day: { gte: prev.start, lt: prev.end } }),
      breakdown(db, ctx.user, input.month, "team"),
      breakdown(db, ctx.user, input.month, "providerKind"),
      breakdown(db, ctx.user, input.month, "model"),
    ]);
    return { month: input.month, previousMonth: previous, current, previous: before, teams, providers, models };
  }),

  /**
   * CSV of one month: one line per (team, key, policy, provider, model) with calls, tokens, cost, baseline and
   * savings by lever, money exact to the stored 10 decimals. A query: exporting changes nothing.
   */
  exportCsv: financeProcedure.input(reportInput).query(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const { start, end } = monthBounds(input.month);
    const groups = await db.rollupDaily.groupBy({
      by: ["teamId", "apiKeyId", "policy", "providerKind", "model"],
      where: { ...teamScope(ctx.user), day: { gte: start, lt: end } },
      _sum: SUM,
      orderBy: [{ teamId: "asc" }, { apiKeyId: "asc" }, { policy: "asc" }, { providerKind: "asc" }, { model: "asc" }],
    });
    if (groups.length > 100_000) throw new TRPCError({ code: "PAYLOAD_TOO_LARGE", message: "Too many rows for one export" });
    const [teams, keys] = await Promise.all([
      db.team.findMany({ where: { orgId: ctx.user.orgId }, select: { id: true, name: true } }),
      db.apiKey.findMany({ where: { orgId: ctx.user.orgId }, select: { id: true, prefix: true } }),
    ]);
    const teamName = new Map(teams.map((t) => [t.id, t.name]));
    const keyPrefix = new Map(keys.map((k) => [k.id, k.prefix]));
    const rows = groups.map((g) => {
      const t = totals(g._sum as Sums);
      return [
        input.month, teamName.get(g.teamId) ?? g.teamId, keyPrefix.get(g.apiKeyId) ?? g.apiKeyId, g.policy, g.providerKind, g.model,
        t.calls, t.errors, t.inputTokens, t.cachedInputTokens, t.outputTokens,
        t.costUsd, t.baselineCostUsd, t.savings.routing, t.savings.cache, t.savings.promptCache, t.savings.batch, t.savings.caps, t.savings.compression,
      ];
    });
    const header = [
      "month", "team", "api_key", "policy", "provider", "model", "calls", "errors", "input_tokens", "cached_input_tokens", "output_tokens",
      "cost_usd", "baseline_cost_usd", "savings_routing_usd", "savings_cache_usd", "savings_prompt_cache_usd", "savings_batch_usd", "savings_caps_usd", "savings_compression_usd",
    ];
    return { filename: `switchyard-spend-${input.month}.csv`, csv: toCsv(header, rows) };
  }),
});
