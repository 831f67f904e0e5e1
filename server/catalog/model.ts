/**
 * The shape of a catalog entry, and the one rule that fills in batch prices.
 */
import { BATCH_KINDS, type ProviderKind } from "./kinds";
import { decimalToString, divRound, parseDecimal } from "./money";

export const CAPABILITY_NAMES = ["tools", "vision", "json", "reasoning", "streaming", "embeddings"] as const;
export type CapabilityName = (typeof CAPABILITY_NAMES)[number];
export type Capabilities = Readonly<Record<CapabilityName, boolean>>;

/**
 * Prices in USD per 1M tokens, as canonical decimal strings (exact; see money.ts). Optional prices fall back as
 * documented on `computeCost` in server/ledger/cost.ts (e.g. no cacheRead price = cached tokens cost as input).
 */
export interface ModelPrices {
  readonly input: string;
  readonly output: string;
  /** Reasoning tokens, when the provider prices them apart from output (a few xAI models). */
  readonly reasoning?: string;
  readonly cacheRead?: string;
  readonly cacheWrite?: string;
  readonly batchInput?: string;
  readonly batchOutput?: string;
  readonly batchCacheRead?: string;
  readonly batchCacheWrite?: string;
}

export const BATCH_PRICE_FIELDS = ["batchInput", "batchOutput", "batchCacheRead", "batchCacheWrite"] as const;
export type BatchPriceField = (typeof BATCH_PRICE_FIELDS)[number];

/** Standard price each batch price is derived from. */
const BATCH_BASIS: Readonly<Record<BatchPriceField, keyof ModelPrices>> = {
  batchInput: "input",
  batchOutput: "output",
  batchCacheRead: "cacheRead",
  batchCacheWrite: "cacheWrite",
};

/** Where an entry comes from: the models.dev dataset, our supplement, the simulator mirror, or an admin. */
export type CatalogSource = "dataset" | "supplement" | "simulator" | "custom";

export interface CatalogModel {
  readonly kind: ProviderKind;
  /** The provider's model id, as sent upstream ("gpt-4o-mini", "claude-sonnet-4-20250514"). */
  readonly id: string;
  readonly name: string;
  readonly prices: ModelPrices;
  /** Batch prices computed as 50% of the standard price (none published); empty when all are published. */
  readonly derivedPrices: readonly BatchPriceField[];
  /** Tokens (prompt + output) the model accepts; null when unknown. */
  readonly contextWindow: number | null;
  /** Most output tokens per response; null when unknown. */
  readonly maxOutput: number | null;
  readonly capabilities: Capabilities;
  readonly source: CatalogSource;
  /** Set when the entry applies to one provider account only (an admin override scoped to a provider). */
  readonly providerId: string | null;
  /** True when an admin override changed this entry. */
  readonly overridden: boolean;
  readonly enabled: boolean;
}

/**
 * Fills the batch prices a kind with a batch API lacks: each is half its standard price (OpenAI, Anthropic and
 * Gemini all bill batch at 50%, and the discount stacks on cache reads and writes). Kinds without a batch API get
 * no batch prices, so a batch call there is costed at standard prices.
 */
export function deriveBatchPrices(
  kind: ProviderKind,
  prices: ModelPrices,
): { prices: ModelPrices; derivedPrices: BatchPriceField[] } {
  if (!BATCH_KINDS.has(kind)) return { prices, derivedPrices: [] };
  const out: { -readonly [K in keyof ModelPrices]: ModelPrices[K] } = { ...prices };
  const derivedPrices: BatchPriceField[] = [];
  for (const field of BATCH_PRICE_FIELDS) {
    const basis = prices[BATCH_BASIS[field]];
    if (out[field] !== undefined || basis === undefined) continue;
    out[field] = decimalToString(divRound(parseDecimal(basis), 2n));
    derivedPrices.push(field);
  }
  return { prices: out, derivedPrices };
}

/** Freezes an entry (and its nested objects): catalogs are shared, cached data. */
export function freezeModel(model: CatalogModel): CatalogModel {
  Object.freeze(model.prices);
  Object.freeze(model.capabilities);
  Object.freeze(model.derivedPrices);
  return Object.freeze(model);
}
