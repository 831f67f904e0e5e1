/** Shared routing vocabulary: a target and how it is named in logs, headers and health keys. */
import type { CatalogModel } from "../catalog/model";
import type { ProviderConfig } from "../gateway/config";

export interface Target {
  provider: ProviderConfig;
  /** The provider's model id. */
  modelId: string;
  /** Catalog entry (prices, limits, capabilities); null for a model the catalog does not know. */
  model: CatalogModel | null;
}

/** "provider/model" as admins write it (logs, headers, explanations). */
export function targetLabel(target: Target): string {
  return `${target.provider.name}/${target.modelId}`;
}

/** The health key of a target: the provider's id (unique across organizations and databases) and the model id. */
export function targetId(target: Target): string {
  return `${target.provider.id}:${target.modelId}`;
}
