/**
 * Provider accounts (admin only). Keys are write-only: stored encrypted (AES-256-GCM, rt.secrets), returned as
 * their last 4 characters, never logged or audited. Base URLs pass the SSRF guard when saved (and again at every
 * connection, in the transport); changing the URL or the kind requires entering the key again, so a stored key
 * can never be redirected to a host it was not typed for.
 */
import { TRPCError } from "@trpc/server";
import { byId } from "@/lib/contracts/common";
import { providerCreateInput, providerUpdateInput } from "@/lib/contracts/providers";
import { policyDocument, policyTargetRefs } from "@/lib/policy";
import { BUILTIN_SIMULATOR } from "../../demo";
import type { Prisma } from "../../db/generated/client";
import { AppError } from "../../gateway/errors";
import { PROVIDERS, providerConfigSchema } from "../../providers/registry";
import { checkBaseUrl, type Resolver } from "../../providers/ssrf";
import { createTransport, type Transport } from "../../providers/transport";
import type { ProviderKind } from "../../providers/types";
import type { Runtime } from "../../runtime";
import { found } from "../access";
import { recordAudit } from "../audit";
import { uniqueOr } from "../prisma-errors";
import { testConnection } from "../provider-check";
import { adminProcedure, router } from "../trpc";

/** Every field a provider answer carries: never `encryptedKey`. */
const PROVIDER_SELECT = {
  id: true,
  name: true,
  kind: true,
  baseUrl: true,
  keyLast4: true,
  allowPrivate: true,
  enabled: true,
  region: true,
  config: true,
  createdAt: true,
  updatedAt: true,
} as const satisfies Prisma.ProviderSelect;

type ProviderRow = Prisma.ProviderGetPayload<{ select: typeof PROVIDER_SELECT }>;

function present(row: ProviderRow) {
  const definition = PROVIDERS[row.kind as ProviderKind];
  return {
    ...row,
    config: (row.config ?? {}) as Record<string, unknown>,
    hasKey: row.keyLast4 !== null,
    label: definition?.label ?? row.kind,
    requiresKey: definition?.requiresKey ?? true,
    builtin: row.baseUrl.startsWith(BUILTIN_SIMULATOR),
  };
}

/** What the audit log keeps of a provider: everything but the key, plus its last 4. */
function auditSnapshot(row: ProviderRow) {
  const { createdAt: _c, updatedAt: _u, ...rest } = row;
  return rest;
}

