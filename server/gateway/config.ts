/**
 * The data plane's configuration view, rebuilt from the database when the config version changes: providers
 * (with keys decrypted once, in memory only), the model catalog with each organization's overrides, and policies.
 * Request handling reads only this object.
 */
import { loadCatalog, applyOverrides, type Catalog } from "../catalog";
import type { CatalogModel } from "../catalog/model";
import type { Db } from "../db/client";
import type { Logger } from "../obs/log";
import type { SecretBox } from "../secrets/secret-box";
import { resolveBuiltinUrl } from "../demo";
import { policyDocument, type PolicyDocument } from "@/lib/policy";

export interface ProviderConfig {
  id: string;
  orgId: string;
  name: string;
  kind: string;
  baseUrl: string;
  /** Decrypted provider key; never logged, never returned by an API. */
  apiKey: string | null;
  allowPrivate: boolean;
  region: string | null;
  config: Record<string, unknown>;
}

export interface PolicyConfig {
  id: string;
  orgId: string;
  teamId: string | null;
  name: string;
  version: number;
  document: PolicyDocument;
  createdAt: Date;
}

export interface OrgConfig {
  catalog: Catalog;
  /** Enabled providers by name. */
  providers: Map<string, ProviderConfig>;
  policies: Map<string, PolicyConfig>;
}

export interface GatewayConfig {
  version: string;
  loadedAt: number;
  orgs: Map<string, OrgConfig>;
}

export async function loadGatewayConfig(
  db: Db,
  secrets: SecretBox,
  log: Logger,
  version: string,
  simulatorUrl: string | null = null,
): Promise<GatewayConfig> {
  const [providers, overrides, policies] = await Promise.all([
    db.provider.findMany({ where: { enabled: true }, orderBy: { name: "asc" } }),
    db.modelOverride.findMany(),
    db.policy.findMany({ where: { enabled: true }, orderBy: { name: "asc" } }),
  ]);
  const base = loadCatalog();
  const orgs = new Map<string, OrgConfig>();
  const org = (orgId: string) => {
    let entry = orgs.get(orgId);
    if (!entry) {
      const rows = overrides.filter((o) => o.orgId === orgId);
      entry = {
        catalog: rows.length > 0 ? applyOverrides(base, rows, providers.filter((p) => p.orgId === orgId)) : base,
        providers: new Map(),
        policies: new Map(),
      };
      orgs.set(orgId, entry);
    }
    return entry;
  };
  for (const p of providers) {
    let apiKey: string | null = null;
    if (p.encryptedKey) {
      try {
        apiKey = secrets.decrypt(p.encryptedKey);
      } catch {
        log.error({ provider: p.name }, "provider key cannot be decrypted with the current SWITCHYARD_SECRET; provider skipped");
        continue;
      }
    }
    org(p.orgId).providers.set(p.name, {
      id: p.id,
      orgId: p.orgId,
      name: p.name,
      kind: p.kind,
      baseUrl: resolveBuiltinUrl(p.baseUrl, simulatorUrl),
      apiKey,
      allowPrivate: p.allowPrivate,
      region: p.region,
      config: (p.config ?? {}) as Record<string, unknown>,
    });
  }
  for (const p of policies) {
    const parsed = policyDocument.safeParse(p.document);
    if (!parsed.success) {
      log.error({ policy: p.name }, "stored policy document is invalid; policy skipped");
      continue;
    }
    org(p.orgId).policies.set(p.name, {
      id: p.id,
      orgId: p.orgId,
      teamId: p.teamId,
      name: p.name,
      version: p.version,
      document: parsed.data,
      createdAt: p.createdAt,
    });
  }
  return { version, loadedAt: Date.now(), orgs };
}

/** The catalog entry a provider serves for `modelId` (provider-scoped override first), if enabled. */
export function providerModel(org: OrgConfig, provider: ProviderConfig, modelId: string): CatalogModel | undefined {
  const model = org.catalog.get(catalogKind(provider), modelId, { providerId: provider.id });
  return model?.enabled ? model : undefined;
}

/** The catalog kind whose prices a provider uses (self-hosted kinds only have custom, provider-scoped entries). */
export function catalogKind(provider: ProviderConfig): string {
  return provider.kind;
}

/** Every model an organization's providers serve, as listed by GET /models. */
export function listProviderModels(org: OrgConfig): Array<{ provider: ProviderConfig; model: CatalogModel }> {
  const out: Array<{ provider: ProviderConfig; model: CatalogModel }> = [];
  for (const provider of org.providers.values()) {
    const seen = new Set<string>();
    for (const model of [...org.catalog.list({ providerId: provider.id }), ...org.catalog.list({ kind: catalogKind(provider) as never, providerId: null })]) {
      if (model.kind !== catalogKind(provider) || seen.has(model.id)) continue;
      seen.add(model.id);
      out.push({ provider, model });
    }
  }
  return out;
}
