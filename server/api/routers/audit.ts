/** The audit log (admin only): newest first, keyset-paged, filterable by entity, actor and entity id. */
import { auditListInput } from "@/lib/contracts/audit";
import { adminProcedure, router } from "../trpc";

export const auditRouter = router({
  list: adminProcedure.input(auditListInput).query(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const where = {
      orgId: ctx.user.orgId,
      ...(input.entity ? { entity: input.entity } : {}),
      ...(input.actorId ? { actorId: input.actorId } : {}),
      ...(input.entityId ? { entityId: input.entityId } : {}),
    };
    const rows = await db.auditLog.findMany({
      where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: input.limit + 1,
      ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
    });
    const page = rows.slice(0, input.limit);
    const actorIds = [...new Set(page.flatMap((r) => (r.actorId ? [r.actorId] : [])))];
    const actors = new Map(
      (await db.user.findMany({ where: { id: { in: actorIds }, orgId: ctx.user.orgId }, select: { id: true, email: true } })).map((u) => [u.id, u.email]),
    );
    return {
      items: page.map((r) => ({
        id: r.id,
        createdAt: r.createdAt,
        action: r.action,
        entity: r.entity,
        entityId: r.entityId,
        actorId: r.actorId,
        actor: r.actorId ? (actors.get(r.actorId) ?? "deleted user") : "system",
        before: r.before,
        after: r.after,
      })),
      nextCursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null,
    };
  }),

  /** Entity names present in the log, for the filter menu. */
  entities: adminProcedure.query(async ({ ctx }) => {
    const rows = await ctx.rt.db.prisma.auditLog.findMany({ where: { orgId: ctx.user.orgId }, distinct: ["entity"], select: { entity: true }, orderBy: { entity: "asc" } });
    return rows.map((r) => r.entity);
  }),
});
