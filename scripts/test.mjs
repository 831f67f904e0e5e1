// `npm test`: unit, integration and browser tests, in that order; exits non-zero if any tier fails.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const node = process.execPath;
const steps = [
  ["typecheck", [node, "node_modules/typescript/bin/tsc", "--noEmit"]],
  ["unit", [node, "node_modules/vitest/vitest.mjs", "run", "--project", "unit"]],
  ["integration", [node, "node_modules/vitest/vitest.mjs", "run", "--project", "int"]],
  ["e2e", [node, "scripts/e2e.mjs"]],
];
if (!existsSync("server/db/generated/client.ts")) {
  const gen = spawnSync(node, ["scripts/prisma-generate.mjs"], { stdio: "inherit" });
  if (gen.status !== 0) process.exit(gen.status ?? 1);
}
const only = process.argv[2];
const failed = [];
for (const [name, [cmd, ...args]] of steps) {
  if (only && only !== name) continue;
  console.log(`\n=== ${name} tests ===`);
  const result = spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  if (result.status !== 0) failed.push(name);
}
if (failed.length > 0) {
  console.error(`\nFAILED tiers: ${failed.join(", ")}`);
  process.exit(1);
}
console.log("\nAll test tiers passed.");
