/**
 * Teams: everyone reads the teams they belong to (admins and finance: all of them), admins write. A team that
 * still owns something (users, keys, policies, budgets, cache rules) cannot be deleted: deleting would revoke its
 * keys and turn its policies org-wide without anyone deciding so.
 */
import { TRPCError } from "@trpc/server";
import { byId } from "@/lib/contracts/common";
import { teamCreateInput, teamUpdateInput } from "@/lib/contracts/teams";
import { found, NO_TEAM, seesAllTeams } from "../access";
import { recordAudit } from "../audit";
import { uniqueOr } from "../prisma-errors";
import { adminProcedure, memberProcedure, router } from "../trpc";

const TEAM_SELECT = {
  id: true,
  name: true,
  slug: true,
  createdAt: true,
  _count: { select: { users: true, apiKeys: { where: { revokedAt: null } }, policies: true } },
} as const;

export const teamsRouter = router({
  list: memberProcedure.query(async ({ ctx }) => {
    const where = seesAllTeams(ctx.user) ? { orgId: ctx.user.orgId } : { orgId: ctx.user.orgId, id: ctx.user.teamId ?? NO_TEAM };
    const rows = await ctx.rt.db.prisma.team.findMany({ where, orderBy: { name: "asc" }, select: TEAM_SELECT });
    return rows.map(({ _count, ...team }) => ({ ...team, users: _count.users, activeKeys: _count.apiKeys, policies: _count.policies }));
  }),

  create: adminProcedure.input(teamCreateInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const team = await uniqueOr(`A team with the slug "${input.slug}" already exists`, () =>
      db.$transaction(async (tx) => {
        const created = await tx.team.create({ data: { orgId: ctx.user.orgId, name: input.name, slug: input.slug }, select: { id: true, name: true, slug: true } });
        await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "team.create", entity: "team", entityId: created.id, after: created });
        return created;
      }),
    );
    return team;
  }),

  update: adminProcedure.input(teamUpdateInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const row = found(await db.team.findFirst({ where: { id: input.id, orgId: ctx.user.orgId }, select: { id: true, name: true, slug: true } }), "team");
    const team = await db.$transaction(async (tx) => {
      const next = await tx.team.update({ where: { id: row.id }, data: { name: input.name }, select: { id: true, name: true, slug: true } });
      await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "team.update", entity: "team", entityId: row.id, before: row, after: next });
      return next;
    });
    return team;
  }),

  delete: adminProcedure.input(byId).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const row = found(
      await db.team.findFirst({
        where: { id: input.id, orgId: ctx.user.orgId },
        select: { id: true, name: true, slug: true, _count: { select: { users: true, apiKeys: true, policies: true, budgets: true, cacheRules: true } } },
      }),
      "team",
    );
    if (row.slug === "default") throw new TRPCError({ code: "BAD_REQUEST", message: "The default team cannot be deleted" });
    const owned = Object.entries(row._count).filter(([, n]) => n > 0).map(([what, n]) => `${n} ${what === "apiKeys" ? "API keys" : what === "cacheRules" ? "cache rules" : what}`);
    if (owned.length > 0) throw new TRPCError({ code: "CONFLICT", message: `${row.name} still has ${owned.join(", ")}: move or remove them first` });
    await db.$transaction(async (tx) => {
      await tx.team.delete({ where: { id: row.id } });
      await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "team.delete", entity: "team", entityId: row.id, before: { name: row.name, slug: row.slug } });
    });
    return { id: row.id };
  }),
});
