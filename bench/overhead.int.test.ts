import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");

/** Runs the benchmark script as `npm run bench:overhead -- --quick` would, collecting stdout and stderr. */
function runQuick(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/overhead.ts", "--quick"], {
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

const variants = ["direct", "passthrough", "portkey", "switchyard"];
const modes = ["", "stream_"];
const perPhase = ["rps", "p50_ms", "p99_ms"];

describe("bench/overhead.ts --quick", () => {
  it("prints one JSON object with every figure as a finite number (positive where it is a measurement)", { timeout: 180_000 }, async () => {
    const { code, stdout, stderr } = await runQuick();
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as Record<string, unknown>; // stdout is the JSON object and nothing else

    const required = ["direct_rps_c16", "portkey_rps_c16", "switchyard_rps_c16", "portkey_added_p50_ms_c1", "switchyard_added_p50_ms_c1"];
    for (const v of variants) for (const m of modes) for (const c of [1, 16]) for (const f of perPhase) required.push(`${v}_${m}${f}_c${c}`);
    required.push("switchyard_vs_portkey_rps_c16", "switchyard_vs_portkey_stream_rps_c16", "switchyard_stream_added_p50_ms_c1");
    required.push("passthrough_added_p50_ms_c1", "passthrough_vs_portkey_rps_c16", "switchyard_share_of_passthrough_rps_c16");
    for (const key of required) {
      const value = report[key];
      expect(typeof value, key).toBe("number");
      expect(Number.isFinite(value), `${key} = ${String(value)}`).toBe(true);
      // "Added" figures are differences of two noisy medians and may dip below zero on a busy machine.
      if (!key.includes("_added_")) expect(value as number, key).toBeGreaterThan(0);
    }

    expect(report.machine).toMatchObject({ cpus: expect.any(Number), node: process.version });
    expect(report.settings).toMatchObject({ quick: true, concurrency: [1, 16] });
    // Progress goes to stderr, one line per measured phase.
    expect(stderr.match(/_c(1|16): \d+ req\/s/g)).toHaveLength(16);
  });
});
