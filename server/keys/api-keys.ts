/**
 * Switchyard API keys: 192 bits from the CSPRNG, shown once, stored as a SHA-256 hash with a short visible prefix.
 */
import { createHash, randomBytes } from "node:crypto";

export const API_KEY_PREFIX = "sy-";

/** Key format: "sy-" + 32 base62 characters (≈190 bits). */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const key = API_KEY_PREFIX + base62(randomBytes(24), 32);
  return { key, prefix: key.slice(0, 9), hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Pulls the key from `Authorization: Bearer …` or `x-api-key` (the Anthropic SDK's header). */
export function extractApiKey(headers: Headers): string | null {
  const auth = headers.get("authorization");
  if (auth) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return match ? match[1]! : null;
  }
  const key = headers.get("x-api-key");
  return key ? key.trim() || null : null;
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function base62(bytes: Buffer, length: number): string {
  let n = BigInt("0x" + bytes.toString("hex"));
  let out = "";
  while (out.length < length) {
    out += ALPHABET[Number(n % 62n)];
    n /= 62n;
  }
  return out;
}
