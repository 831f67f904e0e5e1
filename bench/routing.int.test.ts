import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
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
    const { code, stdout, stderr } = await bench(["--train", train, "--data", data]);
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

  it.skipIf(!existsSync(DEV_DATA))("runs quickly on the RouteLLM development data (--limit)", { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await bench(["--train", DEV_DATA, "--data", DEV_DATA, "--limit", "1500"]);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout);
    for (const key of ["strong_share", "quality"]) {
      expect(result[key], key).toBeGreaterThan(0);
      expect(result[key], key).toBeLessThanOrEqual(1);
    }
    // Routing can beat the strong model alone (the weak one is sometimes right where it is wrong).
    expect(result.quality_ratio).toBeGreaterThan(0.8);
  });

  it("refuses to run without both files", async () => {
    const { code, stderr } = await bench(["--train", "x"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/usage/);
  });
});
