import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const DATA = path.resolve(ROOT, "../shared/data");
const files = { paraphrases: path.join(DATA, "paraphrase-dev.jsonl"), pairs: path.join(DATA, "qqp-dev.jsonl") };

/** Runs the benchmark as `npm run -s bench:cache -- … --quick` would, with the model-free embedder. */
function runQuick(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const args = ["--import", "tsx", "bench/cache.ts", "--paraphrases", files.paraphrases, "--pairs", files.pairs, "--embedder", "hashing", "--quick"];
    const child = spawn(process.execPath, args, {
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

describe.skipIf(!existsSync(files.paraphrases) || !existsSync(files.pairs))("bench/cache.ts --quick", () => {
  it("prints one JSON object with the figures, the default settings and a threshold sweep", { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await runQuick();
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as Record<string, unknown>; // stdout is the JSON object and nothing else
    for (const key of ["precision", "recall", "false_hit_rate", "hard_recall"]) {
      const value = report[key] as number;
      expect(value >= 0 && value <= 1, `${key} = ${value}`).toBe(true);
    }
    expect(report.lookup_p95_ms as number).toBeGreaterThan(0);
    expect(report).toMatchObject({ embedder: "hashing:256", paraphrase_rows: 60, pair_rows: 200, quick: true, settings: { threshold: 0.92 } });
    const sweep = report.sweep as Array<Record<string, number>>;
    expect(sweep.length).toBeGreaterThan(3);
    for (const point of sweep) expect(Object.keys(point).sort()).toEqual(["correct", "false_hit_rate", "false_hits", "hard_recall", "hits", "precision", "recall", "threshold"]);
    expect(stderr).toMatch(/embedding/);
  });
});
