/**
 * Response-cache rules, cache purges and cache statistics. Admins write rules and purge; every member reads the
 * rules that concern them (org-wide and, for developers, their team's) and the hit rates of their own traffic.
 * Purges and namespace bumps go through server/cache/admin.ts, which the gateways apply within a snapshot refresh.
 */
import { cachePurgeInput, cacheRuleCreateInput, cacheRuleUpdateInput, cacheStatsInput } from "@/lib/contracts/cache-rules";
import { byId } from "@/lib/contracts/common";
import { z } from "zod";
import type { SessionUser } from "../../auth/users";
import { bumpRuleNamespace, purgeCache } from "../../cache/admin";
import type { CacheRule } from "../../db/generated/client";
import type { Db } from "../../db/client";
import { found, requireTeam, sharedOrTeamScope, teamScope } from "../access";
import { recordAudit } from "../audit";
import { adminProcedure, memberProcedure, router } from "../trpc";

type RuleInput = z.output<typeof cacheRuleCreateInput>;

function snapshot(r: CacheRule) {
  const { orgId: _org, createdAt: _c, updatedAt: _u, ...rest } = r;
  return rest;
}

/** The rule's team and policy must be in the caller's organization. */
async function checkRefs(db: Db, user: SessionUser, input: RuleInput) {
  if (input.teamId) await requireTeam(db, user, input.teamId);
  if (input.policyId) found(await db.policy.findFirst({ where: { id: input.policyId, orgId: user.orgId }, select: { id: true } }), "policy");
  return { ...input, teamId: input.teamId ?? null, policyId: input.policyId ?? null };
}

export const cacheRulesRouter = router({
  list: memberProcedure.query(({ ctx }) =>
    ctx.rt.db.prisma.cacheRule.findMany({
      where: sharedOrTeamScope(ctx.user),
      orderBy: { createdAt: "asc" },
      include: { team: { select: { name: true } }, policy: { select: { name: true } } },
    }),
  ),

  create: adminProcedure.input(cacheRuleCreateInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const data = await checkRefs(db, ctx.user, input);
    return db.$transaction(async (tx) => {
      const created = await tx.cacheRule.create({ data: { orgId: ctx.user.orgId, ...data } });
      await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "cacheRule.create", entity: "cacheRule", entityId: created.id, after: snapshot(created) });
      return created;
    });
  }),

  update: adminProcedure.input(cacheRuleUpdateInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const before = found(await db.cacheRule.findFirst({ where: { id: input.id, orgId: ctx.user.orgId } }), "cache rule");
    const { id: _id, ...rest } = input;
    const data = await checkRefs(db, ctx.user, rest);
    return db.$transaction(async (tx) => {
      const after = await tx.cacheRule.update({ where: { id: before.id }, data });
      await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "cacheRule.update", entity: "cacheRule", entityId: before.id, before: snapshot(before), after: snapshot(after) });
      return after;
    });
  }),

  delete: adminProcedure.input(byId).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const before = found(await db.cacheRule.findFirst({ where: { id: input.id, orgId: ctx.user.orgId } }), "cache rule");
    await db.$transaction(async (tx) => {
      await tx.cacheRule.delete({ where: { id: before.id } });
      await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "cacheRule.delete", entity: "cacheRule", entityId: before.id, before: snapshot(before) });
    });
    return { id: before.id };
  }),

  /** Invalidates every entry of one rule at once (cheaper than a purge); returns the new namespace generation. */
  bumpNamespace: adminProcedure.input(byId).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const rule = found(await db.cacheRule.findFirst({ where: { id: input.id, orgId: ctx.user.orgId }, select: { id: true, namespace: true } }), "cache rule");
    const namespace = await bumpRuleNamespace(db, ctx.user.orgId, rule.id);
    await recordAudit(db, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "cacheRule.invalidate", entity: "cacheRule", entityId: rule.id, before: { namespace: rule.namespace }, after: { namespace } });
    return { namespace };
  }),

  /** Drops cache entries by rule, team and/or age (every entry of the organization without a filter). */
  purge: adminProcedure.input(cachePurgeInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    if (input.teamId) await requireTeam(db, ctx.user, input.teamId);
    if (input.ruleId) found(await db.cacheRule.findFirst({ where: { id: input.ruleId, orgId: ctx.user.orgId }, select: { id: true } }), "cache rule");
    const result = await purgeCache(db, { orgId: ctx.user.orgId, ruleId: input.ruleId, teamId: input.teamId, olderThanSeconds: input.olderThanSeconds });
    await recordAudit(db, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "cache.purge", entity: "cache", entityId: input.ruleId ?? input.teamId ?? ctx.user.orgId, after: { ...input } });
    return result;
  }),

  /** Cache outcomes of the caller's traffic over the last `days` (Call rows), including shadow-mode results. */
  stats: memberProcedure.input(cacheStatsInput).query(async ({ ctx, input }) => {
    const since = new Date(Date.now() - input.days * 86_400_000);
    const groups = await ctx.rt.db.prisma.call.groupBy({
      by: ["cacheOutcome"],
      where: { ...teamScope(ctx.user), createdAt: { gte: since } },
      _count: { _all: true },
    });
    const counts: Record<string, number> = {};
    for (const g of groups) counts[g.cacheOutcome ?? "none"] = g._count._all;
    const hits = (counts["hit"] ?? 0) + (counts["semantic-hit"] ?? 0);
    const lookups = hits + (counts["miss"] ?? 0) + (counts["shadow"] ?? 0);
    return { counts, hits, lookups, hitRate: lookups > 0 ? hits / lookups : null };
  }),
});
