/**
 * Dense features for the learned classifier: the prompt's sentence embedding from the local USE-lite model
 * (server/embeddings/local.ts, 512-d, offline), next to the hashed n-grams. Embedding costs milliseconds of CPU
 * (~20 ms for a short prompt, ~80 ms for 500 characters on one core), so it is asynchronous and the data plane
 * computes it only for calls of a learned cascade policy.
 */
import { LRUCache } from "lru-cache";
import type { Embedder } from "../../embeddings/local";
import { hashedNgrams, type FeatureExtractor, type PromptFeatures } from "./features";

/** Characters of a prompt that are embedded (its head carries its kind and topic; the cost grows with length). */
export const EMBED_CHARS = 800;

/** The text the embedder sees. */
export function embedText(text: string): string {
  return text.slice(0, EMBED_CHARS);
}

/** Embeddings remembered per extractor (by the embedded text): 4,096 × 512 floats ≈ 8 MB. */
export const EMBEDDING_MEMO_ENTRIES = 4_096;

/**
 * Hashed n-grams plus the embedding of the prompt's head. Embeddings are remembered by text (an LRU; concurrent
 * requests for one text share one computation), so a prompt sent again — a retried or repeated request, a batch line
 * planned at submission and again when its result is recorded — is not embedded twice.
 */
export function withEmbeddings(embedder: Embedder, base: FeatureExtractor = hashedNgrams()): FeatureExtractor {
  const memo = new LRUCache<string, Promise<Float32Array>>({ max: EMBEDDING_MEMO_ENTRIES });
  const embed = (text: string): Promise<Float32Array> => {
    const key = embedText(text);
    let pending = memo.get(key);
    if (!pending) {
      pending = embedder.embed([key]).then(([vector]) => Float32Array.from(vector!));
      memo.set(key, pending);
      pending.catch(() => memo.delete(key)); // a failure is not remembered
    }
    return pending;
  };
  return {
    name: `${base.name}+${embedder.id}`,
    dimensions: base.dimensions,
    denseDimensions: embedder.dimensions,
    extract: (text) => base.extract(text),
    async extractAll(text): Promise<PromptFeatures> {
      const vector = await embed(text);
      return { ...base.extract(text), dense: vector.slice() };
    },
  };
}
