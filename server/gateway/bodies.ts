/**
 * Request and response bodies in the call log (issue #6): stored only for calls routed through a policy whose
 * `logging.bodies` is true (never for concrete-model calls), and always redacted first: every string (and object
 * key) is scrubbed of key-shaped substrings with the log scrubber, the `switchyard` routing field is dropped, and a
 * body whose JSON exceeds the cap is replaced by a truncation marker holding its first bytes.
 */
import { scrubSecrets } from "../obs/log";
import type { Plan } from "./resolve";

/** Largest stored body (UTF-8 bytes of its JSON); larger ones are truncated. */
export const MAX_LOGGED_BODY_BYTES = 64 * 1024;

/** Whether the call's policy asks for bodies in the call log (false without a policy). */
export function logsBodies(plan: Pick<Plan, "policy"> | null | undefined): boolean {
  return plan?.policy?.document.logging?.bodies === true;
}

/** The client's request body as logged: without the `switchyard` field, scrubbed, capped. */
export function loggedRequestBody(raw: unknown, maxBytes = MAX_LOGGED_BODY_BYTES): unknown {
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
    const { switchyard: _routing, ...rest } = raw as Record<string, unknown>;
    return redactBody(rest, maxBytes);
  }
  return redactBody(raw, maxBytes);
}

/** Scrubs every string of a JSON value and caps its size; the result is JSON-safe. */
export function redactBody(value: unknown, maxBytes = MAX_LOGGED_BODY_BYTES): unknown {
  const scrubbed = scrub(value, 0);
  const json = JSON.stringify(scrubbed) ?? "null";
  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes <= maxBytes) return scrubbed;
  // Cut on a byte boundary, then drop a trailing partial UTF-8 character (decoded as U+FFFD).
  const preview = Buffer.from(json, "utf8").subarray(0, maxBytes).toString("utf8").replace(/\uFFFD$/, "");
  return { truncated: true, bytes, maxBytes, preview };
}

const MAX_DEPTH = 64;
/** Fields whose value is a credential whatever it looks like (as the log redacts them by path). */
const SECRET_FIELD = /^(authorization|api[-_]?key|x-api-key|x-goog-api-key|password|secret|token|access_token|encryptedKey|providerKey)$/i;

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === "string") return scrubSecrets(value);
  if (value === null || typeof value === "number" || typeof value === "boolean") return value;
  if (depth >= MAX_DEPTH) return "[TRUNCATED]";
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (item === undefined || typeof item === "function") continue;
      out[scrubSecrets(key)] = SECRET_FIELD.test(key) && item !== null ? "[REDACTED]" : scrub(item, depth + 1);
    }
    return out;
  }
  return null; // undefined, bigint, symbol, function: nothing JSON can hold
}
