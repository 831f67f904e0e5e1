/**
 * The learned difficulty classifier of cascade policies, trained from outcome feedback (or, for evaluation, from a
 * labelled file). For every tier it fits P(good answer | prompt) — logistic regression over TF-IDF-weighted hashed
 * n-grams, blended (by logits) with one over the prompt's sentence embedding when the extractor provides it
 * (`embedding.ts`), and then with the label rates of the prompt's nearest training prompts by embedding
 * (`neighbours.ts`; out-of-fold neighbours in the cross-validation) — and routes a request to the cheapest tier
 * whose predicted quality is within `threshold` of the top tier's: start at tier i when p_top − p_i ≤ threshold.
 * The threshold is chosen on the training data alone, by k-fold cross-validation: the out-of-fold predictions are
 * routed at every candidate threshold, and the cheapest one whose quality stays ≥ `minQualityRatio` × the top tier's
 * quality wins.
 *
 * Feedback is partial (a call is scored on the tier that answered it), so quality at a threshold counts the label
 * when it exists for the chosen tier and the out-of-fold prediction otherwise.
 */
import type { RequestProfile } from "../profile";
import type { FeatureExtractor, PromptFeatures } from "./features";
import { fitIdf, mulberry32, score, sigmoid, tfidf, trainLogisticAsync, type LogisticModel, type LogisticOptions, type SparseRow } from "./logistic";
import { baseRates, buildNeighbourSet, LEARNED_NEIGHBOURS, neighbourRates, outOfFoldNeighbours, ratesOf, type NeighbourOptions, type NeighbourSet } from "./neighbours";
import type { Difficulty, DifficultyClassifier } from "./types";

/** One prompt and what each tier scored on it (null: not observed). Scores are in [0, 1]. */
export interface TrainingDocument {
  features: PromptFeatures;
  labels: Array<number | null>;
}

export interface TrainOptions {
  tiers: number;
  dimensions: number;
  /** Length of the documents' dense vectors (0 or absent: lexical only). */
  denseDimensions?: number;
  minQualityRatio: number;
  /** Cross-validation folds for the threshold. */
  folds?: number;
  seed?: number;
  logistic?: Partial<LogisticOptions>;
  /** Settings of the dense model (when the documents carry dense vectors). */
  dense?: Partial<DenseOptions>;
  /** The nearest-neighbour model over the dense vectors (`neighbours.ts`); false: without it. */
  neighbours?: Partial<NeighbourOptions> | false;
}

export interface DenseOptions {
  epochs: number;
  learningRate: number;
  l2: number;
  /** Weight of the dense model's logit in the blend (the lexical model's is 1 − weight). */
  weight: number;
}

export interface LearnedMetrics {
  documents: number;
  /** Labelled documents per tier. */
  labelled: number[];
  threshold: number;
  /** Cross-validated: quality of the routed answers, of the top tier alone, their ratio, and the share per tier. */
  quality: number;
  topQuality: number;
  qualityRatio: number;
  tierShares: number[];
}

export interface LearnedModel {
  extractor: string;
  dimensions: number;
  denseDimensions: number;
  /**
   * The mean dense vector of the training prompts: stands in for a prompt classified without one (a synchronous
   * caller — dry runs, batch planning — or a failed embedding), so the embedding model adds its average logit.
   */
  denseMean?: Float32Array;
  tiers: number;
  idf: Float32Array;
  /** One model per tier; null for a tier without labels (never chosen, except the top one as a last resort). */
  models: Array<LogisticModel | null>;
  /** Training prompts' embeddings and labels for the neighbour rates (with dense vectors only). */
  neighbours?: NeighbourSet;
  threshold: number;
  metrics: LearnedMetrics;
}

/** Logistic regression settings that did best in cross-validation on the RouteLLM development data. */
export const LEARNED_LOGISTIC: Partial<LogisticOptions> = { l2: 0, epochs: 5, learningRate: 0.05 };
/**
 * With dense vectors (sentence embeddings) a second logistic model is fitted on them alone, with its own schedule,
 * and the two are blended by their logits — which is again one linear model (weights scaled and concatenated).
 */
