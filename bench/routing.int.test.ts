import { spawn } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../server/testing/harness";

const ROOT = path.resolve(import.meta.dirname, "..");
const DEV_DATA = path.resolve(ROOT, "../shared/data/routing/routellm-dev.jsonl");

/** Runs the benchmark as `npm run -s bench:routing -- …` would. */
function bench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/routing.ts", ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NODE_ENV: "production" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Synthetic prompts in the benchmark's format: the weak model fails "hard" topics most of the time, the strong one
 * rarely; the topics are only visible in the prompt's words.
 */
function synthetic(file: string, rows: number, seed: number) {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const easy = ["capital of France", "colour of the sky", "days in a week", "opposite of hot"];
  const hard = ["eigenvalues of the operator", "statute of limitations in tort law", "integral of the density", "proof of the lemma"];
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const isHard = random() < 0.3;
    const topic = (isHard ? hard : easy)[Math.floor(random() * 4)]!;
    lines.push(JSON.stringify({ prompt: `Question ${i}: what about the ${topic}?`, weak_correct: random() < (isHard ? 0.2 : 0.9), strong_correct: random() < (isHard ? 0.85 : 0.95) }));
  }
  writeFileSync(file, lines.join("\n") + "\n");
}

describe("bench/routing.ts", () => {
  const dir = tempDir("routing-bench-");
  afterAll(() => dir.remove());

  it("trains on one file, routes another, and prints strong_share, quality and quality_ratio", { timeout: 120_000 }, async () => {
    const train = path.join(dir.path, "train.jsonl");
    const data = path.join(dir.path, "data.jsonl");
    synthetic(train, 1_500, 1);
    synthetic(data, 800, 2);
    const { code, stdout, stderr } = await bench(["--train", train, "--data", data, "--features", "lexical"]);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.data.rows).toBe(800);
    expect(result.train.rows).toBe(1_500);
    // A router that learned the topics escalates about the hard 30%, far from what random routing needs.
    expect(result.strong_share).toBeGreaterThan(0.2);
    expect(result.strong_share).toBeLessThan(0.5);
    expect(result.quality_ratio).toBeGreaterThan(0.93);
    expect(result.quality).toBeCloseTo(result.quality_ratio * result.strong_quality, 3);
  });

  it("adds sentence embeddings by default, cached on disk across runs", { timeout: 300_000 }, async () => {
    const train = path.join(dir.path, "train-small.jsonl");
    const data = path.join(dir.path, "data-small.jsonl");
    const cache = path.join(dir.path, "embeddings");
    synthetic(train, 300, 3);
    synthetic(data, 100, 4);
    const first = await bench(["--train", train, "--data", data, "--cache", cache]);
    expect(first.code, first.stderr).toBe(0);
    const a = JSON.parse(first.stdout);
    expect(a.features).toBe("embedding");
    expect(a.data.rows).toBe(100);
    expect(a.strong_share).toBeLessThan(0.6);
    expect(a.quality_ratio).toBeGreaterThan(0.9);
    expect(readdirSync(cache).length).toBeGreaterThan(0);
    // The second run embeds nothing new and decides the same.
    const second = await bench(["--train", train, "--data", data, "--cache", cache]);
    expect(second.code, second.stderr).toBe(0);
    const b = JSON.parse(second.stdout);
    expect(b.features_seconds).toBeLessThan(a.features_seconds);
    expect(b.strong_share).toBe(a.strong_share);
    expect(b.quality).toBe(a.quality);
  });

  it.skipIf(!existsSync(DEV_DATA))("runs quickly on the RouteLLM development data (--limit)", { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await bench(["--train", DEV_DATA, "--data", DEV_DATA, "--limit", "1500", "--features", "lexical"]);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout);
    for (const key of ["strong_share", "quality"]) {
      expect(result[key], key).toBeGreaterThan(0);
      expect(result[key], key).toBeLessThanOrEqual(1);
    }
    // Routing can beat the strong model alone (the weak one is sometimes right where it is wrong).
    expect(result.quality_ratio).toBeGreaterThan(0.8);
  });

  it("holds out a seeded random part of one file", { timeout: 120_000 }, async () => {
    const file = path.join(dir.path, "all.jsonl");
    synthetic(file, 1_000, 5);
    const run = () => bench(["--train", file, "--data", file, "--holdout", "0.3", "--seed", "2", "--features", "lexical"]);
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    const result = JSON.parse(first.stdout);
    expect(result.train.rows + result.data.rows).toBe(1_000);
    expect(result.data.rows).toBeGreaterThan(230);
    expect(result.data.rows).toBeLessThan(370);
    expect(JSON.parse((await run()).stdout).data.rows).toBe(result.data.rows);
  });

  it("refuses to run without both files", async () => {
    const { code, stderr } = await bench(["--train", "x"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/usage/);
    expect((await bench(["--train", "a", "--data", "b", "--holdout", "0.3"])).code).toBe(2);
  });
});
