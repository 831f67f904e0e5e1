/**
 * Admin overrides (the ModelOverride table): negotiated prices, corrected limits and capabilities, disabled models,
 * and custom models the dataset does not know. Overrides win over the catalog; the result is a new Catalog.
 */
import { z } from "zod";
import { Catalog } from "./catalog";
import { isProviderKind, type ProviderKind } from "./kinds";
import {
  CAPABILITY_NAMES,
  deriveBatchPrices,
  freezeModel,
  type Capabilities,
  type CatalogModel,
  type ModelPrices,
} from "./model";
import { parseDecimal, decimalToString, type DecimalLike } from "./money";

/**
 * A ModelOverride row as Prisma returns it (prisma/schema.prisma). Prices are USD per 1M tokens as
 * Prisma.Decimal or strings; null (or absent) keeps the catalog's value.
 */
export interface ModelOverrideRow {
  /** The provider account the override is scoped to; null applies it to the model id under every kind. */
  providerId: string | null;
  modelId: string;
  displayName?: string | null;
  inputPrice?: DecimalLike | null;
  outputPrice?: DecimalLike | null;
  cacheReadPrice?: DecimalLike | null;
  cacheWritePrice?: DecimalLike | null;
  batchInputPrice?: DecimalLike | null;
  batchOutputPrice?: DecimalLike | null;
  contextWindow?: number | null;
  maxOutput?: number | null;
  /** Json: a partial { tools, vision, json, reasoning, streaming, embeddings } of booleans. */
  capabilities?: unknown;
  enabled?: boolean;
  custom?: boolean;
}

/** The provider accounts overrides refer to (Provider rows: id and kind). */
export interface ProviderRef {
  id: string;
  kind: string;
}

const capabilitiesSchema = z
  .object(Object.fromEntries(CAPABILITY_NAMES.map((name) => [name, z.boolean().optional()])))
  .strict();

/** Capabilities of a custom model before its override's own: a plain streaming chat model. */
const CUSTOM_CAPABILITIES: Capabilities = {
  tools: false,
  vision: false,
  json: false,
  reasoning: false,
  streaming: true,
  embeddings: false,
};

/**
 * Applies override rows to a catalog. Rows without a provider apply first, to every kind-level entry with that
 * model id; rows with a provider then produce entries scoped to that provider (looked up with
 * `catalog.get(kind, id, { providerId })`), built on the kind-level entry, or — for a model the catalog lacks —
 * a custom entry, which needs input and output prices (the row's `custom` flag is informational: whether the
 * catalog has the model decides). Batch prices the catalog derived are derived again from the
 * overridden prices unless the row sets them. Rows that cannot apply are skipped and listed in `issues`.
 */
export function applyOverrides(
  catalog: Catalog,
  overrides: readonly ModelOverrideRow[],
  providers: Iterable<ProviderRef>,
): Catalog {
  const kinds = new Map<string, string>();
  for (const provider of providers) kinds.set(provider.id, provider.kind);
  const issues = [...catalog.issues];
  const all = catalog.list({ includeDisabled: true });

  const orgWide = new Map<string, CatalogModel>();
  for (const row of overrides.filter((r) => r.providerId === null)) {
    const targets = all.filter((m) => m.id === row.modelId && m.providerId === null);
    if (targets.length === 0) {
      issues.push(`override ${row.modelId}: not in the catalog; a custom model needs a provider`);
      continue;
    }
    for (const base of targets) {
      const key = `${base.kind}/${base.id}`;
      const merged = tryMerge(orgWide.get(key) ?? base, row, base.kind, null, issues);
      if (merged) orgWide.set(key, merged);
    }
  }
  const afterOrgWide = new Catalog([...all, ...orgWide.values()]);

  const scoped: CatalogModel[] = [];
  for (const row of overrides) {
    if (row.providerId === null) continue;
    const kind = kinds.get(row.providerId);
    if (kind === undefined || !isProviderKind(kind)) {
      const problem = kind === undefined ? "unknown" : `of unsupported kind "${kind}"`;
      issues.push(`override ${row.modelId}: provider ${row.providerId} is ${problem}`);
      continue;
    }
    const base = afterOrgWide.get(kind, row.modelId);
    const merged = tryMerge(base ?? null, row, kind, row.providerId, issues);
    if (merged) scoped.push(merged);
  }
  return new Catalog([...afterOrgWide.list({ includeDisabled: true }), ...scoped], issues);
}

function tryMerge(
  base: CatalogModel | null,
  row: ModelOverrideRow,
  kind: ProviderKind,
  providerId: string | null,
  issues: string[],
): CatalogModel | null {
  try {
    return merge(base, row, kind, providerId);
  } catch (error) {
    issues.push(`override ${row.modelId}: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
}

function merge(
  base: CatalogModel | null,
  row: ModelOverrideRow,
  kind: ProviderKind,
  providerId: string | null,
): CatalogModel {
  if (!base && (row.inputPrice == null || row.outputPrice == null)) {
    throw new Error("not in the catalog, and a custom model needs input and output prices");
  }
  // Start from the base's published prices: derived batch prices are recomputed from the overridden ones below.
  const published: Partial<Record<keyof ModelPrices, string>> = { ...base?.prices };
  for (const field of base?.derivedPrices ?? []) delete published[field];
  const set = (field: keyof ModelPrices, value: DecimalLike | null | undefined) => {
    if (value != null) published[field] = price(value, field);
  };
  set("input", row.inputPrice);
  set("output", row.outputPrice);
  set("cacheRead", row.cacheReadPrice);
  set("cacheWrite", row.cacheWritePrice);
  set("batchInput", row.batchInputPrice);
  set("batchOutput", row.batchOutputPrice);
  const { input, output } = published;
  if (input === undefined || output === undefined) throw new Error("input and output prices are required");
  const { prices, derivedPrices } = deriveBatchPrices(kind, { ...published, input, output });

  const capabilities = capabilitiesSchema.safeParse(row.capabilities ?? {});
  if (!capabilities.success) throw new Error("capabilities must be an object of booleans");
  const baseCapabilities = base?.capabilities ?? CUSTOM_CAPABILITIES;
  const merged = Object.fromEntries(
    CAPABILITY_NAMES.map((name) => [name, capabilities.data[name] ?? baseCapabilities[name]]),
  ) as Capabilities;

  return freezeModel({
    kind,
    id: row.modelId,
    name: row.displayName ?? base?.name ?? row.modelId,
    prices,
    derivedPrices,
    contextWindow: row.contextWindow ?? base?.contextWindow ?? null,
    maxOutput: row.maxOutput ?? base?.maxOutput ?? null,
    capabilities: merged,
    source: base?.source ?? "custom",
    providerId,
    overridden: true,
    enabled: row.enabled ?? true,
  });
}

function price(value: DecimalLike, field: string): string {
  const units = parseDecimal(value);
  if (units < 0n) throw new Error(`${field} price must not be negative`);
  return decimalToString(units);
}