export const LEARNED_DENSE: DenseOptions = { epochs: 30, learningRate: 0.05, l2: 1e-3, weight: 0.35 };

const MIN_LABELS = 10;

/** Trains per-tier models and picks the threshold; throws when the top tier or the cheapest has too few labels. */
export async function trainLearned(documents: readonly TrainingDocument[], options: TrainOptions): Promise<LearnedModel> {
  const { tiers, dimensions } = options;
  const folds = Math.max(2, options.folds ?? 5);
  const denseDimensions = options.denseDimensions ?? 0;
  const logistic = { ...LEARNED_LOGISTIC, ...options.logistic, denseDimensions: 0 };
  const dense = denseDimensions > 0 ? { ...LEARNED_DENSE, ...options.dense, dimensions: denseDimensions } : null;
  const knn = dense && options.neighbours !== false ? { ...LEARNED_NEIGHBOURS, ...options.neighbours } : null;
  const labelled = Array.from({ length: tiers }, (_, t) => documents.filter((d) => d.labels[t] != null).length);
  if (labelled[0]! < MIN_LABELS || labelled[tiers - 1]! < MIN_LABELS) {
    throw new Error(`needs at least ${MIN_LABELS} labelled prompts on the cheapest and on the top tier (have ${labelled[0]} and ${labelled[tiers - 1]})`);
  }

  // Out-of-fold predictions: every document scored by models that never saw it.
  const random = mulberry32(options.seed ?? 7);
  const fold = documents.map(() => Math.floor(random() * folds));
  const oof = documents.map(() => new Array<number | null>(tiers).fill(null));
  // Neighbours of a document among the other folds' (its fold's training part) — never itself or its own fold.
  const near = knn && knn.weight > 0 ? await outOfFoldNeighbours(documents.map((d) => d.features.dense), fold, knn.k) : null;
  const labelOf = (j: number, t: number) => documents[j]!.labels[t] ?? null;
  for (let f = 0; f < folds; f++) {
    const train = documents.filter((_, i) => fold[i] !== f);
    const test = documents.map((d, i) => ({ d, i })).filter(({ i }) => fold[i] === f);
    const fitted = await fitTiers(train, tiers, dimensions, logistic, dense);
    const base = baseRates(train.map((d) => d.labels), tiers);
    for (const { d, i } of test) {
      const rates = near && d.features.dense ? ratesOf(near[i]!, labelOf, base, knn!.prior) : null;
      oof[i] = predictWith(fitted, d.features, rates, knn?.weight ?? 0);
    }
  }
  const choice = chooseThreshold(documents, oof, tiers, options.minQualityRatio);
  const final = await fitTiers(documents, tiers, dimensions, logistic, dense);
  const neighbours =
    near && knn ? buildNeighbourSet(documents.map((d) => ({ ...(d.features.dense ? { dense: d.features.dense } : {}), labels: d.labels })), tiers, denseDimensions, knn) : null;
  return {
    extractor: "",
    dimensions,
    denseDimensions,
    ...(denseDimensions > 0 ? { denseMean: meanDense(documents, denseDimensions) } : {}),
    tiers,
    idf: final.idf,
    models: final.models,
    ...(neighbours ? { neighbours } : {}),
    threshold: choice.threshold,
    metrics: { documents: documents.length, labelled, ...choice },
  };
}

