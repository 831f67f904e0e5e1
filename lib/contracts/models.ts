/** The model catalog (with overrides applied) and the admin overrides: prices, limits, enabled flags. */
import { z } from "zod";
import { CAPABILITY_NAMES, PROVIDER_KINDS } from "../config-file";
import { decimalString, id, optionalText } from "./common";

export { CAPABILITY_NAMES };

export const catalogListInput = z.object({
  kind: z.enum(PROVIDER_KINDS).optional(),
  /** Entries scoped to one provider account, plus its kind's entries. */
  providerId: id.optional(),
  query: optionalText(128),
  capability: z.enum(CAPABILITY_NAMES).optional(),
  includeDisabled: z.boolean().default(true),
  limit: z.number().int().min(1).max(500).default(100),
  offset: z.number().int().min(0).default(0),
});
export type CatalogListInput = z.input<typeof catalogListInput>;

const price = decimalString.nullish();
const tokens = z.number().int().positive().max(2_147_483_647).nullish();

/** Upsert by (provider, model): null/absent prices keep the catalog's. */
export const overrideUpsertInput = z.object({
  /** null: the override applies to this model id under every provider. */
  providerId: id.nullable(),
  modelId: z.string().trim().min(1).max(256),
  displayName: optionalText(256),
  inputPrice: price,
  outputPrice: price,
  cacheReadPrice: price,
  cacheWritePrice: price,
  batchInputPrice: price,
  batchOutputPrice: price,
  contextWindow: tokens,
  maxOutput: tokens,
  enabled: z.boolean().default(true),
});
export type OverrideUpsertInput = z.input<typeof overrideUpsertInput>;

export const setModelEnabledInput = z.object({
  providerId: id.nullable(),
  modelId: z.string().trim().min(1).max(256),
  enabled: z.boolean(),
});
