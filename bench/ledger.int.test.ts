import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");

/** Runs the benchmark as `npm run -s bench:ledger -- --quick` would. */
function runQuick(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/ledger.ts", "--quick"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NODE_ENV: "production", DATABASE_URL: process.env.DATABASE_URL ?? "" },
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

describe("bench/ledger.ts --quick", () => {
  it.skipIf(!process.env.DATABASE_URL)("prints one JSON object: rows per second through the real writer, every row and rollup stored", { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await runQuick();
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ rows: 5_000, rows_stored: 5_000, rollup_daily_calls: 5_000, rollup_hourly_calls: 5_000, verified: true, target_rows_per_s: 5_000 });
    for (const key of ["rows_per_s", "seconds"]) expect(Number.isFinite(report[key]) && (report[key] as number) > 0, key).toBe(true);
  });

  it.skipIf(Boolean(process.env.DATABASE_URL))("refuses to run without DATABASE_URL", async () => {
    const { code, stdout, stderr } = await runQuick();
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("needs DATABASE_URL");
  });
});
