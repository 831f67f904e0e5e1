/**
 * The model catalog as this organization sees it (dataset + supplement + its overrides), and the overrides
 * themselves: negotiated prices, corrected limits, disabled models, custom models of self-hosted providers.
 * Everyone signed in reads (finance needs prices); admins write.
 */
import { TRPCError } from "@trpc/server";
import { catalogListInput, overrideUpsertInput, setModelEnabledInput } from "@/lib/contracts/models";
import { byId } from "@/lib/contracts/common";
import { applyOverrides, isProviderKind, loadCatalog, normalizeDecimal, type Catalog, type CatalogModel } from "../../catalog";
import type { Db } from "../../db/client";
import type { Prisma } from "../../db/generated/client";
import type { SessionUser } from "../../auth/users";
import { found } from "../access";
import { recordAudit } from "../audit";
import { adminProcedure, memberProcedure, router } from "../trpc";

const PRICE_FIELDS = ["inputPrice", "outputPrice", "cacheReadPrice", "cacheWritePrice", "batchInputPrice", "batchOutputPrice"] as const;

async function orgCatalog(db: Db, orgId: string): Promise<Catalog> {
  const [overrides, providers] = await Promise.all([
    db.modelOverride.findMany({ where: { orgId } }),
    db.provider.findMany({ where: { orgId }, select: { id: true, kind: true } }),
  ]);
  const base = loadCatalog();
  return overrides.length > 0 ? applyOverrides(base, overrides, providers) : base;
}

function presentModel(model: CatalogModel) {
  return {
    kind: model.kind,
    id: model.id,
    name: model.name,
    prices: model.prices,
    contextWindow: model.contextWindow,
    maxOutput: model.maxOutput,
    capabilities: model.capabilities,
    source: model.source,
    providerId: model.providerId,
    overridden: model.overridden,
    enabled: model.enabled,
  };
}

type OverrideRow = Prisma.ModelOverrideGetPayload<object>;

function presentOverride(row: OverrideRow) {
  const prices = Object.fromEntries(PRICE_FIELDS.map((field) => [field, row[field] === null ? null : normalizeDecimal(row[field])])) as Record<
    (typeof PRICE_FIELDS)[number],
    string | null
  >;
  return {
    id: row.id,
    providerId: row.providerId,
    modelId: row.modelId,
    displayName: row.displayName,
    ...prices,
    contextWindow: row.contextWindow,
    maxOutput: row.maxOutput,
    enabled: row.enabled,
    custom: row.custom,
    updatedAt: row.updatedAt,
  };
}

/** The provider (when named) must belong to the organization; returns its kind. */
async function providerKind(db: Db, user: SessionUser, providerId: string | null): Promise<string | null> {
  if (providerId === null) return null;
  const provider = await db.provider.findFirst({ where: { id: providerId, orgId: user.orgId }, select: { kind: true } });
  return found(provider, "provider").kind;
}

interface OverrideWrite {
  providerId: string | null;
  modelId: string;
  data: Omit<Prisma.ModelOverrideUncheckedCreateInput, "orgId" | "providerId" | "modelId">;
  action: string;
}

/** Creates or updates the override of (provider, model) and audits it; one transaction. */
async function writeOverride(db: Db, user: SessionUser, write: OverrideWrite) {
  return db.$transaction(async (tx) => {
    const existing = await tx.modelOverride.findFirst({ where: { orgId: user.orgId, providerId: write.providerId, modelId: write.modelId } });
    const row = existing
      ? await tx.modelOverride.update({ where: { id: existing.id }, data: write.data })
      : await tx.modelOverride.create({ data: { ...write.data, orgId: user.orgId, providerId: write.providerId, modelId: write.modelId } });
    await recordAudit(tx, {
      orgId: user.orgId,
      actorId: user.id,
      action: write.action,
      entity: "modelOverride",
      entityId: row.id,
      before: existing ? presentOverride(existing) : null,
      after: presentOverride(row),
    });
    return row;
  });
}