async function fitTiers(
  documents: readonly TrainingDocument[],
  tiers: number,
  dimensions: number,
  logistic: Partial<LogisticOptions>,
  dense: (DenseOptions & { dimensions: number }) | null,
) {
  const idf = fitIdf(documents.map((d) => d.features), dimensions);
  const rows = documents.map((d) => tfidf(d.features, idf));
  const denseRows: SparseRow[] | null = dense
    ? documents.map((d) => ({ indices: EMPTY_INDICES, values: EMPTY_VALUES, ...(d.features.dense ? { dense: d.features.dense } : {}) }))
    : null;
  const models: Array<LogisticModel | null> = [];
  for (let t = 0; t < tiers; t++) {
    const index = documents.map((d, i) => (d.labels[t] != null ? i : -1)).filter((i) => i >= 0);
    if (index.length < MIN_LABELS) {
      models.push(null);
      continue;
    }
    const targets = index.map((i) => documents[i]!.labels[t]!);
    const lexical = await trainLogisticAsync(index.map((i) => rows[i]!), targets, dimensions, { ...logistic, seed: 11 + t });
    if (!dense || !denseRows) {
      models.push(lexical);
      continue;
    }
    const semantic = await trainLogisticAsync(index.map((i) => denseRows[i]!), targets, 0, {
      epochs: dense.epochs,
      denseDimensions: dense.dimensions,
      denseLearningRate: dense.learningRate,
      denseL2: dense.l2,
      seed: 21 + t,
    });
    models.push(blend(lexical, semantic, dense.weight));
  }
  return { idf, models };
}

const EMPTY_INDICES = new Uint32Array();
const EMPTY_VALUES = new Float32Array();

/** One linear model whose logit is (1 − w) × the lexical model's + w × the dense model's. */
function blend(lexical: LogisticModel, semantic: LogisticModel, weight: number): LogisticModel {
  const weights = lexical.weights.map((v) => v * (1 - weight));
  const dense = semantic.dense!.map((v) => v * weight);
  return { weights, bias: (1 - weight) * lexical.bias + weight * semantic.bias, dense };
}

/**
 * Predicted quality per tier from fitted models; with neighbour rates, blended by logits: (1 − w) × the linear
 * model's + w × the rate's.
 */
function predictWith(fitted: Pick<LearnedModel, "idf" | "models">, features: PromptFeatures, rates: number[] | null = null, weight = 0): Array<number | null> {
  const row: SparseRow = tfidf(features, fitted.idf);
  return fitted.models.map((m, t) => {
    if (!m) return null;
    const p = score(m, row);
    if (!rates || weight <= 0) return p;
    return sigmoid((1 - weight) * logit(p) + weight * logit(rates[t]!));
  });
}

function logit(p: number): number {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
}

/** The cheapest tier allowed by the threshold, given per-tier predicted quality. */
export function pickTier(predicted: ReadonlyArray<number | null>, threshold: number): number {
  const top = predicted.length - 1;
  const best = predicted[top];
  if (best == null) return top;
  for (let t = 0; t < top; t++) {
    const p = predicted[t];
    if (p != null && best - p <= threshold) return t;
  }
  return top;
}

function chooseThreshold(documents: readonly TrainingDocument[], oof: Array<Array<number | null>>, tiers: number, ratio: number) {
  const value = (i: number, t: number) => documents[i]!.labels[t] ?? oof[i]![t] ?? 0;
  const n = documents.length;
  let topQuality = 0;
  for (let i = 0; i < n; i++) topQuality += value(i, tiers - 1);
  topQuality /= n;
  // Candidate thresholds: the quality gaps that occur, so every distinct routing is considered once.
  const gaps = new Set<number>([-1, 1]);
  for (const p of oof) {
    const top = p[tiers - 1];
    if (top == null) continue;
    for (let t = 0; t < tiers - 1; t++) if (p[t] != null) gaps.add(top - p[t]!);
  }
  const candidates = [...gaps].sort((a, b) => a - b);
  const evaluate = (threshold: number) => {
    let quality = 0;
    const shares = new Array<number>(tiers).fill(0);
    for (let i = 0; i < n; i++) {
      const t = pickTier(oof[i]!, threshold);
      quality += value(i, t);
      shares[t]! += 1;
    }
    return { quality: quality / n, tierShares: shares.map((s) => s / n) };
  };
  // Quality falls as the threshold rises (fewer escalations): binary-search the largest threshold that holds.
  let lo = 0;
  let hi = candidates.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (evaluate(candidates[mid]!).quality >= ratio * topQuality) lo = mid;
    else hi = mid - 1;
  }
  const threshold = candidates[lo]!;
  const at = evaluate(threshold);
  return { threshold, quality: at.quality, topQuality, qualityRatio: topQuality > 0 ? at.quality / topQuality : 1, tierShares: at.tierShares };
}

