/**
 * Routing benchmark: how many strong-model calls the learned cascade classifier needs to keep quality.
 *
 *   npm run -s bench:routing -- --train FILE --data FILE [--limit N] [--ratio 0.95] [--folds 5]
 *
 * Files are JSON lines `{"prompt": "...", "strong_correct": bool, "weak_correct": bool, ...}` (the RouteLLM format of
 * ../shared/data/routing/routellm-dev.jsonl). The classifier (server/routing/classifier/learned.ts, the one cascade
 * policies use) trains on `--train` — one prompt per line, the weak model's outcome as tier 0's label and the
 * strong model's as tier 1's — and picks its threshold there by cross-validation, to keep quality ≥ ratio × the
 * strong model's. Then it routes every prompt of `--data`, seeing only the prompt; that file's labels are used for
 * scoring and nothing else. Prints one JSON object: strong_share, quality, quality_ratio (and context).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { hashedNgrams } from "../server/routing/classifier/features";
import { learnedClassifier, trainLearned, type TrainingDocument } from "../server/routing/classifier/learned";

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
  train: { rows: number; cv_quality_ratio: number; cv_strong_share: number; seconds: number };
  data: { rows: number };
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

export async function runRoutingBench(options: { train: Row[]; data: Row[]; ratio?: number; folds?: number }): Promise<RoutingBenchResult> {
  const extractor = hashedNgrams();
  const started = performance.now();
  const documents: TrainingDocument[] = options.train.map((row) => ({
    features: extractor.extract(row.prompt),
    labels: [row.weak_correct ? 1 : 0, row.strong_correct ? 1 : 0],
  }));
  const model = await trainLearned(documents, {
    tiers: 2,
    dimensions: extractor.dimensions,
    minQualityRatio: options.ratio ?? 0.95,
    ...(options.folds ? { folds: options.folds } : {}),
  });
  const trainSeconds = (performance.now() - started) / 1000;
  const classifier = learnedClassifier(model, extractor);

  let strong = 0;
  let quality = 0;
  let strongOnly = 0;
  let weakOnly = 0;
  for (const row of options.data) {
    // Only the prompt reaches the classifier; the labels score its choice afterwards.
    const tier = classifier.classifyFeatures(extractor.extract(row.prompt), 2).tier;
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
    train: {
      rows: options.train.length,
      cv_quality_ratio: round(model.metrics.qualityRatio),
      cv_strong_share: round(model.metrics.tierShares[1] ?? 0),
      seconds: Math.round(trainSeconds * 10) / 10,
    },
    data: { rows: n },
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      train: { type: "string" },
      data: { type: "string" },
      limit: { type: "string" },
      ratio: { type: "string" },
      folds: { type: "string" },
    },
  });
  if (!values.train || !values.data) {
    console.error("usage: bench/routing.ts --train FILE --data FILE [--limit N] [--ratio 0.95] [--folds 5]");
    process.exit(2);
  }
  const limit = values.limit ? Number(values.limit) : undefined;
  const result = await runRoutingBench({
    train: readRows(values.train, limit),
    data: readRows(values.data, limit),
    ...(values.ratio ? { ratio: Number(values.ratio) } : {}),
    ...(values.folds ? { folds: Number(values.folds) } : {}),
  });
  console.log(JSON.stringify(result));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
