/**
 * Nearest-neighbour label rates over prompt embeddings: the third model of the learned classifier's blend. For a
 * prompt, the k training prompts most similar to it (cosine over the embeddings) vote on each tier: the tier's
 * smoothed rate of good answers among those neighbours that have a label for it. Neighbourhoods carry signal a linear
 * model over the embedding misses (clusters of hard prompts of one kind).
 *
 * The training vectors are kept with the model as int8 (unit vectors × 127, ≤ `maxStored` of them, 512 bytes each
 * for USE-lite): a brute-force scan over 10k of them takes ~12 ms on the shared dev machine.
 */

export interface NeighbourOptions {
  /** Neighbours per prompt. */
  k: number;
  /** Weight of the neighbour rate's logit in the blend (the linear models share 1 − weight). */
  weight: number;
  /** Pseudo-count of the tier's overall rate added to the neighbours' votes. */
  prior: number;
  /** Training vectors kept with the model at most (an evenly spaced subset of them beyond). */
  maxStored: number;
}

export const LEARNED_NEIGHBOURS: NeighbourOptions = { k: 100, weight: 0.3, prior: 2, maxStored: 10_000 };

export interface NeighbourSet {
  dimensions: number;
  tiers: number;
  count: number;
  /** count × dimensions, unit vectors scaled by 127. */
  vectors: Int8Array;
  /** count × tiers labels in [0, 1]; NaN where the tier has none. */
  labels: Float32Array;
  /** The overall rate per tier (the smoothing prior). */
  base: Float32Array;
  k: number;
  weight: number;
  prior: number;
}

export function unit(vector: Float32Array): Float32Array {
  let norm = 0;
  for (let j = 0; j < vector.length; j++) norm += vector[j]! * vector[j]!;
  norm = Math.sqrt(norm) || 1;
  return Float32Array.from(vector, (v) => v / norm);
}

/** Overall label rate per tier (0.5 where a tier has no label). */
export function baseRates(labels: ReadonlyArray<ReadonlyArray<number | null>>, tiers: number): Float32Array {
  const base = new Float32Array(tiers);
  for (let t = 0; t < tiers; t++) {
    let sum = 0;
    let n = 0;
    for (const l of labels) if (l[t] != null) (sum += l[t]!), (n += 1);
    base[t] = n > 0 ? sum / n : 0.5;
  }
  return base;
}

/** The stored neighbour set of a model: the training prompts with a dense vector (an evenly spaced subset beyond the cap). */
export function buildNeighbourSet(
  documents: ReadonlyArray<{ dense?: Float32Array; labels: ReadonlyArray<number | null> }>,
  tiers: number,
  dimensions: number,
  options: NeighbourOptions,
): NeighbourSet | null {
  const withDense = documents.filter((d) => d.dense);
  if (withDense.length === 0) return null;
  const step = Math.max(1, withDense.length / options.maxStored);
  const kept: typeof withDense = [];
  for (let x = 0; Math.floor(x) < withDense.length && kept.length < options.maxStored; x += step) kept.push(withDense[Math.floor(x)]!);
  const vectors = new Int8Array(kept.length * dimensions);
  const labels = new Float32Array(kept.length * tiers);
  kept.forEach((d, i) => {
    const u = unit(d.dense!);
    for (let j = 0; j < dimensions; j++) vectors[i * dimensions + j] = Math.max(-127, Math.min(127, Math.round((u[j] ?? 0) * 127)));
    for (let t = 0; t < tiers; t++) labels[i * tiers + t] = d.labels[t] ?? Number.NaN;
  });
  return {
    dimensions,
    tiers,
    count: kept.length,
    vectors,
    labels,
    base: baseRates(documents.map((d) => d.labels), tiers),
    k: options.k,
    weight: options.weight,
    prior: options.prior,
  };
}

/** Smoothed rate per tier among the given neighbours (indices into `labelOf`). */
export function ratesOf(neighbours: ArrayLike<number>, labelOf: (i: number, t: number) => number | null, base: ArrayLike<number>, prior: number): number[] {
  const rates: number[] = [];
  for (let t = 0; t < base.length; t++) {
    let sum = prior * base[t]!;
    let n = prior;
    for (let x = 0; x < neighbours.length; x++) {
      const label = labelOf(neighbours[x]!, t);
      if (label != null) (sum += label), (n += 1);
    }
    rates.push(n > 0 ? sum / n : base[t]!);
  }
  return rates;
}

/** The neighbour rate per tier for one prompt's dense vector (brute force over the stored set). */
export function neighbourRates(set: NeighbourSet, dense: Float32Array): number[] {
  const u = unit(dense);
  const { dimensions: d, count } = set;
  const top = new TopK(Math.min(set.k, count));
  for (let i = 0; i < count; i++) {
    let s = 0;
    const o = i * d;
    for (let j = 0; j < d; j++) s += set.vectors[o + j]! * u[j]!;
    top.push(s, i);
  }
  return ratesOf(top.indices(), (i, t) => {
    const v = set.labels[i * set.tiers + t]!;
    return Number.isNaN(v) ? null : v;
  }, set.base, set.prior);
}

/**
 * For cross-validation: every document's k nearest neighbours among the documents of the other folds (exactly the
 * training part of the fold it is tested in). One pass over the pairs; yields to the event loop between rows.
 * Documents without a dense vector get no neighbours.
 */
export async function outOfFoldNeighbours(dense: ReadonlyArray<Float32Array | undefined>, fold: readonly number[], k: number): Promise<Int32Array[]> {
  const n = dense.length;
  const units = dense.map((v) => (v ? unit(v) : null));
  const tops = units.map(() => new TopK(k));
  let work = 0;
  for (let i = 0; i < n; i++) {
    const a = units[i];
    if (!a) continue;
    const d = a.length;
    for (let j = i + 1; j < n; j++) {
      const b = units[j];
      if (!b || fold[i] === fold[j]) continue;
      let s = 0;
      for (let x = 0; x < d; x++) s += a[x]! * b[x]!;
      tops[i]!.push(s, j);
      tops[j]!.push(s, i);
    }
    work += (n - i) * d;
    if (work > 20_000_000) {
      work = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return tops.map((t) => t.indices());
}

/** The k largest scores seen, with their indices. */
class TopK {
  private readonly scores: Float64Array;
  private readonly ids: Int32Array;
  private size = 0;
  constructor(private readonly k: number) {
    this.scores = new Float64Array(k);
    this.ids = new Int32Array(k);
  }
  push(score: number, id: number): void {
    if (this.k === 0) return;
    if (this.size === this.k && score <= this.scores[this.size - 1]!) return;
    // Sorted descending; insertion from the end.
    let p = this.size < this.k ? this.size++ : this.k - 1;
    while (p > 0 && this.scores[p - 1]! < score) {
      this.scores[p] = this.scores[p - 1]!;
      this.ids[p] = this.ids[p - 1]!;
      p -= 1;
    }
    this.scores[p] = score;
    this.ids[p] = id;
  }
  indices(): Int32Array {
    return this.ids.slice(0, this.size);
  }
}
