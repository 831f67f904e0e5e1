// `npm start`: prepares what a fresh clone lacks (Prisma client, Next.js build), then runs server/main.ts.
// `--dev` runs Next in development mode (hot reload) behind the same server.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { buildIsCurrent, markBuilt } from "./build-state.mjs";

const dev = process.argv.includes("--dev");
const run = (args, env = {}) => {
  const result = spawnSync(process.execPath, args, { stdio: "inherit", env: { ...process.env, ...env } });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

if (!existsSync("server/db/generated/client.ts")) run(["scripts/prisma-generate.mjs"]);
if (!dev && !buildIsCurrent()) {
  console.log("Building the dashboard (first run or sources changed)…");
  run(["node_modules/next/dist/bin/next", "build"], { NEXT_TELEMETRY_DISABLED: "1" });
  markBuilt();
}
const main = spawnSync(process.execPath, ["--import", "tsx", "server/main.ts"], {
  stdio: "inherit",
  env: { ...process.env, NODE_ENV: dev ? "development" : "production", NEXT_TELEMETRY_DISABLED: "1" },
});
process.exit(main.status ?? 1);
