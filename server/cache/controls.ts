/**
 * Per-request cache controls, read from the request headers (pure):
 * - `Cache-Control: no-cache` — do not answer from the cache (skip the lookup) but store the fresh answer;
 * - `Cache-Control: no-store` — never store this request or its answer (RFC 9111 §5.2.1.5); an existing entry may
 *   still answer it;
 * - `Cache-Control: max-age=N` — only accept a cached answer at most N seconds old (`max-age=0` ≈ no-cache);
 * - `x-switchyard-cache-namespace: NAME` — a partition inside the tenant's cache (e.g. per test run or per
 *   prompt version); entries of one namespace never answer another.
 */
import { AppError } from "../gateway/errors";

export interface CacheControls {
  noCache: boolean;
  noStore: boolean;
  /** Oldest acceptable cached answer, in seconds; null = whatever the rule's TTL keeps. */
  maxAgeS: number | null;
  /** The request's namespace; "" when none was given. */
  namespace: string;
}

export const NAMESPACE_HEADER = "x-switchyard-cache-namespace";
const NAMESPACE = /^[A-Za-z0-9._:-]{1,64}$/;

export function parseCacheControls(headers: Headers): CacheControls {
  const controls: CacheControls = { noCache: false, noStore: false, maxAgeS: null, namespace: "" };
  for (const raw of (headers.get("cache-control") ?? "").split(",")) {
    const directive = raw.trim().toLowerCase();
    if (directive === "no-cache") controls.noCache = true;
    else if (directive === "no-store") controls.noStore = true;
    else if (directive.startsWith("max-age=")) {
      const value = directive.slice("max-age=".length).replace(/^"|"$/g, "");
      // RFC 9111 delta-seconds: digits only; anything else is ignored like an unknown directive.
      if (/^\d+$/.test(value)) controls.maxAgeS = Math.min(Number(value), 2 ** 31 - 1);
    }
  }
  if (controls.maxAgeS === 0) controls.noCache = true;
  const namespace = headers.get(NAMESPACE_HEADER);
  if (namespace !== null) {
    if (!NAMESPACE.test(namespace)) {
      throw new AppError(400, "invalid_cache_namespace", `${NAMESPACE_HEADER} must be 1-64 characters of letters, digits, '.', '_', ':' or '-'`, {
        param: NAMESPACE_HEADER,
      });
    }
    controls.namespace = namespace;
  }
  return controls;
}
