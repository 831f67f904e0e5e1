// `npm start`: prepares what a fresh clone lacks (Prisma client, Next.js build), then runs server/main.ts.
// `--dev` runs Next in development mode (hot reload) behind the same server.
import { spawn, spawnSync } from "node:child_process";
import { constants } from "node:os";
import { existsSync } from "node:fs";
import { buildIsCurrent, markBuilt } from "./build-state.mjs";

const dev = process.argv.includes("--dev");
// SWITCHYARD_NO_UI=1 serves only the gateway and ops endpoints: no dashboard to build (server/env.ts reads the same values).
const noUi = ["1", "true", "yes"].includes(process.env.SWITCHYARD_NO_UI ?? "");
const run = (args, env = {}) => {
  const result = spawnSync(process.execPath, args, { stdio: "inherit", env: { ...process.env, ...env } });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

if (!existsSync("server/db/generated/client.ts")) run(["scripts/prisma-generate.mjs"]);
if (!dev && !noUi && !buildIsCurrent()) {
  console.log("Building the dashboard (first run or sources changed)…");
  run(["node_modules/next/dist/bin/next", "build"], { NEXT_TELEMETRY_DISABLED: "1" });
  markBuilt();
}
// The server runs as a child, and the signals this process gets are passed on to it, so stopping `npm start`
// (SIGTERM from a process manager or `docker stop`, which npm forwards here — the package.json script `exec`s node
// so no shell sits in between) drains the server instead of leaving it running, orphaned. After a Ctrl-C the
// terminal has sent SIGINT to the server as well; it ignores the repeat.
const main = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
  stdio: "inherit",
  env: { ...process.env, NODE_ENV: dev ? "development" : "production", NEXT_TELEMETRY_DISABLED: "1" },
});
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => main.kill(signal));
main.on("exit", (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