export const modelsRouter = router({
  /** Catalog entries, filtered and paged; with `providerId`, that provider's view (its scoped overrides win). */
  list: memberProcedure.input(catalogListInput).query(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const catalog = await orgCatalog(db, ctx.user.orgId);
    const filter = {
      includeDisabled: input.includeDisabled,
      ...(input.query ? { query: input.query } : {}),
      ...(input.capability ? { capabilities: [input.capability] } : {}),
    };
    // Self-hosted kinds (ollama, vllm, openai-compatible) have no catalog entries of their own, only custom ones.
    const kindEntries = (kind: string | null | undefined) => (kind && isProviderKind(kind) ? catalog.list({ ...filter, kind, providerId: null }) : []);
    let entries: CatalogModel[];
    if (input.providerId) {
      const kind = await providerKind(db, ctx.user, input.providerId);
      const scoped = catalog.list({ ...filter, providerId: input.providerId });
      const shadowed = new Set(scoped.map((m) => m.id));
      const shared = kindEntries(kind).filter((m) => !shadowed.has(m.id));
      entries = [...scoped, ...shared].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    } else {
      entries = input.kind ? kindEntries(input.kind) : catalog.list(filter);
    }
    return { total: entries.length, items: entries.slice(input.offset, input.offset + input.limit).map(presentModel) };
  }),

  overrides: memberProcedure.query(async ({ ctx }) => {
    const rows = await ctx.rt.db.prisma.modelOverride.findMany({ where: { orgId: ctx.user.orgId }, orderBy: [{ modelId: "asc" }] });
    return rows.map(presentOverride);
  }),

  /** Sets an override's fields (absent/null prices keep the catalog's). A model the catalog lacks needs both prices. */
  upsertOverride: adminProcedure.input(overrideUpsertInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const kind = await providerKind(db, ctx.user, input.providerId);
    const base = loadCatalog();
    const known = kind === null ? base.list({ includeDisabled: true, providerId: null }).some((m) => m.id === input.modelId) : base.get(kind, input.modelId) !== undefined;
    if (!known && kind === null) {
      throw new TRPCError({ code: "BAD_REQUEST", message: `${input.modelId} is not in the catalog: choose its provider to add a custom model` });
    }
    if (!known && (!input.inputPrice || !input.outputPrice)) {
      throw new TRPCError({ code: "BAD_REQUEST", message: `${input.modelId} is not in the catalog: a custom model needs input and output prices` });
    }
    const row = await writeOverride(db, ctx.user, {
      providerId: input.providerId,
      modelId: input.modelId,
      action: "modelOverride.upsert",
      data: {
        displayName: input.displayName ?? null,
        ...Object.fromEntries(PRICE_FIELDS.map((field) => [field, input[field] ?? null])),
        contextWindow: input.contextWindow ?? null,
        maxOutput: input.maxOutput ?? null,
        enabled: input.enabled,
        custom: !known,
      },
    });
    return presentOverride(row);
  }),

  /** Enables or disables one model (an override that changes nothing else). */
  setEnabled: adminProcedure.input(setModelEnabledInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const kind = await providerKind(db, ctx.user, input.providerId);
    const base = loadCatalog();
    const known = kind === null ? base.list({ includeDisabled: true, providerId: null }).some((m) => m.id === input.modelId) : base.get(kind, input.modelId) !== undefined;
    const existing = await db.modelOverride.findFirst({ where: { orgId: ctx.user.orgId, providerId: input.providerId, modelId: input.modelId }, select: { id: true } });
    if (!known && !existing) throw new TRPCError({ code: "NOT_FOUND", message: `${input.modelId} is not in the catalog` });
    const row = await writeOverride(db, ctx.user, {
      providerId: input.providerId,
      modelId: input.modelId,
      action: input.enabled ? "model.enable" : "model.disable",
      data: { enabled: input.enabled, ...(existing ? {} : { custom: false }) },
    });
    return presentOverride(row);
  }),

  deleteOverride: adminProcedure.input(byId).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const row = found(await db.modelOverride.findFirst({ where: { id: input.id, orgId: ctx.user.orgId } }), "override");
    await db.$transaction(async (tx) => {
      await tx.modelOverride.delete({ where: { id: row.id } });
      await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "modelOverride.delete", entity: "modelOverride", entityId: row.id, before: presentOverride(row) });
    });
    return { id: row.id };
  }),
});
