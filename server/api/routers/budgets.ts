/**
 * Budgets and their alerts. Finance owns budgets (finance and admins create, edit, delete); every member reads
 * them, developers only the organization-wide ones and their own team's (and its keys'). Each listed budget comes
 * with its current period's spend, computed the way the ledger does (server/ledger/budgets.ts spendInWindow).
 */
import { TRPCError } from "@trpc/server";
import { budgetCreateInput, budgetUpdateInput } from "@/lib/contracts/budgets";
import { byId } from "@/lib/contracts/common";
import { z } from "zod";
import type { SessionUser } from "../../auth/users";
import { normalizeDecimal, parseDecimal, decimalToString } from "../../catalog";
import type { Budget, Prisma } from "../../db/generated/client";
import type { Db } from "../../db/client";
import { spendInWindow, type BudgetRule } from "../../ledger/budgets";
import { isValidTimeZone, periodWindow } from "../../ledger/periods";
import { seesAllTeams, found, requireTeam } from "../access";
import { recordAudit } from "../audit";
import { financeProcedure, memberProcedure, router } from "../trpc";

/** Budgets a user may see: all of the org for admin/finance; org-wide, own team and own team's keys for developers. */
async function budgetScope(db: Db, user: SessionUser): Promise<Prisma.BudgetWhereInput> {
  if (seesAllTeams(user)) return { orgId: user.orgId };
  const keys = user.teamId ? await db.apiKey.findMany({ where: { orgId: user.orgId, teamId: user.teamId }, select: { id: true } }) : [];
  return {
    orgId: user.orgId,
    OR: [
      { scope: "organization" },
      ...(user.teamId ? [{ teamId: user.teamId }] : []),
      ...(keys.length ? [{ apiKeyId: { in: keys.map((k) => k.id) } }] : []),
    ],
  };
}

function snapshot(b: Budget) {
  return {
    scope: b.scope, teamId: b.teamId, apiKeyId: b.apiKeyId, endUser: b.endUser, period: b.period, limitUsd: normalizeDecimal(b.limitUsd),
    hard: b.hard, alertThresholds: b.alertThresholds, timezone: b.timezone, webhookUrl: b.webhookUrl ? "(set)" : null, enabled: b.enabled,
  };
}

async function currentSpend(db: Db, b: Budget, now: number) {
  const rule: BudgetRule = {
    id: b.id, orgId: b.orgId, scope: b.scope, teamId: b.teamId, apiKeyId: b.apiKeyId, endUser: b.endUser, period: b.period,
    limit: parseDecimal(b.limitUsd.toFixed()), hard: b.hard, thresholds: b.alertThresholds, timezone: isValidTimeZone(b.timezone) ? b.timezone : "UTC",
    webhookUrl: b.webhookUrl, createdAt: b.createdAt,
  };
  const window = periodWindow(rule.period, rule.timezone, now, rule.createdAt);
  // A per-end-user budget without a tag has one counter per end user: there is no single "spend" to show.
  if (b.scope === "end_user" && !b.endUser) return { window, spentUsd: null, percent: null };
  const spent = await spendInWindow(db, { rule, subject: b.endUser ?? "", window, key: "", ttlMs: undefined });
  return { window, spentUsd: decimalToString(spent), percent: rule.limit > 0n ? Number((spent * 10_000n) / rule.limit) / 100 : null };
}

