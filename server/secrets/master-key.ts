/**
 * Resolves the master secret: SWITCHYARD_SECRET when set; otherwise a key generated once into
 * `<data dir>/secret.key` (mode 0600) so the embedded default works with no set-up.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Logger } from "../obs/log";
import { parseMasterKey } from "./secret-box";

export function resolveMasterKey(options: { secret?: string; dataDir: string; log: Logger; shared: boolean }): Buffer {
  if (options.secret) return parseMasterKey(options.secret);
  const file = path.join(options.dataDir, "secret.key");
  if (existsSync(file)) {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return parseMasterKey(readFileSync(file, "utf8"));
  }
  mkdirSync(options.dataDir, { recursive: true });
  writeFileSync(file, randomBytes(32).toString("hex") + "\n", { mode: 0o600 });
  options.log.warn(
    { file },
    options.shared
      ? "SWITCHYARD_SECRET is not set: generated a master secret in the data directory. Every instance sharing this database needs the same secret — set SWITCHYARD_SECRET to its contents."
      : "SWITCHYARD_SECRET is not set: generated a master secret in the data directory (mode 0600). Back it up: provider keys cannot be decrypted without it.",
  );
  return parseMasterKey(readFileSync(file, "utf8"));
}