/** Predicted quality per tier for one prompt. */
export function predictTiers(model: LearnedModel, features: PromptFeatures): Array<number | null> {
  // Neighbours need the prompt's own vector; without one, the linear models alone (the mean stands in for theirs).
  const rates = model.neighbours && features.dense ? neighbourRates(model.neighbours, features.dense) : null;
  return predictWith(model, !features.dense && model.denseMean ? { ...features, dense: model.denseMean } : features, rates, model.neighbours?.weight ?? 0);
}

function meanDense(documents: readonly TrainingDocument[], dimensions: number): Float32Array {
  const mean = new Float32Array(dimensions);
  let n = 0;
  for (const d of documents) {
    if (!d.features.dense) continue;
    n += 1;
    for (let j = 0; j < dimensions; j++) mean[j]! += d.features.dense[j] ?? 0;
  }
  if (n > 0) for (let j = 0; j < dimensions; j++) mean[j]! /= n;
  return mean;
}

/** The classifier a cascade policy uses once its model is trained. */
export interface LearnedClassifier extends DifficultyClassifier {
  /** The same decision from features already extracted (the gateway extracts once, to store them too). */
  /** `threshold` overrides the trained one (a policy may fix it). */
  classifyFeatures(features: PromptFeatures, tiers: number, threshold?: number): Difficulty;
  readonly model: LearnedModel;
}

