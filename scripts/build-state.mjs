// Decides whether the Next.js build in .next/ matches the sources: a hash of every file that goes into it.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

const INPUTS = ["app", "components", "lib", "server", "next.config.ts", "postcss.config.mjs", "tsconfig.json", "package-lock.json", "prisma/schema.prisma"];
const SKIP = new Set(["node_modules", "generated", ".next"]);
const STAMP = path.join(".next", "switchyard-build-hash");

function* walk(entry) {
  if (!existsSync(entry)) return;
  if (statSync(entry).isFile()) {
    yield entry;
    return;
  }
  for (const name of readdirSync(entry).sort()) {
    if (SKIP.has(name) || name.endsWith(".test.ts") || name.endsWith(".test.tsx")) continue;
    yield* walk(path.join(entry, name));
  }
}

export function sourceHash() {
  const hash = createHash("sha256");
  for (const input of INPUTS) for (const file of walk(input)) hash.update(file).update("\0").update(readFileSync(file));
  return hash.digest("hex");
}

export function buildIsCurrent() {
  return existsSync(path.join(".next", "BUILD_ID")) && existsSync(STAMP) && readFileSync(STAMP, "utf8") === sourceHash();
}

export function markBuilt() {
  writeFileSync(STAMP, sourceHash());
}
