/**
 * The key that signs and encrypts dashboard sessions, derived from the master secret (SWITCHYARD_SECRET, or the
 * generated `<data dir>/secret.key`) with HKDF-SHA256, so no extra variable is needed and every instance that
 * shares the master secret accepts the same sessions. Rotating the master secret signs everyone out.
 */
import { hkdfSync } from "node:crypto";
import type { Env } from "../env";
import type { Logger } from "../obs/log";
import { resolveMasterKey } from "../secrets/master-key";

/** HKDF `info`: a distinct purpose, so the session key never equals the key that encrypts provider keys. */
const PURPOSE = "switchyard/dashboard-session/v1";

export function deriveSessionSecret(masterKey: Buffer): string {
  return Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), PURPOSE, 32)).toString("base64url");
}

/**
 * Reads the master key the runtime already resolved (call after the runtime exists: without SWITCHYARD_SECRET it
 * is the file the runtime generated) and derives the session secret from it.
 */
export function sessionSecretFor(env: Env, log: Logger, shared: boolean): string {
  return deriveSessionSecret(resolveMasterKey({ secret: env.SWITCHYARD_SECRET, dataDir: env.dataDir, log, shared }));
}
