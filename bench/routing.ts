/**
 * Routing benchmark: how many strong-model calls the learned cascade classifier needs to keep quality.
 *
 *   npm run -s bench:routing -- --train FILE --data FILE [--limit N] [--ratio 0.95] [--folds 5] [--fold-seed 7]
 *       [--features embedding|lexical] [--cache DIR | --no-cache] [--holdout 0.3 --seed N] [--neighbours off|K:WEIGHT]
 *
 * Files are JSON lines `{"prompt": "...", "strong_correct": bool, "weak_correct": bool, ...}` (the RouteLLM format of
 * ../shared/data/routing/routellm-dev.jsonl). The classifier (server/routing/classifier/learned.ts, the one cascade
 * policies use) trains on `--train` — one prompt per line, the weak model's outcome as tier 0's label and the
 * strong model's as tier 1's — and picks its threshold there by cross-validation, to keep quality ≥ ratio × the
 * strong model's. Then it routes every prompt of `--data`, seeing only the prompt; that file's labels are used for
 * scoring and nothing else. Prints one JSON object: strong_share, quality, quality_ratio (and context).
 *
 * Features (`--features`): `embedding` (default) — hashed n-grams plus the local USE-lite sentence embedding, as a
 * cascade policy's data plane computes them — or `lexical` (n-grams only). Embeddings depend on the text alone and
 * are cached on disk (bench/routing-embeddings.ts; the first run over 10k prompts embeds for ~15 min on one core).
 * `--holdout F --seed N` (with the same file as --train and --data) trains on a random 1 − F of its lines and
 * routes the other F. `--neighbours` sets the nearest-neighbour model of the blend (embedding features only; default
 * server/routing/classifier/neighbours.ts LEARNED_NEIGHBOURS), `off` drops it. `--fold-seed` draws another assignment
 * of the training prompts to cross-validation folds (default 7, what a live policy's training uses): the
 * cross-validated figures move by about a point with it alone.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { localEmbedder } from "../server/embeddings/local";
import { embedText, withEmbeddings } from "../server/routing/classifier/embedding";
import { hashedNgrams, type PromptFeatures } from "../server/routing/classifier/features";
import { learnedClassifier, trainLearned, type TrainingDocument } from "../server/routing/classifier/learned";
import { mulberry32 } from "../server/routing/classifier/logistic";
import type { NeighbourOptions } from "../server/routing/classifier/neighbours";
import { DEFAULT_CACHE_DIR, embedTexts } from "./routing-embeddings";

interface Row {
  prompt: string;
  strong_correct: boolean;
  weak_correct: boolean;
}

export interface RoutingBenchResult {
  strong_share: number;
  quality: number;
  quality_ratio: number;
  strong_quality: number;
  weak_quality: number;
  threshold: number;
  features: "embedding" | "lexical";
  train: { rows: number; cv_quality_ratio: number; cv_strong_share: number; seconds: number };
  data: { rows: number };
  /** Time spent on features: n-grams, and embedding the prompts not found in the cache. */
  features_seconds: number;
}

export function readRows(file: string, limit?: number): Row[] {
  const rows: Row[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as Partial<Row>;
    if (typeof row.prompt !== "string" || typeof row.strong_correct !== "boolean" || typeof row.weak_correct !== "boolean") {
      throw new Error(`${file}: every line needs prompt, strong_correct and weak_correct`);
    }
    rows.push(row as Row);
    if (limit !== undefined && rows.length >= limit) break;
  }
  return rows;
}

/** A random split of rows (seeded): `fraction` of them held out. */
export function splitRows<T>(rows: readonly T[], fraction: number, seed: number): { train: T[]; holdout: T[] } {
  const random = mulberry32(seed);
  const train: T[] = [];
  const holdout: T[] = [];
  for (const row of rows) (random() < fraction ? holdout : train).push(row);
  return { train, holdout };
}

export interface RoutingBenchOptions {
  train: Row[];
  data: Row[];
  ratio?: number;
  folds?: number;
  /** Seed of the cross-validation fold assignment (trainLearned's `seed`). */
  foldSeed?: number;
  features?: "embedding" | "lexical";
  /** Embedding cache directory (null: none). */
  cache?: string | null;
  /** The neighbour model's settings (false: without it). */
  neighbours?: Partial<NeighbourOptions> | false;
}

