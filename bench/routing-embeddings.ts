/**
 * Prompt embeddings for the routing benchmark, cached on disk: embedding 10k prompts with the local USE-lite model
 * takes ~15 minutes on one core, and the vectors depend on the text alone (never on labels), so every run — and
 * every split of the same file — reuses them. Cache records are appended per process as
 * [sha1(text), 20 bytes][512 × float32 LE] to `<dir>/<embedder id>-<pid>.bin`; a truncated tail record is ignored.
 *
 *   npx tsx bench/routing-embeddings.ts FILE [--shard i/n]   # pre-fill the cache (run shards in parallel)
 */
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import type { Embedder } from "../server/embeddings/local";

export const DEFAULT_CACHE_DIR = path.resolve(import.meta.dirname, "../.switchyard/cache/routing-embeddings");

const key = (text: string) => createHash("sha1").update(text).digest("hex");

/** Every cached vector of `embedder` in `dir`, by sha1 of the text. */
export function loadEmbeddingCache(dir: string, embedder: Pick<Embedder, "id" | "dimensions">): Map<string, Float32Array> {
  const cache = new Map<string, Float32Array>();
  if (!existsSync(dir)) return cache;
  const record = 20 + embedder.dimensions * 4;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(`${embedder.id}-`) || !name.endsWith(".bin")) continue;
    const buffer = readFileSync(path.join(dir, name));
    for (let offset = 0; offset + record <= buffer.length; offset += record) {
      const vector = new Float32Array(buffer.buffer.slice(buffer.byteOffset + offset + 20, buffer.byteOffset + offset + record));
      cache.set(buffer.toString("hex", offset, offset + 20), vector);
    }
  }
  return cache;
}

/**
 * Embeddings of `texts` (in order), from the cache where present; new ones are computed in batches and appended to
 * the cache (when `dir` is set). `onProgress` reports how many are done.
 */
export async function embedTexts(
  texts: readonly string[],
  embedder: Embedder,
  options: { dir?: string | null; transform?: (text: string) => string; onProgress?: (done: number, total: number) => void } = {},
): Promise<Float32Array[]> {
  const dir = options.dir === undefined ? DEFAULT_CACHE_DIR : options.dir;
  const cache = dir ? loadEmbeddingCache(dir, embedder) : new Map<string, Float32Array>();
  const prepared = texts.map((t) => (options.transform ? options.transform(t) : t));
  const keys = prepared.map(key);
  const missing = [...new Set(keys.map((k, i) => (cache.has(k) ? -1 : i)).filter((i) => i >= 0).map((i) => keys[i]!))];
  const textOf = new Map(keys.map((k, i) => [k, prepared[i]!]));
  const file = dir ? path.join(dir, `${embedder.id}-${process.pid}.bin`) : null;
  if (file) mkdirSync(dir!, { recursive: true });
  const BATCH = 16;
  for (let i = 0; i < missing.length; i += BATCH) {
    const batch = missing.slice(i, i + BATCH);
    // One text per call: USE-lite pads a batch to its longest text, so batching costs more than it saves.
    const vectors: number[][] = [];
    for (const k of batch) vectors.push((await embedder.embed([textOf.get(k)!]))[0]!);
    const chunks: Buffer[] = [];
    batch.forEach((k, j) => {
      const vector = Float32Array.from(vectors[j]!);
      cache.set(k, vector);
      chunks.push(Buffer.from(k, "hex"), Buffer.from(vector.buffer));
    });
    if (file) appendFileSync(file, Buffer.concat(chunks));
    options.onProgress?.(Math.min(i + BATCH, missing.length), missing.length);
  }
  return keys.map((k) => cache.get(k)!);
}

async function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { shard: { type: "string" }, dir: { type: "string" } } });
  const file = positionals[0];
  if (!file) {
    console.error("usage: bench/routing-embeddings.ts FILE [--shard i/n] [--dir DIR]");
    process.exit(2);
  }
  const [index, count] = (values.shard ?? "0/1").split("/").map(Number) as [number, number];
  const { localEmbedder } = await import("../server/embeddings/local");
  const { embedText } = await import("../server/routing/classifier/embedding");
  const prompts = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { prompt: string }).prompt)
    .filter((_, i) => i % count === index);
  const started = performance.now();
  await embedTexts(prompts, localEmbedder, {
    dir: values.dir ?? DEFAULT_CACHE_DIR,
    transform: embedText,
    onProgress: (done, total) => {
      if (done % 320 === 0 || done === total) console.error(`${done}/${total} ${((performance.now() - started) / 1000).toFixed(0)} s`);
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
