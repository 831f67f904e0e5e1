/**
 * Policies (virtual models): everyone signed in reads the ones they may use (developers: org-wide and their
 * team's), admins write. Every document change writes a PolicyVersion; rollback copies an old version's document
 * into a new version, so history only grows. `validate` checks a document live for the editor: schema errors
 * block saving; references the gateway would skip (disabled provider, model missing from the catalog) are warnings.
 */
import { TRPCError } from "@trpc/server";
import { byId, toIssues, type Issue } from "@/lib/contracts/common";
import { policyCreateInput, policyDocument, policyDryRunInput, policyRollbackInput, policyUpdateInput, policyValidateInput } from "@/lib/contracts/policies";
import { sameJson } from "@/lib/json";
import { policyTargetRefs, type PolicyDocument } from "@/lib/policy";
import { loadCatalog } from "../../catalog";
import type { Db } from "../../db/client";
import type { Prisma } from "../../db/generated/client";
import type { SessionUser } from "../../auth/users";
import { dryRun } from "../../routing/dry-run";
import { found, NO_TEAM, requireTeam, sharedOrTeamScope } from "../access";
import { recordAudit } from "../audit";
import { uniqueOr } from "../prisma-errors";
import { adminProcedure, memberProcedure, router } from "../trpc";

const POLICY_SELECT = {
  id: true,
  name: true,
  description: true,
  teamId: true,
  version: true,
  enabled: true,
  document: true,
  createdAt: true,
  updatedAt: true,
  team: { select: { name: true, slug: true } },
} as const satisfies Prisma.PolicySelect;

type PolicyRow = Prisma.PolicyGetPayload<{ select: typeof POLICY_SELECT }>;

function present(row: PolicyRow) {
  return { ...row, document: row.document as PolicyDocument };
}

function auditSnapshot(row: PolicyRow) {
  return { name: row.name, description: row.description, teamId: row.teamId, enabled: row.enabled, version: row.version, document: row.document };
}

/** Self-hosted kinds serve any model id (server/gateway/resolve.ts), so the catalog cannot vouch for them. */
const OPEN_MODEL_KINDS = new Set(["ollama", "vllm", "openai-compatible"]);

/** Reference checks against the organization's providers and catalog: errors block saving, warnings inform. */
async function checkReferences(db: Db, orgId: string, document: PolicyDocument): Promise<{ errors: Issue[]; warnings: Issue[] }> {
  const [providers, overrides] = await Promise.all([
    db.provider.findMany({ where: { orgId }, select: { id: true, name: true, kind: true, enabled: true } }),
    db.modelOverride.findMany({ where: { orgId }, select: { providerId: true, modelId: true, enabled: true } }),
  ]);
  const byName = new Map(providers.map((p) => [p.name, p]));
  const catalog = loadCatalog();
  const errors: Issue[] = [];
  const warnings: Issue[] = [];
  const check = (ref: { provider: string; model: string }, path: string) => {
    const provider = byName.get(ref.provider);
    if (!provider) {
      errors.push({ path: `${path}.provider`, message: `no provider named "${ref.provider}"` });
      return;
    }
    if (!provider.enabled) warnings.push({ path: `${path}.provider`, message: `"${ref.provider}" is disabled: the gateway skips this target` });
    if (OPEN_MODEL_KINDS.has(provider.kind)) return;
    const override = overrides.find((o) => o.modelId === ref.model && (o.providerId === provider.id || o.providerId === null));
    if (!catalog.get(provider.kind, ref.model) && !override) {
      warnings.push({ path: `${path}.model`, message: `"${ref.model}" is not in the catalog for ${provider.kind}: the gateway skips this target until you add it as a custom model` });
    } else if (override && !override.enabled) {
      warnings.push({ path: `${path}.model`, message: `"${ref.model}" is disabled: the gateway skips this target` });
    }
  };
  for (const { path, ref } of policyTargetRefs(document)) check(ref, path);
  return { errors, warnings };
}

async function assertValid(db: Db, orgId: string, document: PolicyDocument): Promise<void> {
  const { errors } = await checkReferences(db, orgId, document);
  if (errors.length > 0) {
    throw new TRPCError({ code: "BAD_REQUEST", message: errors.map((e) => `${e.path}: ${e.message}`).join("; ") });
  }
}

async function findPolicy(db: Db, user: SessionUser, id: string) {
  return found(await db.policy.findFirst({ where: { id, ...sharedOrTeamScope(user) }, select: POLICY_SELECT }), "policy");
}

