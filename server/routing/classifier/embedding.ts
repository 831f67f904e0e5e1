/**
 * Dense features for the learned classifier: the prompt's sentence embedding from the local USE-lite model
 * (server/embeddings/local.ts, 512-d, offline), next to the hashed n-grams. Embedding costs milliseconds of CPU
 * (~20 ms for a short prompt, ~80 ms for 500 characters on one core), so it is asynchronous and the data plane
 * computes it only for calls of a learned cascade policy.
 */
import type { Embedder } from "../../embeddings/local";
import { hashedNgrams, type FeatureExtractor, type PromptFeatures } from "./features";

/** Characters of a prompt that are embedded (its head carries its kind and topic; the cost grows with length). */
export const EMBED_CHARS = 800;

/** The text the embedder sees. */
export function embedText(text: string): string {
  return text.slice(0, EMBED_CHARS);
}

/** Hashed n-grams plus the embedding of the prompt's head. */
export function withEmbeddings(embedder: Embedder, base: FeatureExtractor = hashedNgrams()): FeatureExtractor {
  return {
    name: `${base.name}+${embedder.id}`,
    dimensions: base.dimensions,
    denseDimensions: embedder.dimensions,
    extract: (text) => base.extract(text),
    async extractAll(text): Promise<PromptFeatures> {
      const [vector] = await embedder.embed([embedText(text)]);
      return { ...base.extract(text), dense: Float32Array.from(vector!) };
    },
  };
}
