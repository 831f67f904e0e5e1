#!/usr/bin/env node
// Launcher of the `switchyard` admin CLI: runs server/cli/main.ts under tsx from the package root, whatever the
// working directory, forwarding arguments, standard streams, signals and the exit code.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// Resolved from this file, so tsx is found in the package's node_modules even when run from elsewhere.
const tsx = import.meta.resolve("tsx");

const child = spawn(process.execPath, ["--import", tsx, path.join(root, "server/cli/main.ts"), ...process.argv.slice(2)], {
  stdio: "inherit",
  env: {
    ...process.env,
    // The "@/" import alias lives in the package's tsconfig; tsx would otherwise look in the working directory.
    TSX_TSCONFIG_PATH: path.join(root, "tsconfig.json"),
    // The same database and migrations `npm start` (run from the package root) uses, unless set explicitly.
    SWITCHYARD_DATA_DIR: process.env.SWITCHYARD_DATA_DIR || path.join(root, ".switchyard"),
    SWITCHYARD_MIGRATIONS_DIR: process.env.SWITCHYARD_MIGRATIONS_DIR || path.join(root, "prisma/migrations"),
  },
});

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("error", (error) => {
  process.stderr.write(`switchyard: cannot start the CLI: ${error.message}\n`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  if (signal) {
    // Die of the same signal, as a shell expects (the forwarding handler must not catch it).
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
