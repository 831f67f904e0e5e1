/** The signed-in user's own account: who am I, and change my password. */
import { TRPCError } from "@trpc/server";
import { changePasswordInput } from "@/lib/contracts/auth";
import { checkCredentials } from "../../auth/credentials";
import { hashPassword } from "../../auth/password";
import { recordAudit } from "../audit";
import { memberProcedure, router } from "../trpc";

export const meRouter = router({
  get: memberProcedure.query(async ({ ctx }) => {
    const team = ctx.user.teamId
      ? await ctx.rt.db.prisma.team.findUnique({ where: { id: ctx.user.teamId }, select: { id: true, name: true, slug: true } })
      : null;
    return { ...ctx.user, team };
  }),

  changePassword: memberProcedure.input(changePasswordInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    // The same check (and failure counter) as signing in: a stolen session cannot guess the password faster.
    const check = await checkCredentials({ db, state: ctx.rt.state }, { email: ctx.user.email, password: input.current });
    if (!check.ok) {
      const message = check.reason === "throttled" ? "Too many failed attempts: wait 15 minutes" : "The current password is not correct";
      throw new TRPCError({ code: check.reason === "throttled" ? "TOO_MANY_REQUESTS" : "BAD_REQUEST", message });
    }
    const passwordHash = await hashPassword(input.next);
    await db.$transaction(async (tx) => {
      await tx.user.update({ where: { id: ctx.user.id }, data: { passwordHash } });
      await recordAudit(tx, {
        orgId: ctx.user.orgId,
        actorId: ctx.user.id,
        action: "user.password_change",
        entity: "user",
        entityId: ctx.user.id,
        after: { passwordChanged: true },
      });
    });
    return { ok: true as const };
  }),
});
