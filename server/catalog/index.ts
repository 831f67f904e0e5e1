/** The model catalog's public surface; see catalog.ts for how it is built. */
export { Catalog, buildCatalog, loadCatalog, refreshCatalog, type CatalogFilter } from "./catalog";
export { applyOverrides, type ModelOverrideRow, type ProviderRef } from "./overrides";
export { BATCH_KINDS, MODELS_DEV_PROVIDERS, PROVIDER_KINDS, isProviderKind, type ProviderKind } from "./kinds";
export {
  CAPABILITY_NAMES,
  type BatchPriceField,
  type Capabilities,
  type CapabilityName,
  type CatalogModel,
  type CatalogSource,
  type ModelPrices,
} from "./model";
export { SIMULATOR_MODELS } from "./supplement";
export { DECIMAL_SCALE, decimalToString, normalizeDecimal, parseDecimal, type DecimalLike } from "./money";