function validateSettings(config: unknown): Record<string, unknown> {
  const parsed = providerConfigSchema.strict().safeParse(config ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${["config", ...i.path.map(String)].join(".")}: ${i.message}`).join("; ");
    throw new AppError(400, "invalid_provider_config", `Invalid provider settings: ${issues}`);
  }
  return parsed.data;
}

/** SSRF check at save; the refusal names the reason and, for private addresses, the opt-in. */
async function assertBaseUrlAllowed(baseUrl: string, allowPrivate: boolean, resolve?: Resolver): Promise<void> {
  const check = await checkBaseUrl(baseUrl, { allowPrivate, resolve });
  if (check.ok) return;
  const hint = ["loopback", "private", "unique_local"].includes(check.reason) ? " Turn on “Allow private addresses” for a self-hosted endpoint." : "";
  throw new AppError(400, "ssrf_refused", `Base URL refused: ${check.message}.${hint}`);
}

const transports = new WeakMap<Runtime, Transport>();

/** One transport for the control plane's connection tests, closed with the runtime. */
function transportFor(rt: Runtime): Transport {
  let transport = transports.get(rt);
  if (!transport) {
    const created = createTransport({ connectionsPerOrigin: 4, keepAliveTimeoutMs: 5_000, ...(rt.resolve ? { resolve: rt.resolve } : {}) });
    rt.onShutdown(() => created.close());
    transports.set(rt, created);
    transport = created;
  }
  return transport;
}

export const providersRouter = router({
  /** Kinds the form offers, with their defaults. */
  kinds: adminProcedure.query(() =>
    Object.values(PROVIDERS).map((d) => ({
      kind: d.kind,
      label: d.label,
      defaultBaseUrl: d.defaultBaseUrl,
      requiresKey: d.requiresKey,
      protocol: d.protocol,
    })),
  ),

  list: adminProcedure.query(async ({ ctx }) => {
    const rows = await ctx.rt.db.prisma.provider.findMany({ where: { orgId: ctx.user.orgId }, orderBy: { name: "asc" }, select: PROVIDER_SELECT });
    return rows.map(present);
  }),

  get: adminProcedure.input(byId).query(async ({ ctx, input }) => {
    const row = await ctx.rt.db.prisma.provider.findFirst({ where: { id: input.id, orgId: ctx.user.orgId }, select: PROVIDER_SELECT });
    return present(found(row, "provider"));
  }),

  create: adminProcedure.input(providerCreateInput).mutation(async ({ ctx, input }) => {
    const definition = PROVIDERS[input.kind];
    const config = validateSettings(input.config);
    const baseUrl = input.baseUrl ?? definition.defaultBaseUrl;
    if (!baseUrl) throw new AppError(400, "base_url_required", `A base URL is required for ${definition.label}`);
    if (definition.requiresKey && !input.apiKey) throw new AppError(400, "key_required", `${definition.label} needs an API key`);
    await assertBaseUrlAllowed(baseUrl, input.allowPrivate, ctx.rt.resolve);
    const db = ctx.rt.db.prisma;
    const row = await uniqueOr(`A provider named "${input.name}" already exists`, () =>
      db.$transaction(async (tx) => {
        const created = await tx.provider.create({
          data: {
            orgId: ctx.user.orgId,
            name: input.name,
            kind: input.kind,
            baseUrl,
            allowPrivate: input.allowPrivate,
            enabled: input.enabled,
            region: input.region ?? null,
            config: config as Prisma.InputJsonObject,
            encryptedKey: input.apiKey ? ctx.rt.secrets.encrypt(input.apiKey) : null,
            keyLast4: input.apiKey ? input.apiKey.slice(-4) : null,
          },
          select: PROVIDER_SELECT,
        });
        await recordAudit(tx, {
          orgId: ctx.user.orgId,
          actorId: ctx.user.id,
          action: "provider.create",
          entity: "provider",
          entityId: created.id,
          after: auditSnapshot(created),
        });
        return created;
      }),
    );
    return present(row);
  }),

  update: adminProcedure.input(providerUpdateInput).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const row = found(
      await db.provider.findFirst({ where: { id: input.id, orgId: ctx.user.orgId }, select: { ...PROVIDER_SELECT, encryptedKey: true } }),
      "provider",
    );
    const kind = (input.kind ?? row.kind) as ProviderKind;
    const baseUrl = input.baseUrl ?? row.baseUrl;
    const allowPrivate = input.allowPrivate ?? row.allowPrivate;
    const destinationChanged = baseUrl !== row.baseUrl || kind !== row.kind;
    if (destinationChanged && row.encryptedKey && !input.apiKey && !input.clearKey) {
      throw new AppError(400, "key_required", "Changing the base URL or kind requires entering the API key again");
    }
    if (input.clearKey && input.apiKey) throw new AppError(400, "conflicting_key_change", "Either enter a new key or remove the key, not both");
    const keyAfter = input.apiKey ? "new" : input.clearKey ? "none" : row.encryptedKey ? "kept" : "none";
    if (keyAfter === "none" && PROVIDERS[kind].requiresKey) throw new AppError(400, "key_required", `${PROVIDERS[kind].label} needs an API key`);
    // A URL saved before passed the check; check again whenever the destination or the private opt-in changes.
    if (destinationChanged || (allowPrivate && !row.allowPrivate)) await assertBaseUrlAllowed(baseUrl, allowPrivate, ctx.rt.resolve);
    const config = input.config !== undefined ? validateSettings(input.config) : undefined;

    const { encryptedKey: _secret, ...before } = row;
    const updated = await db.$transaction(async (tx) => {
      const next = await tx.provider.update({
        where: { id: row.id },
        data: {
          kind,
          baseUrl,
          allowPrivate,
          ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
          ...(input.region !== undefined ? { region: input.region || null } : {}),
          ...(config !== undefined ? { config: config as Prisma.InputJsonObject } : {}),
          ...(input.apiKey ? { encryptedKey: ctx.rt.secrets.encrypt(input.apiKey), keyLast4: input.apiKey.slice(-4) } : {}),
          ...(input.clearKey ? { encryptedKey: null, keyLast4: null } : {}),
        },
        select: PROVIDER_SELECT,
      });
      await recordAudit(tx, {
        orgId: ctx.user.orgId,
        actorId: ctx.user.id,
        action: "provider.update",
        entity: "provider",
        entityId: row.id,
        before: auditSnapshot(before),
        after: { ...auditSnapshot(next), keyChanged: keyAfter === "new" || (keyAfter === "none" && row.encryptedKey !== null) },
      });
      return next;
    });
    return present(updated);
  }),

  /** Refuses while an enabled policy routes to the provider (its requests would fail); disable it instead. */
  delete: adminProcedure.input(byId).mutation(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const row = found(await db.provider.findFirst({ where: { id: input.id, orgId: ctx.user.orgId }, select: PROVIDER_SELECT }), "provider");
    const policies = await db.policy.findMany({ where: { orgId: ctx.user.orgId, enabled: true }, select: { name: true, document: true } });
    const users = policies
      .filter((p) => {
        const document = policyDocument.safeParse(p.document);
        return document.success && policyTargetRefs(document.data).some(({ ref }) => ref.provider === row.name);
      })
      .map((p) => p.name);
    if (users.length > 0) {
      throw new TRPCError({ code: "CONFLICT", message: `Used by the enabled ${users.length === 1 ? "policy" : "policies"} ${users.join(", ")}: change or disable ${users.length === 1 ? "it" : "them"} first` });
    }
    await db.$transaction(async (tx) => {
      await tx.provider.delete({ where: { id: row.id } });
      await recordAudit(tx, { orgId: ctx.user.orgId, actorId: ctx.user.id, action: "provider.delete", entity: "provider", entityId: row.id, before: auditSnapshot(row) });
    });
    return { id: row.id };
  }),

  /** One real request to the provider's model list with the stored key. */
  testConnection: adminProcedure.input(byId).mutation(async ({ ctx, input }) => {
    const row = found(
      await ctx.rt.db.prisma.provider.findFirst({
        where: { id: input.id, orgId: ctx.user.orgId },
        select: { id: true, kind: true, baseUrl: true, allowPrivate: true, config: true, encryptedKey: true },
      }),
      "provider",
    );
    let baseUrl = row.baseUrl;
    if (baseUrl.startsWith(BUILTIN_SIMULATOR)) {
      // The built-in simulator's address changes at every start; the snapshot holds the current one.
      const live = [...ctx.rt.snapshot.current().orgs.values()].flatMap((org) => [...org.providers.values()]).find((p) => p.id === row.id);
      if (!live) return { ok: false, status: 0, latencyMs: 0, models: null, message: "The built-in simulator is not running (enable the provider and restart)." };
      baseUrl = live.baseUrl;
    } else {
      await assertBaseUrlAllowed(baseUrl, row.allowPrivate, ctx.rt.resolve);
    }
    let apiKey: string | null = null;
    if (row.encryptedKey) {
      try {
        apiKey = ctx.rt.secrets.decrypt(row.encryptedKey);
      } catch {
        return { ok: false, status: 0, latencyMs: 0, models: null, message: "The stored key cannot be decrypted with the current SWITCHYARD_SECRET: enter it again." };
      }
    }
    return testConnection(transportFor(ctx.rt), { kind: row.kind as ProviderKind, baseUrl, apiKey, allowPrivate: row.allowPrivate, config: row.config });
  }),
});
