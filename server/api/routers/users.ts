/**
 * Dashboard users (admin only). Users are disabled, not deleted, so the audit log keeps naming them. Guard rails:
 * nobody changes their own role or disables themselves, and the last active admin stays an active admin, so an
 * organization can never lock itself out. A developer needs a team (their keys belong to it).
 */
import { TRPCError } from "@trpc/server";
import { userCreateInput, userSetPasswordInput, userUpdateInput } from "@/lib/contracts/users";
import { hashPassword } from "../../auth/password";
import { normalizeEmail } from "../../auth/users";
import type { Prisma } from "../../db/generated/client";
import type { DbClient } from "../../tenant";
import { found, requireTeam } from "../access";
import { recordAudit } from "../audit";
import { uniqueOr } from "../prisma-errors";
import { adminProcedure, router } from "../trpc";

const USER_SELECT = {
  id: true,
  email: true,
  name: true,
  role: true,
  teamId: true,
  disabledAt: true,
  createdAt: true,
  passwordHash: true,
  team: { select: { name: true } },
} as const satisfies Prisma.UserSelect;

type UserRow = Prisma.UserGetPayload<{ select: typeof USER_SELECT }>;

/** Never returns the hash: only whether a password is set. */
function present({ passwordHash, ...row }: UserRow) {
  return { ...row, hasPassword: passwordHash !== null };
}

function auditSnapshot(row: UserRow) {
  return { email: row.email, name: row.name, role: row.role, teamId: row.teamId, disabled: row.disabledAt !== null, hasPassword: row.passwordHash !== null };
}

async function activeAdmins(db: DbClient, orgId: string): Promise<number> {
  return db.user.count({ where: { orgId, role: "admin", disabledAt: null } });
}

export const usersRouter = router({
  list: adminProcedure.query(async ({ ctx }) => {
    const rows = await ctx.rt.db.prisma.user.findMany({ where: { orgId: ctx.user.orgId }, orderBy: { email: "asc" }, select: USER_SELECT });
    return rows.map(present);
  }),

  create: adminProcedure.input(userCreateInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    if (input.teamId) await requireTeam(db, ctx.user, input.teamId);
    if (input.role === "developer" && !input.teamId) throw new TRPCError({ code: "BAD_REQUEST", message: "A developer needs a team" });
    const passwordHash = input.password ? await hashPassword(input.password) : null;
    const email = normalizeEmail(input.email);
    const user = await uniqueOr(`A user with the email ${email} already exists`, () =>
      db.$transaction(async (tx) => {
        const created = await tx.user.create({
          data: { orgId: ctx.user.orgId, email, name: input.name ?? null, role: input.role, teamId: input.teamId, passwordHash },
          select: USER_SELECT,
        });
        await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "user.create", entity: "user", entityId: created.id, after: auditSnapshot(created) });
        return created;
      }),
    );
    return present(user);
  }),

  update: adminProcedure.input(userUpdateInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const row = found(await db.user.findFirst({ where: { id: input.id, orgId: ctx.user.orgId }, select: USER_SELECT }), "user");
    const self = row.id === ctx.user.id;
    if (self && input.role !== undefined && input.role !== row.role) throw new TRPCError({ code: "BAD_REQUEST", message: "You cannot change your own role" });
    if (self && input.disabled) throw new TRPCError({ code: "BAD_REQUEST", message: "You cannot disable yourself" });
    if (input.teamId) await requireTeam(db, ctx.user, input.teamId);
    const role = input.role ?? row.role;
    const teamId = input.teamId !== undefined ? input.teamId : row.teamId;
    if (role === "developer" && !teamId) throw new TRPCError({ code: "BAD_REQUEST", message: "A developer needs a team" });
    const updated = await db.$transaction(async (tx) => {
      const next = await tx.user.update({
        where: { id: row.id },
        data: {
          role,
          teamId,
          ...(input.name !== undefined ? { name: input.name || null } : {}),
          ...(input.disabled !== undefined ? { disabledAt: input.disabled ? (row.disabledAt ?? new Date()) : null } : {}),
        },
        select: USER_SELECT,
      });
      // Checked inside the transaction, after the write: the last active admin must remain.
      if ((await activeAdmins(tx, ctx.user.orgId)) === 0) throw new TRPCError({ code: "BAD_REQUEST", message: "The organization needs at least one active admin" });
      await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "user.update", entity: "user", entityId: row.id, before: auditSnapshot(row), after: auditSnapshot(next) });
      return next;
    });
    return present(updated);
  }),

  setPassword: adminProcedure.input(userSetPasswordInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const row = found(await db.user.findFirst({ where: { id: input.id, orgId: ctx.user.orgId }, select: { id: true } }), "user");
    const passwordHash = await hashPassword(input.password);
    await db.$transaction(async (tx) => {
      await tx.user.update({ where: { id: row.id }, data: { passwordHash } });
      await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "user.password_reset", entity: "user", entityId: row.id, after: { passwordChanged: true } });
    });
    return { ok: true as const };
  }),
});
