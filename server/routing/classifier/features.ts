/**
 * Feature extraction for the difficulty classifier. Pluggable: an extractor turns a prompt into a sparse vector of
 * term counts (synchronously, always) and may add a dense vector (asynchronously: a sentence embedding, computed
 * only when a learned cascade policy needs it — see `embedding.ts`).
 * The lexical part hashes lower-cased word unigrams and bigrams (numbers and punctuation are tokens too) into
 * 2^18 buckets: no vocabulary to ship, and a stored vector never contains the prompt's text.
 */

/** Term counts by bucket, indices ascending. */
export interface SparseCounts {
  indices: Uint32Array;
  counts: Uint16Array;
}

/** A prompt's features: its term counts, and its dense vector when the extractor has one. */
export interface PromptFeatures extends SparseCounts {
  dense?: Float32Array;
}

export interface FeatureExtractor {
  /** Identifies the extractor in stored models; a model only loads with the extractor it was trained with. */
  readonly name: string;
  readonly dimensions: number;
  /** Length of the dense vector (0 or absent: lexical only). */
  readonly denseDimensions?: number;
  extract(text: string): SparseCounts;
  /** The full features, dense part included (extractors without one answer `extract`'s). */
  extractAll?(text: string): Promise<PromptFeatures>;
}

/** The full features of a prompt with any extractor. */
export async function extractAll(extractor: FeatureExtractor, text: string): Promise<PromptFeatures> {
  return extractor.extractAll ? extractor.extractAll(text) : extractor.extract(text);
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

/**
 * Packs features for storage (Feedback.features): base64 of [n, indices…, counts…] little-endian, then — when there
 * is a dense vector — [m (u32), scale (f32), m × int8] with value = int8 × scale (512 bytes for an embedding).
 */
export function encodeCounts(vector: PromptFeatures): string {
  const n = vector.indices.length;
  const m = vector.dense?.length ?? 0;
  const buffer = Buffer.alloc(4 + n * 6 + (m > 0 ? 8 + m : 0));
  buffer.writeUInt32LE(n, 0);
  for (let i = 0; i < n; i++) buffer.writeUInt32LE(vector.indices[i]!, 4 + i * 4);
  for (let i = 0; i < n; i++) buffer.writeUInt16LE(vector.counts[i]!, 4 + n * 4 + i * 2);
  if (m > 0) {
    const dense = vector.dense!;
    let max = 0;
    for (const v of dense) max = Math.max(max, Math.abs(v));
    const scale = max > 0 ? max / 127 : 1;
    const at = 4 + n * 6;
    buffer.writeUInt32LE(m, at);
    buffer.writeFloatLE(scale, at + 4);
    for (let j = 0; j < m; j++) buffer.writeInt8(Math.round(dense[j]! / scale), at + 8 + j);
  }
  return buffer.toString("base64");
}

/** The inverse of encodeCounts; null for anything malformed. */
export function decodeCounts(text: string, dimensions: number): PromptFeatures | null {
  const buffer = Buffer.from(text, "base64");
  if (buffer.length < 4) return null;
  const n = buffer.readUInt32LE(0);
  const at = 4 + n * 6;
  if (buffer.length < at) return null;
  let dense: Float32Array | undefined;
  if (buffer.length !== at) {
    if (buffer.length < at + 8) return null;
    const m = buffer.readUInt32LE(at);
    if (buffer.length !== at + 8 + m) return null;
    const scale = buffer.readFloatLE(at + 4);
    dense = new Float32Array(m);
    for (let j = 0; j < m; j++) dense[j] = buffer.readInt8(at + 8 + j) * scale;
  }
  const indices = new Uint32Array(n);
  const counts = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    indices[i] = buffer.readUInt32LE(4 + i * 4);
    if (indices[i]! >= dimensions) return null;
    counts[i] = buffer.readUInt16LE(4 + n * 4 + i * 2);
  }
  return dense ? { indices, counts, dense } : { indices, counts };
}