/** Checks the subject of a budget against the caller's org; returns the data to write. */
async function validated(db: Db, user: SessionUser, input: z.output<typeof budgetCreateInput>) {
  if (!isValidTimeZone(input.timezone)) throw new TRPCError({ code: "BAD_REQUEST", message: `Unknown time zone ${input.timezone}` });
  if (input.teamId) await requireTeam(db, user, input.teamId);
  if (input.apiKeyId) found(await db.apiKey.findFirst({ where: { id: input.apiKeyId, orgId: user.orgId }, select: { id: true } }), "API key");
  const thresholds = [...new Set(input.alertThresholds)].sort((a, b) => a - b);
  return {
    scope: input.scope,
    teamId: input.scope === "organization" ? null : (input.teamId ?? null),
    apiKeyId: input.scope === "api_key" || input.scope === "end_user" ? (input.apiKeyId ?? null) : null,
    endUser: input.scope === "end_user" ? (input.endUser ?? null) : null,
    period: input.period,
    limitUsd: input.limitUsd,
    hard: input.hard,
    alertThresholds: thresholds,
    timezone: input.timezone,
    webhookUrl: input.webhookUrl ?? null,
    enabled: input.enabled,
  };
}

export const budgetsRouter = router({
  list: memberProcedure.query(async ({ ctx }) => {
    const db = ctx.rt.db.prisma;
    const rows = await db.budget.findMany({
      where: await budgetScope(db, ctx.user),
      orderBy: { createdAt: "asc" },
      include: { team: { select: { name: true } } },
    });
    const keys = await db.apiKey.findMany({ where: { orgId: ctx.user.orgId, id: { in: rows.flatMap((r) => (r.apiKeyId ? [r.apiKeyId] : [])) } }, select: { id: true, name: true, prefix: true } });
    const keyById = new Map(keys.map((k) => [k.id, k]));
    const now = Date.now();
    return Promise.all(
      rows.map(async (b) => ({
        ...snapshot(b),
        webhookUrl: seesAllTeams(ctx.user) ? b.webhookUrl : null,
        id: b.id,
        createdAt: b.createdAt,
        teamName: b.team?.name ?? null,
        keyLabel: b.apiKeyId ? (keyById.get(b.apiKeyId) ? `${keyById.get(b.apiKeyId)!.name} (${keyById.get(b.apiKeyId)!.prefix}…)` : null) : null,
        ...(await currentSpend(db, b, now)),
      })),
    );
  }),

  /** Recent threshold crossings of the budgets the caller can see, newest first. */
  alerts: memberProcedure.input(z.object({ limit: z.number().int().min(1).max(200).default(50) })).query(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const rows = await db.budgetAlert.findMany({
      where: { orgId: ctx.user.orgId, budget: await budgetScope(db, ctx.user) },
      orderBy: { createdAt: "desc" },
      take: input.limit,
      select: { id: true, budgetId: true, subject: true, periodStart: true, threshold: true, limitUsd: true, spendUsd: true, webhookStatus: true, createdAt: true, budget: { select: { scope: true, period: true } } },
    });
    return rows.map((a) => ({ ...a, limitUsd: normalizeDecimal(a.limitUsd), spendUsd: normalizeDecimal(a.spendUsd) }));
  }),

  create: financeProcedure.input(budgetCreateInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const data = await validated(db, ctx.user, input);
    return db.$transaction(async (tx) => {
      const created = await tx.budget.create({ data: { orgId: ctx.user.orgId, ...data } });
      await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "budget.create", entity: "budget", entityId: created.id, after: snapshot(created) });
      return { id: created.id };
    });
  }),

  update: financeProcedure.input(budgetUpdateInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const before = found(await db.budget.findFirst({ where: { id: input.id, orgId: ctx.user.orgId } }), "budget");
    const data = await validated(db, ctx.user, input);
    return db.$transaction(async (tx) => {
      const after = await tx.budget.update({ where: { id: before.id }, data });
      await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "budget.update", entity: "budget", entityId: before.id, before: snapshot(before), after: snapshot(after) });
      return { id: after.id };
    });
  }),

  delete: financeProcedure.input(byId).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const before = found(await db.budget.findFirst({ where: { id: input.id, orgId: ctx.user.orgId } }), "budget");
    await db.$transaction(async (tx) => {
      await tx.budget.delete({ where: { id: before.id } });
      await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "budget.delete", entity: "budget", entityId: before.id, before: snapshot(before) });
    });
    return { id: before.id };
  }),
});
