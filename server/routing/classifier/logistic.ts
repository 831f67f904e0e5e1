/**
 * TF-IDF weighting and L2-regularised logistic regression over sparse hashed features, trained by stochastic
 * gradient descent with AdaGrad step sizes (seeded: same data, same model). Small enough to retrain a
 * policy's classifier in the background from its feedback in seconds.
 */
import type { SparseCounts } from "./features";

/** A TF-IDF row: (1 + ln count) × idf, L2-normalised; plus the prompt's dense features when the model has them. */
export interface SparseRow {
  indices: Uint32Array;
  values: Float32Array;
  dense?: Float32Array;
}

/** idf per bucket from the documents' counts; a bucket no document has gets the largest idf. */
export function fitIdf(documents: readonly SparseCounts[], dimensions: number): Float32Array {
  const df = new Uint32Array(dimensions);
  for (const doc of documents) for (const index of doc.indices) df[index]! += 1;
  const n = documents.length;
  const idf = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) idf[i] = Math.log((1 + n) / (1 + df[i]!)) + 1;
  return idf;
}

export function tfidf(doc: SparseCounts & { dense?: Float32Array }, idf: Float32Array): SparseRow {
  const values = new Float32Array(doc.indices.length);
  let norm = 0;
  for (let i = 0; i < values.length; i++) {
    const v = (1 + Math.log(doc.counts[i]!)) * idf[doc.indices[i]!]!;
    values[i] = v;
    norm += v * v;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < values.length; i++) values[i]! /= norm;
  return doc.dense ? { indices: doc.indices, values, dense: doc.dense } : { indices: doc.indices, values };
}

export interface LogisticModel {
  weights: Float32Array;
  bias: number;
  /** Weights of the dense features (absent: the model ignores them; a row without them contributes nothing). */
  dense?: Float32Array;
}

export interface LogisticOptions {
  /** L2 penalty, applied to the weights a row touches at each of its updates. */
  l2: number;
  /** Passes over the data (rows visited in a seeded shuffled order). */
  epochs: number;
  learningRate: number;
  seed: number;
  /** Dense features per row (0: none); their step size and L2 penalty. */
  denseDimensions: number;
  denseLearningRate: number;
  denseL2: number;
}

export const DEFAULT_LOGISTIC: LogisticOptions = { l2: 1e-4, epochs: 12, learningRate: 0.2, seed: 1, denseDimensions: 0, denseLearningRate: 0.05, denseL2: 1e-4 };

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

export function score(model: LogisticModel, row: SparseRow): number {
  let z = model.bias;
  for (let i = 0; i < row.indices.length; i++) z += model.weights[row.indices[i]!]! * row.values[i]!;
  if (model.dense && row.dense) z += dot(model.dense, row.dense);
  return sigmoid(z);
}

function dot(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  let z = 0;
  for (let i = 0; i < n; i++) z += a[i]! * b[i]!;
  return z;
}

/**
 * Fits P(y = 1 | row) by stochastic gradient descent with AdaGrad step sizes; `targets` are in [0, 1] (a graded
 * score is a soft label). Deterministic for a given seed. Synchronous: for the request-serving process use
 * `trainLogisticAsync`, which yields to the event loop between slices of rows.
 */
export function trainLogistic(
  rows: readonly SparseRow[],
  targets: ArrayLike<number>,
  dimensions: number,
  options: Partial<LogisticOptions> = {},
): LogisticModel {
  const steps = sgd(rows, targets, dimensions, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

export async function trainLogisticAsync(
  rows: readonly SparseRow[],
  targets: ArrayLike<number>,
  dimensions: number,
  options: Partial<LogisticOptions> = {},
): Promise<LogisticModel> {
  const steps = sgd(rows, targets, dimensions, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Rows between yields (a few milliseconds of work). */
const SLICE = 2_000;

function* sgd(rows: readonly SparseRow[], targets: ArrayLike<number>, dimensions: number, options: Partial<LogisticOptions>): Generator<void, LogisticModel> {
  const { l2, epochs, learningRate, seed, denseDimensions, denseLearningRate, denseL2 } = { ...DEFAULT_LOGISTIC, ...options };
  const n = rows.length;
  const weights = new Float32Array(dimensions);
  const accumulated = new Float32Array(dimensions).fill(1e-6);
  const dense = new Float32Array(denseDimensions);
  const denseAccumulated = new Float32Array(denseDimensions).fill(1e-6);
  let bias = 0;
  let biasAccumulated = 1e-6;
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  const random = mulberry32(seed);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    for (let k = 0; k < n; k++) {
      if (k > 0 && k % SLICE === 0) yield;
      const r = order[k]!;
      const { indices, values, dense: x } = rows[r]!;
      let z = bias;
      for (let i = 0; i < indices.length; i++) z += weights[indices[i]!]! * values[i]!;
      if (x && denseDimensions > 0) z += dot(dense, x);
      const residual = sigmoid(z) - targets[r]!;
      for (let i = 0; i < indices.length; i++) {
        const j = indices[i]!;
        const g = residual * values[i]! + l2 * weights[j]!;
        accumulated[j]! += g * g;
        weights[j]! -= (learningRate * g) / Math.sqrt(accumulated[j]!);
      }
      if (x && denseDimensions > 0) {
        const m = Math.min(denseDimensions, x.length);
        for (let j = 0; j < m; j++) {
          const g = residual * x[j]! + denseL2 * dense[j]!;
          denseAccumulated[j]! += g * g;
          dense[j]! -= (denseLearningRate * g) / Math.sqrt(denseAccumulated[j]!);
        }
      }
      biasAccumulated += residual * residual;
      bias -= (learningRate * residual) / Math.sqrt(biasAccumulated);
    }
  }
  return denseDimensions > 0 ? { weights, bias, dense } : { weights, bias };
}

/** A small seeded PRNG (mulberry32) so training is reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