export const policiesRouter = router({
  list: memberProcedure.query(async ({ ctx }) => {
    const rows = await ctx.rt.db.prisma.policy.findMany({ where: sharedOrTeamScope(ctx.user), orderBy: { name: "asc" }, select: POLICY_SELECT });
    return rows.map(present);
  }),

  get: memberProcedure.input(byId).query(async ({ ctx, input }) => present(await findPolicy(ctx.rt.db.prisma, ctx.user, input.id))),

  versions: memberProcedure.input(byId).query(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const policy = await findPolicy(db, ctx.user, input.id);
    const versions = await db.policyVersion.findMany({ where: { policyId: policy.id }, orderBy: { version: "desc" } });
    const authorIds = [...new Set(versions.flatMap((v) => (v.createdBy ? [v.createdBy] : [])))];
    const authors = new Map(
      (await db.user.findMany({ where: { id: { in: authorIds }, orgId: ctx.user.orgId }, select: { id: true, email: true } })).map((u) => [u.id, u.email]),
    );
    return versions.map((v) => ({
      version: v.version,
      document: v.document as PolicyDocument,
      createdAt: v.createdAt,
      createdBy: v.createdBy ? (authors.get(v.createdBy) ?? "deleted user") : "config file",
      current: v.version === policy.version,
    }));
  }),

  /** Live validation for the editor; never throws for a bad document (it reports it). */
  validate: memberProcedure.input(policyValidateInput).query(async ({ ctx, input }) => {
    const parsed = policyDocument.safeParse(input.document);
    if (!parsed.success) return { ok: false, errors: toIssues(parsed.error), warnings: [] as Issue[], document: null };
    const { errors, warnings } = await checkReferences(ctx.rt.db.prisma, ctx.user.orgId, parsed.data);
    return { ok: errors.length === 0, errors, warnings, document: parsed.data };
  }),

  /**
   * Simulates a request against the saved policy as the gateway would plan it now (its current configuration), for
   * a key of the policy's team (org-wide policies: the caller's team): the chosen target, every candidate with its
   * estimated cost, the rejections and why. Nothing is sent upstream; live health is not consulted (every target
   * counts as healthy), so a fallback caused by an open circuit breaker does not show here.
   */
  dryRun: memberProcedure.input(policyDryRunInput).query(async ({ ctx, input }) => {
    const policy = await findPolicy(ctx.rt.db.prisma, ctx.user, input.id);
    const key = {
      apiKeyId: "dry-run",
      orgId: ctx.user.orgId,
      teamId: policy.teamId ?? ctx.user.teamId ?? NO_TEAM,
      ownerId: ctx.user.id,
      allowedModels: [],
      allowStore: false,
      rpmLimit: null,
      tpmLimit: null,
    };
    const messages = [...(input.system ? [{ role: "system" as const, content: input.system }] : []), { role: "user" as const, content: input.prompt }];
    return dryRun(ctx.rt.snapshot.current(), key, {
      model: policy.name,
      messages,
      ...(input.maxTokens !== undefined ? { max_tokens: input.maxTokens } : {}),
      ...(input.temperature !== undefined ? { temperature: input.temperature } : {}),
    });
  }),

  create: adminProcedure.input(policyCreateInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    if (input.teamId) await requireTeam(db, ctx.user, input.teamId);
    await assertValid(db, ctx.user.orgId, input.document);
    const row = await uniqueOr(`A policy named "${input.name}" already exists`, () =>
      db.$transaction(async (tx) => {
        const created = await tx.policy.create({
          data: {
            orgId: ctx.user.orgId,
            name: input.name,
            description: input.description ?? null,
            teamId: input.teamId,
            enabled: input.enabled,
            version: 1,
            document: input.document,
          },
          select: POLICY_SELECT,
        });
        await tx.policyVersion.create({ data: { policyId: created.id, version: 1, document: input.document, createdBy: ctx.user.id } });
        await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "policy.create", entity: "policy", entityId: created.id, after: auditSnapshot(created) });
        return created;
      }),
    );
    return present(row);
  }),

  update: adminProcedure.input(policyUpdateInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const row = await findPolicy(db, ctx.user, input.id);
    if (input.teamId) await requireTeam(db, ctx.user, input.teamId);
    const documentChanged = input.document !== undefined && !sameJson(policyDocument.safeParse(row.document).data ?? row.document, input.document);
    if (input.document && documentChanged) await assertValid(db, ctx.user.orgId, input.document);
    const version = documentChanged ? row.version + 1 : row.version;
    const updated = await db.$transaction(async (tx) => {
      const next = await tx.policy.update({
        where: { id: row.id },
        data: {
          ...(input.description !== undefined ? { description: input.description || null } : {}),
          ...(input.teamId !== undefined ? { teamId: input.teamId } : {}),
          ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
          ...(documentChanged ? { document: input.document, version } : {}),
        },
        select: POLICY_SELECT,
      });
      if (documentChanged) await tx.policyVersion.create({ data: { policyId: row.id, version, document: input.document!, createdBy: ctx.user.id } });
      await recordAudit(tx, {
        orgId: ctx.user.orgId,
        actorId: ctx.user.id,
        action: "policy.update",
        entity: "policy",
        entityId: row.id,
        before: auditSnapshot(row),
        after: auditSnapshot(next),
      });
      return next;
    });
    return present(updated);
  }),

  /** Makes an earlier version current again, as a new version (history is never rewritten). */
  rollback: adminProcedure.input(policyRollbackInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const row = await findPolicy(db, ctx.user, input.id);
    const target = found(await db.policyVersion.findUnique({ where: { policyId_version: { policyId: row.id, version: input.version } } }), "version");
    if (input.version === row.version) throw new TRPCError({ code: "BAD_REQUEST", message: `Version ${input.version} is already current` });
    const document = policyDocument.safeParse(target.document);
    if (!document.success) throw new TRPCError({ code: "BAD_REQUEST", message: `Version ${input.version} is not a valid document any more` });
    await assertValid(db, ctx.user.orgId, document.data);
    const version = row.version + 1;
    const updated = await db.$transaction(async (tx) => {
      const next = await tx.policy.update({ where: { id: row.id }, data: { document: document.data, version }, select: POLICY_SELECT });
      await tx.policyVersion.create({ data: { policyId: row.id, version, document: document.data, createdBy: ctx.user.id } });
      await recordAudit(tx, {
        orgId: ctx.user.orgId,
        actorId: ctx.user.id,
        action: "policy.rollback",
        entity: "policy",
        entityId: row.id,
        before: auditSnapshot(row),
        after: { ...auditSnapshot(next), restoredVersion: input.version },
      });
      return next;
    });
    return present(updated);
  }),

  delete: adminProcedure.input(byId).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const row = await findPolicy(db, ctx.user, input.id);
    await db.$transaction(async (tx) => {
      await tx.policy.delete({ where: { id: row.id } });
      await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "policy.delete", entity: "policy", entityId: row.id, before: auditSnapshot(row) });
    });
    return { id: row.id };
  }),
});
