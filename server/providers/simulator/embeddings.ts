/**
 * Deterministic embeddings: a signed, hashed bag of words (plus word bigrams), L2-normalised. Texts that
 * share words are close in cosine similarity, identical texts are identical vectors — enough for semantic
 * cache tests without a model.
 */
import { fnv1a } from "./compose";

function features(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const out = [...words];
  for (let i = 1; i < words.length; i += 1) out.push(`${words[i - 1]} ${words[i]}`);
  return out;
}

/** A unit vector of `dimensions` components for `text`. */
export function embedText(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const feats = features(text);
  if (feats.length === 0) {
    // Empty input still gets a valid unit vector, the same one every time.
    vector[0] = 1;
    return vector;
  }
  for (const feature of feats) {
    const h = fnv1a(feature);
    const bucket = h % dimensions;
    const sign = (fnv1a(feature, 0x9747b28c) & 1) === 0 ? 1 : -1;
    // Bigrams weigh less than words so word overlap dominates similarity.
    vector[bucket]! += sign * (feature.includes(" ") ? 0.5 : 1);
  }
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm);
  if (norm === 0) {
    vector[0] = 1;
    return vector;
  }
  return vector.map((v) => v / norm);
}

/** OpenAI's `encoding_format: "base64"`: little-endian float32 array, base64-encoded. */
export function toBase64Float32(vector: readonly number[]): string {
  const buffer = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => buffer.writeFloatLE(v, i * 4));
  return buffer.toString("base64");
}
