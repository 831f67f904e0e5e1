// Browser tests: skipped (with the reason printed) only when no Chromium is installed.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { buildIsCurrent, markBuilt } from "./build-state.mjs";

const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!existsSync(chromium)) {
  console.log(`e2e: SKIPPED — no Chromium at ${chromium} (install Debian's chromium: apt-get install -y chromium, or set CHROMIUM_PATH)`);
  process.exit(0);
}
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
if (!buildIsCurrent()) {
  const build = spawnSync(process.execPath, ["node_modules/next/dist/bin/next", "build"], { stdio: "inherit", env });
  if (build.status !== 0) process.exit(build.status ?? 1);
  markBuilt();
}
const result = spawnSync(process.execPath, ["node_modules/@playwright/test/cli.js", "test", ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: "1" },
});
process.exit(result.status ?? 1);
