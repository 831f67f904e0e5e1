/**
 * Standalone simulator: `tsx server/providers/simulator/main.ts [--port 4010] [--host 127.0.0.1]
 * [--ttft-ms N] [--tps N] [--api-key KEY]`. Prints its base URL on stdout, stops on SIGINT/SIGTERM.
 * Configuration comes from flags only; faults are set through the admin API (/__sim/faults).
 */
import { parseArgs } from "node:util";
import { startSimulator } from "./index";

function number(value: string | undefined, flag: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag} must be a non-negative number, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "ttft-ms": { type: "string" },
      tps: { type: "string" },
      "api-key": { type: "string" },
    },
  });
  const sim = await startSimulator({
    port: number(values.port, "port", 4010),
    host: values.host ?? "127.0.0.1",
    ttftMs: number(values["ttft-ms"], "ttft-ms"),
    tokensPerSecond: number(values.tps, "tps"),
    apiKey: values["api-key"],
  });
  process.stdout.write(`${sim.url}\n`);
  const stop = () => {
    sim.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`simulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