export async function runRoutingBench(options: RoutingBenchOptions): Promise<RoutingBenchResult> {
  const kind = options.features ?? "embedding";
  const extractor = kind === "embedding" ? withEmbeddings(localEmbedder) : hashedNgrams();
  // The same features the data plane computes (extractAll), with the embeddings looked up in the cache first.
  const embedStarted = performance.now();
  const featuresOf = async (rows: Row[]): Promise<PromptFeatures[]> => {
    if (kind === "lexical") return rows.map((row) => extractor.extract(row.prompt));
    const vectors = await embedTexts(
      rows.map((row) => row.prompt),
      localEmbedder,
      { dir: options.cache === undefined ? DEFAULT_CACHE_DIR : options.cache, transform: embedText },
    );
    return rows.map((row, i) => ({ ...extractor.extract(row.prompt), dense: vectors[i]! }));
  };
  const trainFeatures = await featuresOf(options.train);
  const dataFeatures = await featuresOf(options.data);
  const embedSeconds = (performance.now() - embedStarted) / 1000;

  const started = performance.now();
  const documents: TrainingDocument[] = options.train.map((row, i) => ({
    features: trainFeatures[i]!,
    labels: [row.weak_correct ? 1 : 0, row.strong_correct ? 1 : 0],
  }));
  const model = await trainLearned(documents, {
    tiers: 2,
    dimensions: extractor.dimensions,
    denseDimensions: extractor.denseDimensions ?? 0,
    minQualityRatio: options.ratio ?? 0.95,
    ...(options.folds ? { folds: options.folds } : {}),
    ...(options.foldSeed !== undefined ? { seed: options.foldSeed } : {}),
    ...(options.neighbours !== undefined ? { neighbours: options.neighbours } : {}),
  });
  const trainSeconds = (performance.now() - started) / 1000;
  const classifier = learnedClassifier(model, extractor);

  let strong = 0;
  let quality = 0;
  let strongOnly = 0;
  let weakOnly = 0;
  for (const [i, row] of options.data.entries()) {
    // Only the prompt's features reach the classifier; the labels score its choice afterwards.
    const tier = classifier.classifyFeatures(dataFeatures[i]!, 2).tier;
    if (tier === 1) strong += 1;
    quality += Number(tier === 1 ? row.strong_correct : row.weak_correct);
    strongOnly += Number(row.strong_correct);
    weakOnly += Number(row.weak_correct);
  }
  const n = options.data.length;
  const round = (x: number) => Math.round(x * 10_000) / 10_000;
  return {
    strong_share: round(strong / n),
    quality: round(quality / n),
    quality_ratio: round(strongOnly > 0 ? quality / strongOnly : 1),
    strong_quality: round(strongOnly / n),
    weak_quality: round(weakOnly / n),
    threshold: round(model.threshold),
    features: kind,
    train: {
      rows: options.train.length,
      cv_quality_ratio: round(model.metrics.qualityRatio),
      cv_strong_share: round(model.metrics.tierShares[1] ?? 0),
      seconds: Math.round(trainSeconds * 10) / 10,
    },
    data: { rows: n },
    features_seconds: Math.round(embedSeconds * 10) / 10,
  };
}

/** `--neighbours off` or `K:WEIGHT` (e.g. 50:0.3). */
function neighbourOption(text: string): Partial<NeighbourOptions> | false {
  if (text === "off") return false;
  const [k, weight] = text.split(":").map(Number);
  if (!Number.isInteger(k) || !(k! > 0) || !Number.isFinite(weight)) throw new Error("--neighbours takes off or K:WEIGHT");
  return { k: k!, weight: weight! };
}

async function main() {
  const { values } = parseArgs({
    options: {
      train: { type: "string" },
      data: { type: "string" },
      limit: { type: "string" },
      ratio: { type: "string" },
      folds: { type: "string" },
      "fold-seed": { type: "string" },
      features: { type: "string" },
      cache: { type: "string" },
      "no-cache": { type: "boolean" },
      holdout: { type: "string" },
      seed: { type: "string" },
      neighbours: { type: "string" },
    },
  });
  const features = values.features ?? "embedding";
  const badFoldSeed = values["fold-seed"] !== undefined && !Number.isInteger(Number(values["fold-seed"]));
  if (!values.train || !values.data || (features !== "embedding" && features !== "lexical") || (values.holdout && values.train !== values.data) || badFoldSeed) {
    console.error(
      "usage: bench/routing.ts --train FILE --data FILE [--limit N] [--ratio 0.95] [--folds 5] [--fold-seed 7] [--features embedding|lexical] [--cache DIR | --no-cache] [--holdout 0.3 --seed 1 (same file as --train and --data)] [--neighbours off|K:WEIGHT]",
    );
    process.exit(2);
  }
  const limit = values.limit ? Number(values.limit) : undefined;
  let train = readRows(values.train, limit);
  let data = values.holdout ? train : readRows(values.data, limit);
  if (values.holdout) ({ train, holdout: data } = splitRows(train, Number(values.holdout), Number(values.seed ?? 1)));
  const result = await runRoutingBench({
    train,
    data,
    features,
    cache: values["no-cache"] ? null : (values.cache ?? DEFAULT_CACHE_DIR),
    ...(values.ratio ? { ratio: Number(values.ratio) } : {}),
    ...(values.folds ? { folds: Number(values.folds) } : {}),
    ...(values["fold-seed"] ? { foldSeed: Number(values["fold-seed"]) } : {}),
    ...(values.neighbours ? { neighbours: neighbourOption(values.neighbours) } : {}),
  });
  console.log(JSON.stringify(result));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
