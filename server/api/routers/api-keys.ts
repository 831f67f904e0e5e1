/**
 * Switchyard API keys. A key is shown once, in the answer to `create`; afterwards only its prefix exists outside
 * the hash (explicit selects: `hash` is never read here). Developers list, create, disable, enable and revoke
 * their own team's keys only; admins any team's; finance reads the list (spend is reported per key).
 */
import { TRPCError } from "@trpc/server";
import { apiKeyCreateInput, apiKeyListInput, apiKeySetDisabledInput } from "@/lib/contracts/api-keys";
import { byId } from "@/lib/contracts/common";
import type { Prisma } from "../../db/generated/client";
import { generateApiKey } from "../../keys/api-keys";
import { assertTeamAccess, found, requireTeam, teamScope } from "../access";
import { recordAudit } from "../audit";
import { developerProcedure, memberProcedure, router, type AuthedContext } from "../trpc";

const KEY_SELECT = {
  id: true,
  name: true,
  prefix: true,
  teamId: true,
  ownerId: true,
  allowedModels: true,
  allowStore: true,
  deferrable: true,
  rpmLimit: true,
  tpmLimit: true,
  /** "client", or "playground" for a user's internal Playground key (routers/playground.ts). */
  kind: true,
  expiresAt: true,
  revokedAt: true,
  disabledAt: true,
  lastUsedAt: true,
  createdAt: true,
  team: { select: { name: true, slug: true } },
  owner: { select: { email: true } },
} as const satisfies Prisma.ApiKeySelect;

type KeyRow = Prisma.ApiKeyGetPayload<{ select: typeof KEY_SELECT }>;

function auditSnapshot(row: KeyRow) {
  return {
    name: row.name,
    prefix: row.prefix,
    teamId: row.teamId,
    allowedModels: row.allowedModels,
    allowStore: row.allowStore,
    deferrable: row.deferrable,
    rpmLimit: row.rpmLimit,
    tpmLimit: row.tpmLimit,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    disabledAt: row.disabledAt,
  };
}

/** A key of the caller's scope (NOT_FOUND otherwise, as for a key that does not exist). */
async function keyInScope(ctx: AuthedContext, id: string): Promise<KeyRow> {
  return found(await ctx.rt.db.prisma.apiKey.findFirst({ where: { id, ...teamScope(ctx.user) }, select: KEY_SELECT }), "API key");
}

/** Changes a key and records the change in the audit log, in one transaction. */
function updateKey(ctx: AuthedContext, row: KeyRow, data: Prisma.ApiKeyUpdateInput, action: string): Promise<KeyRow> {
  return ctx.rt.db.prisma.$transaction(async (tx) => {
    const next = await tx.apiKey.update({ where: { id: row.id }, data, select: KEY_SELECT });
    await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action, entity: "apiKey", entityId: row.id, before: auditSnapshot(row), after: auditSnapshot(next) });
    return next;
  });
}

export const apiKeysRouter = router({
  list: memberProcedure.input(apiKeyListInput).query(async ({ ctx, input }) => {
    if (input.teamId) assertTeamAccess(ctx.user, input.teamId);
    return ctx.rt.db.prisma.apiKey.findMany({
      where: {
        ...teamScope(ctx.user),
        ...(input.teamId ? { teamId: input.teamId } : {}),
        ...(input.includeRevoked ? {} : { revokedAt: null }),
      },
      orderBy: { createdAt: "desc" },
      select: KEY_SELECT,
    });
  }),

  /** Returns the key itself exactly once; store it now, it cannot be shown again. */
  create: developerProcedure.input(apiKeyCreateInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    await requireTeam(db, ctx.user, input.teamId);
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      throw new TRPCError({ code: "BAD_REQUEST", message: "The expiry date must be in the future" });
    }
    const { key, prefix, hash } = generateApiKey();
    const record = await db.$transaction(async (tx) => {
      const created = await tx.apiKey.create({
        data: {
          orgId: ctx.user.orgId,
          teamId: input.teamId,
          ownerId: ctx.user.id,
          name: input.name,
          prefix,
          hash,
          allowedModels: input.allowedModels,
          allowStore: input.allowStore,
          deferrable: input.deferrable,
          expiresAt: input.expiresAt ?? null,
          rpmLimit: input.rpmLimit ?? null,
          tpmLimit: input.tpmLimit ?? null,
        },
        select: KEY_SELECT,
      });
      await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "apiKey.create", entity: "apiKey", entityId: created.id, after: auditSnapshot(created) });
      return created;
    });
    return { key, record };
  }),

  /**
   * Pauses a key (requests answer 401 "This API key is disabled") or resumes it; like revocation, effective on
   * every instance within the snapshot refresh interval. A revoked key stays revoked.
   */
  setDisabled: developerProcedure.input(apiKeySetDisabledInput).mutation(async ({ ctx, input }) => {
    const row = await keyInScope(ctx, input.id);
    if (row.revokedAt) throw new TRPCError({ code: "BAD_REQUEST", message: "This API key has been revoked; create a new one" });
    if ((row.disabledAt !== null) === input.disabled) return row;
    return updateKey(ctx, row, { disabledAt: input.disabled ? new Date() : null }, input.disabled ? "apiKey.disable" : "apiKey.enable");
  }),

  /** Revoked keys stop working on every instance within the snapshot refresh interval (this one at once). */
  revoke: developerProcedure.input(byId).mutation(async ({ ctx, input }) => {
    const row = await keyInScope(ctx, input.id);
    if (row.revokedAt) return row;
    return updateKey(ctx, row, { revokedAt: new Date() }, "apiKey.revoke");
  }),
});
