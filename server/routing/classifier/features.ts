/**
 * Feature extraction for the difficulty classifier. Pluggable: anything that turns a prompt into a sparse vector
 * of term counts can stand in (local sentence embeddings would be a dense extractor behind the same interface).
 * The default hashes lower-cased word unigrams and bigrams (numbers and punctuation are tokens too) into
 * 2^18 buckets: no vocabulary to ship, and a stored vector never contains the prompt's text.
 */

/** Term counts by bucket, indices ascending. */
export interface SparseCounts {
  indices: Uint32Array;
  counts: Uint16Array;
}

export interface FeatureExtractor {
  /** Identifies the extractor in stored models; a model only loads with the extractor it was trained with. */
  readonly name: string;
  readonly dimensions: number;
  extract(text: string): SparseCounts;
}

/** Text beyond this is ignored (the head of a prompt carries its kind and difficulty). */
const MAX_TEXT = 20_000;
/** Distinct buckets kept per prompt (the most frequent). */
const MAX_FEATURES = 4_096;

const TOKEN = /[\p{L}]+|\p{N}+|[^\s\p{L}\p{N}]/gu;

/** FNV-1a, 32 bits. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function hashedNgrams(bits = 18): FeatureExtractor {
  const dimensions = 2 ** bits;
  return {
    name: `hashed-ngrams-v1-${bits}`,
    dimensions,
    extract(text) {
      const tokens = text.slice(0, MAX_TEXT).toLowerCase().match(TOKEN) ?? [];
      const counts = new Map<number, number>();
      const add = (term: string) => {
        const index = hash(term) % dimensions;
        counts.set(index, (counts.get(index) ?? 0) + 1);
      };
      for (let i = 0; i < tokens.length; i++) {
        add(tokens[i]!);
        if (i > 0) add(`${tokens[i - 1]} ${tokens[i]}`);
      }
      let entries = [...counts.entries()];
      if (entries.length > MAX_FEATURES) entries = entries.sort((a, b) => b[1] - a[1]).slice(0, MAX_FEATURES);
      entries.sort((a, b) => a[0] - b[0]);
      return {
        indices: Uint32Array.from(entries, ([index]) => index),
        counts: Uint16Array.from(entries, ([, count]) => Math.min(count, 65_535)),
      };
    },
  };
}

/** Packs counts for storage (Feedback.features): base64 of [n, indices…, counts…] little-endian. */
export function encodeCounts(vector: SparseCounts): string {
  const n = vector.indices.length;
  const buffer = Buffer.alloc(4 + n * 6);
  buffer.writeUInt32LE(n, 0);
  for (let i = 0; i < n; i++) buffer.writeUInt32LE(vector.indices[i]!, 4 + i * 4);
  for (let i = 0; i < n; i++) buffer.writeUInt16LE(vector.counts[i]!, 4 + n * 4 + i * 2);
  return buffer.toString("base64");
}

/** The inverse of encodeCounts; null for anything malformed. */
export function decodeCounts(text: string, dimensions: number): SparseCounts | null {
  const buffer = Buffer.from(text, "base64");
  if (buffer.length < 4) return null;
  const n = buffer.readUInt32LE(0);
  if (buffer.length !== 4 + n * 6) return null;
  const indices = new Uint32Array(n);
  const counts = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    indices[i] = buffer.readUInt32LE(4 + i * 4);
    if (indices[i]! >= dimensions) return null;
    counts[i] = buffer.readUInt16LE(4 + n * 4 + i * 2);
  }
  return { indices, counts };
}
