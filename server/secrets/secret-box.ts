/**
 * AES-256-GCM for secrets at rest (provider keys). Ciphertexts carry the key version
 * ("v<version>:<iv>:<tag>:<data>", base64 parts) so the master secret can be rotated.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export interface SecretBox {
  encrypt(plaintext: string): string;
  decrypt(ciphertext: string): string;
  /** The version new ciphertexts are written with. */
  readonly version: number;
}

/** Parses a 32-byte secret given as 64 hex characters or base64. */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  if (key.length !== 32) throw new Error("SWITCHYARD_SECRET must be 32 bytes (64 hex characters or base64)");
  return key;
}

/** `keys` maps versions to 32-byte keys; `current` is the version used to encrypt. */
export function createSecretBox(keys: Map<number, Buffer>, current: number): SecretBox {
  const active = keys.get(current);
  if (!active) throw new Error(`no key for secret version ${current}`);
  return {
    version: current,
    encrypt(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", active, iv);
      const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return `v${current}:${iv.toString("base64")}:${cipher.getAuthTag().toString("base64")}:${data.toString("base64")}`;
    },
    decrypt(ciphertext) {
      const match = /^v(\d+):([^:]+):([^:]+):([^:]*)$/.exec(ciphertext);
      if (!match) throw new Error("malformed ciphertext");
      const key = keys.get(Number(match[1]));
      if (!key) throw new Error(`no key for secret version ${match[1]}`);
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(match[2]!, "base64"));
      decipher.setAuthTag(Buffer.from(match[3]!, "base64"));
      return Buffer.concat([decipher.update(Buffer.from(match[4]!, "base64")), decipher.final()]).toString("utf8");
    },
  };
}