export function learnedClassifier(model: LearnedModel, extractor: FeatureExtractor): LearnedClassifier {
  const classifyFeatures = (features: PromptFeatures, tiers: number, fixed?: number): Difficulty => {
    const threshold = fixed ?? model.threshold;
    const predicted = predictTiers(model, features);
    // The policy may have gained or lost tiers since training: map the model's top onto the policy's top.
    const tier = Math.min(tiers - 1, pickTier(predicted, threshold));
    const top = predicted[model.tiers - 1] ?? 0;
    const gain = top - (predicted[0] ?? top);
    return {
      tier: tier === model.tiers - 1 ? tiers - 1 : tier,
      score: gain,
      classifier: "learned",
      detail: `predicted quality ${predicted.map((p) => (p === null ? "-" : p.toFixed(2))).join("/")}, threshold ${threshold.toFixed(3)}`,
    };
  };
  return {
    name: "learned",
    // Synchronous: the lexical features only (a model with dense weights then predicts without them). The data
    // plane computes the full features first (`extractAll`) and calls classifyFeatures.
    classify: (profile: RequestProfile, tiers: number) => classifyFeatures(extractor.extract(profile.lastUserText), tiers),
    classifyFeatures,
    model,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Storage (RoutingModel.model): vectors as base64 of their non-default entries.

export interface StoredModel {
  version: 1;
  extractor: string;
  dimensions: number;
  denseDimensions?: number;
  /** base64 of the mean dense vector (float32 LE). */
  denseMean?: string;
  tiers: number;
  idfDefault: number;
  idf: { indices: string; values: string };
  /** `dense`: base64 of the dense weights (float32 LE). */
  models: Array<{ bias: number; indices: string; values: string; dense?: string } | null>;
  /** The neighbour set: `vectors` base64 of int8 (count × denseDimensions), `labels` and `base` of float32 LE. */
  neighbours?: { count: number; vectors: string; labels: string; base: string; k: number; weight: number; prior: number };
  threshold: number;
  metrics: LearnedMetrics;
}

export function serializeModel(model: LearnedModel, extractor: string): StoredModel {
  const idfDefault = maxOf(model.idf);
  return {
    version: 1,
    extractor,
    dimensions: model.dimensions,
    denseDimensions: model.denseDimensions,
    ...(model.denseMean ? { denseMean: base64Floats(model.denseMean) } : {}),
    tiers: model.tiers,
    idfDefault,
    idf: sparse(model.idf, (v) => v !== idfDefault),
    models: model.models.map((m) =>
      m ? { bias: m.bias, ...sparse(m.weights, (v) => v !== 0), ...(m.dense ? { dense: base64Floats(m.dense) } : {}) } : null,
    ),
    ...(model.neighbours
      ? {
          neighbours: {
            count: model.neighbours.count,
            vectors: Buffer.from(model.neighbours.vectors.buffer, model.neighbours.vectors.byteOffset, model.neighbours.vectors.byteLength).toString("base64"),
            labels: base64Floats(model.neighbours.labels),
            base: base64Floats(model.neighbours.base),
            k: model.neighbours.k,
            weight: model.neighbours.weight,
            prior: model.neighbours.prior,
          },
        }
      : {}),
    threshold: model.threshold,
    metrics: model.metrics,
  };
}

function neighboursOf(stored: StoredModel): NeighbourSet | undefined {
  const n = stored.neighbours;
  if (!n) return undefined;
  const dimensions = stored.denseDimensions ?? 0;
  const b = Buffer.from(n.vectors, "base64");
  const vectors = new Int8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  if (vectors.length !== n.count * dimensions) throw new Error("stored routing model is corrupt");
  return {
    dimensions,
    tiers: stored.tiers,
    count: n.count,
    vectors,
    labels: floatsOf(n.labels, n.count * stored.tiers),
    base: floatsOf(n.base, stored.tiers),
    k: n.k,
    weight: n.weight,
    prior: n.prior,
  };
}

export function deserializeModel(stored: StoredModel): LearnedModel {
  const idf = new Float32Array(stored.dimensions).fill(stored.idfDefault);
  dense(stored.idf, idf);
  return {
    extractor: stored.extractor,
    dimensions: stored.dimensions,
    denseDimensions: stored.denseDimensions ?? 0,
    ...(stored.denseMean ? { denseMean: floatsOf(stored.denseMean, stored.denseDimensions ?? 0) } : {}),
    tiers: stored.tiers,
    idf,
    models: stored.models.map((m) => {
      if (!m) return null;
      const weights = new Float32Array(stored.dimensions);
      dense(m, weights);
      if (!m.dense) return { weights, bias: m.bias };
      return { weights, bias: m.bias, dense: floatsOf(m.dense, stored.denseDimensions ?? 0) };
    }),
    ...(stored.neighbours ? { neighbours: neighboursOf(stored) } : {}),
    threshold: stored.threshold,
    metrics: stored.metrics,
  };
}

function base64Floats(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString("base64");
}

function floatsOf(text: string, length: number): Float32Array {
  const b = Buffer.from(text, "base64");
  // A copy: a Buffer's offset in its pool need not be aligned for a typed-array view.
  const values = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  if (values.length !== length) throw new Error("stored routing model is corrupt");
  return values;
}

/** The largest idf: that of every bucket no training document has, so it is the one value left implicit. */
function maxOf(values: Float32Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > max) max = v;
  return max;
}

function sparse(values: Float32Array, keep: (v: number) => boolean): { indices: string; values: string } {
  const indices: number[] = [];
  for (let i = 0; i < values.length; i++) if (keep(values[i]!)) indices.push(i);
  const idx = Uint32Array.from(indices);
  const vals = Float32Array.from(indices, (i) => values[i]!);
  return { indices: Buffer.from(idx.buffer).toString("base64"), values: Buffer.from(vals.buffer).toString("base64") };
}

function dense(stored: { indices: string; values: string }, into: Float32Array): void {
  const ib = Buffer.from(stored.indices, "base64");
  const vb = Buffer.from(stored.values, "base64");
  // Copies: a Buffer's offset in its pool need not be aligned for a typed-array view.
  const indices = new Uint32Array(ib.buffer.slice(ib.byteOffset, ib.byteOffset + ib.byteLength));
  const values = new Float32Array(vb.buffer.slice(vb.byteOffset, vb.byteOffset + vb.byteLength));
  if (indices.length !== values.length) throw new Error("stored routing model is corrupt");
  for (let i = 0; i < indices.length; i++) into[indices[i]!] = values[i]!;
}
