/**
 * Entries the dataset lacks: OpenAI's embedding models (models.dev lists generation models only), and the
 * simulator's models, which copy the prices of real models so demos and benchmarks cost like production.
 */
import type { ProviderKind } from "./kinds";
import { deriveBatchPrices, freezeModel, type CatalogModel } from "./model";

const EMBEDDING_CAPABILITIES = {
  tools: false,
  vision: false,
  json: false,
  reasoning: false,
  streaming: false,
  embeddings: true,
} as const;

/** OpenAI embedding models; prices from https://platform.openai.com/docs/pricing (USD per 1M input tokens). */
const OPENAI_EMBEDDINGS = [
  { id: "text-embedding-3-small", name: "Text Embedding 3 Small", input: "0.02" },
  { id: "text-embedding-3-large", name: "Text Embedding 3 Large", input: "0.13" },
  { id: "text-embedding-ada-002", name: "Text Embedding Ada 002", input: "0.1" },
] as const;

export function supplementModels(): CatalogModel[] {
  return OPENAI_EMBEDDINGS.map(({ id, name, input }) => {
    const { prices, derivedPrices } = deriveBatchPrices("openai", { input, output: "0" });
    return freezeModel({
      kind: "openai",
      id,
      name,
      prices,
      derivedPrices,
      contextWindow: 8191,
      maxOutput: null,
      capabilities: EMBEDDING_CAPABILITIES,
      source: "supplement",
      providerId: null,
      overridden: false,
      enabled: true,
    });
  });
}

/** Simulator models and the real model whose prices, limits and capabilities each one mirrors. */
export const SIMULATOR_MODELS: readonly { id: string; name: string; mirrors: { kind: ProviderKind; id: string } }[] = [
  { id: "sim-small", name: "Simulator Small (priced as GPT-4o mini)", mirrors: { kind: "openai", id: "gpt-4o-mini" } },
  { id: "sim-large", name: "Simulator Large (priced as GPT-4o)", mirrors: { kind: "openai", id: "gpt-4o" } },
  {
    id: "sim-claude",
    name: "Simulator Claude (priced as Claude Sonnet 4)",
    mirrors: { kind: "anthropic", id: "claude-sonnet-4-20250514" },
  },
  {
    id: "sim-embed",
    name: "Simulator Embeddings (priced as Text Embedding 3 Small)",
    mirrors: { kind: "openai", id: "text-embedding-3-small" },
  },
];

/** Builds the simulator entries from the entries they mirror; a mirror missing from `find` is reported. */
export function simulatorModels(find: (kind: ProviderKind, id: string) => CatalogModel | undefined): {
  models: CatalogModel[];
  issues: string[];
} {
  const models: CatalogModel[] = [];
  const issues: string[] = [];
  for (const sim of SIMULATOR_MODELS) {
    const source = find(sim.mirrors.kind, sim.mirrors.id);
    if (!source) {
      const mirrored = `${sim.mirrors.kind}/${sim.mirrors.id}`;
      issues.push(`simulator model ${sim.id}: mirrored model ${mirrored} is not in the dataset`);
      continue;
    }
    models.push(
      freezeModel({
        ...source,
        kind: "simulator",
        id: sim.id,
        name: sim.name,
        // The source's batch prices are copied as they are (derived or published) and stay marked the same way.
        prices: { ...source.prices },
        derivedPrices: [...source.derivedPrices],
        capabilities: { ...source.capabilities },
        source: "simulator",
      }),
    );
  }
  return { models, issues };
}
