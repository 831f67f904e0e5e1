/**
 * Settings: the organization's name (admins edit), and what this installation runs on, for everyone to read.
 * Nothing secret is returned: sign-in methods by name only, the master secret by where it comes from.
 */
import { settingsUpdateInput } from "@/lib/contracts/settings";
import { authRuntime, ssoProviders } from "../../auth/config";
import { recordAudit } from "../audit";
import { adminProcedure, memberProcedure, router } from "../trpc";

export const settingsRouter = router({
  get: memberProcedure.query(async ({ ctx }) => {
    const { rt } = ctx;
    const org = await rt.db.prisma.organization.findUniqueOrThrow({ where: { id: ctx.user.orgId }, select: { name: true, slug: true } });
    const auth = await authRuntime(rt);
    return {
      organization: org,
      system: {
        database: rt.db.kind === "postgres" ? "PostgreSQL" : "Embedded PGlite",
        state: rt.state.kind === "redis" ? "Redis" : "In memory",
        publicUrl: rt.env.SWITCHYARD_PUBLIC_URL ?? null,
        masterSecret: rt.env.SWITCHYARD_SECRET ? "SWITCHYARD_SECRET" : "generated file in the data directory",
        sessionHours: rt.env.SWITCHYARD_SESSION_HOURS,
        signInMethods: ["Email and password", ...ssoProviders(auth).map((p) => p.name)],
        // Stored as a JSON value: show the string itself.
        configVersion: rt.snapshot.current().version.replace(/^"|"$/g, ""),
      },
    };
  }),

  update: adminProcedure.input(settingsUpdateInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    return db.$transaction(async (tx) => {
      const before = await tx.organization.findUniqueOrThrow({ where: { id: ctx.user.orgId }, select: { name: true } });
      const after = await tx.organization.update({ where: { id: ctx.user.orgId }, data: { name: input.organizationName }, select: { name: true, slug: true } });
      await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "settings.update", entity: "organization", entityId: ctx.user.orgId, before, after: { name: after.name } });
      return after;
    });
  }),
});
