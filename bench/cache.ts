/**
 * Semantic cache benchmark: `npm run -s bench:cache -- --paraphrases FILE --pairs FILE [--embedder local|hashing]
 * [--threshold T] [--quick]`. Prints ONE JSON object on stdout (progress on stderr).
 *
 * - `--paraphrases` (JSON lines `{"a","b"}`, b paraphrases a): every `a` goes into one cache (one tenant, one
 *   context), then each `b` is looked up. A hit is correct when it returns its own `a` (rows whose `a` texts are
 *   identical share one entry, as identical requests do in the cache). precision = correct / hits,
 *   recall = correct / rows.
 * - `--pairs` (JSON lines `{"a","b","duplicate"}`): each pair alone, a cache holding only its `a`, look up `b`.
 *   false_hit_rate = hits on non-duplicates / non-duplicates; hard_recall = hits on duplicates / duplicates.
 * - lookup_p95_ms: one lookup as the gateway does it — embedding the request, nearest neighbours, verification.
 * The decision is the gateway's own (`matchSemantic` with a rule's default threshold and the embedder's scale);
 * a sweep over thresholds shows the trade-off.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createHashingEmbedder, createLocalEmbedder, type Embedder } from "../server/cache/embedder";
import { DEFAULT_THRESHOLD } from "../server/cache/rules";
import { matchSemantic, type MatchSettings } from "../server/cache/semantic-match";
import { VectorIndex } from "../server/cache/vector-index";

export interface ParaphraseRow {
  a: string;
  b: string;
}

export interface PairRow extends ParaphraseRow {
  duplicate: boolean;
}

export const TARGETS = { minPrecision: 0.99, minRecall: 0.7, maxFalseHitRate: 0.02 };
const SWEEP = [0.86, 0.88, 0.9, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.98];
/** Neighbours the cache considers per lookup (as the gateway does). */
const NEIGHBOURS = 4;

export function readJsonLines<T>(file: string): T[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);
}

interface Item {
  id: string;
  query: string;
  vector: Float32Array;
}

async function embedAll(embedder: Embedder, texts: string[], batch = 32): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += batch) out.push(...(await embedder.embed(texts.slice(i, i + batch))));
  return out;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

export interface BenchOptions {
  paraphrases: ParaphraseRow[];
  pairs: PairRow[];
  embedder: Embedder;
  /** The rule threshold (calibrated); the default rule's when omitted. */
  threshold?: number;
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void;
}

/** Runs both evaluations; returns the report the CLI prints. */
export async function runCacheBenchmark(options: BenchOptions) {
  const { embedder } = options;
  const progress = options.progress ?? (() => {});
  const settings: MatchSettings = { threshold: options.threshold ?? DEFAULT_THRESHOLD, distanceScale: embedder.distanceScale ?? 1 };

  // Paraphrases: one cache holding every distinct `a`.
  progress(`embedding ${options.paraphrases.length} paraphrase rows`);
  const distinct = [...new Set(options.paraphrases.map((r) => r.a))];
  const stored = await embedAll(embedder, distinct);
  const index = new VectorIndex<Item>(Math.max(10_000, distinct.length));
  distinct.forEach((query, i) => index.add("bench", { id: String(i), query, vector: stored[i]! }));

  // Lookups are timed one by one, embedding included, as the gateway runs them.
  const latencies: number[] = [];
  const lookups: Array<{ row: ParaphraseRow; neighbours: Array<{ item: Item; similarity: number }> }> = [];
  for (const row of options.paraphrases) {
    const started = performance.now();
    const [vector] = await embedder.embed([row.b]);
    const neighbours = index.search("bench", vector!, NEIGHBOURS);
    matchSemantic(row.b, neighbours, settings);
    latencies.push(performance.now() - started);
    lookups.push({ row, neighbours });
  }

  progress(`embedding ${options.pairs.length} pairs`);
  const pairA = await embedAll(embedder, options.pairs.map((r) => r.a));
  const pairB = await embedAll(embedder, options.pairs.map((r) => r.b));
  const pairNeighbours = options.pairs.map((row, i) => {
    const item: Item = { id: "a", query: row.a, vector: pairA[i]! };
    let similarity = 0;
    for (let j = 0; j < item.vector.length; j++) similarity += item.vector[j]! * pairB[i]![j]!;
    return { row, neighbours: [{ item, similarity }] };
  });

  const evaluate = (threshold: number) => {
    const s = { ...settings, threshold };
    let hits = 0;
    let correct = 0;
    for (const { row, neighbours } of lookups) {
      const match = matchSemantic(row.b, neighbours, s);
      if (!match.entry) continue;
      hits += 1;
      if (match.entry.query === row.a) correct += 1;
    }
    let falseHits = 0;
    let duplicateHits = 0;
    for (const { row, neighbours } of pairNeighbours) {
      if (!matchSemantic(row.b, neighbours, s).entry) continue;
      if (row.duplicate) duplicateHits += 1;
      else falseHits += 1;
    }
    const nonDuplicates = options.pairs.filter((r) => !r.duplicate).length;
    const duplicates = options.pairs.length - nonDuplicates;
    return {
      threshold,
      hits,
      correct,
      precision: hits === 0 ? 1 : round(correct / hits),
      recall: round(correct / Math.max(1, options.paraphrases.length)),
      false_hits: falseHits,
      false_hit_rate: round(falseHits / Math.max(1, nonDuplicates)),
      hard_recall: round(duplicateHits / Math.max(1, duplicates)),
    };
  };

  const main = evaluate(settings.threshold);
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    embedder: embedder.id,
    settings: { threshold: settings.threshold, distance_scale: settings.distanceScale, neighbours: NEIGHBOURS },
    paraphrase_rows: options.paraphrases.length,
    pair_rows: options.pairs.length,
    precision: main.precision,
    recall: main.recall,
    false_hit_rate: main.false_hit_rate,
    hard_recall: main.hard_recall,
    hits: main.hits,
    false_hits: main.false_hits,
    lookup_p50_ms: round(quantile(sorted, 0.5), 2),
    lookup_p95_ms: round(quantile(sorted, 0.95), 2),
    targets: TARGETS,
    meets_targets: main.precision >= TARGETS.minPrecision && main.recall >= TARGETS.minRecall && main.false_hit_rate <= TARGETS.maxFalseHitRate,
    sweep: SWEEP.map(evaluate),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      paraphrases: { type: "string" },
      pairs: { type: "string" },
      embedder: { type: "string", default: "local" },
      threshold: { type: "string" },
      quick: { type: "boolean", default: false },
    },
  });
  if (!values.paraphrases || !values.pairs) {
    process.stderr.write("usage: bench:cache -- --paraphrases FILE --pairs FILE [--embedder local|hashing] [--threshold T] [--quick]\n");
    process.exit(2);
  }
  if (values.embedder !== "local" && values.embedder !== "hashing") {
    process.stderr.write("--embedder must be local or hashing\n");
    process.exit(2);
  }
  let paraphrases = readJsonLines<ParaphraseRow>(values.paraphrases);
  let pairs = readJsonLines<PairRow>(values.pairs);
  // Quick mode (CI smoke test): the first rows only.
  if (values.quick) {
    paraphrases = paraphrases.slice(0, 60);
    pairs = pairs.slice(0, 200);
  }
  const embedder = values.embedder === "hashing" ? createHashingEmbedder() : createLocalEmbedder();
  const report = await runCacheBenchmark({
    paraphrases,
    pairs,
    embedder,
    ...(values.threshold ? { threshold: Number(values.threshold) } : {}),
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify({ ...report, quick: values.quick }, null, 2)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
