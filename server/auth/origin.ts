/**
 * The dashboard's own origin for one request: where next-auth sends people back to, which Origin a tRPC mutation
 * must come from, and whether cookies get the Secure flag. SWITCHYARD_PUBLIC_URL wins when set (behind a proxy that
 * rewrites Host, set it); otherwise the request's Host and its forwarded protocol.
 */
import type { Env } from "../env";

export interface RequestOrigin {
  /** "https://switchyard.example.com" (scheme, host and port; no path). */
  origin: string;
  /** The host part ("switchyard.example.com:8443"). */
  host: string;
  /** True on https: cookies are Secure and carry the __Secure- / __Host- prefixes. */
  secure: boolean;
}

type HeaderBag = Pick<Headers, "get">;

/** First value of a comma-separated forwarded header ("https, http" → "https"). */
function first(value: string | null): string | null {
  const head = value?.split(",", 1)[0]?.trim();
  return head ? head : null;
}

export function requestOrigin(headers: HeaderBag, env: Pick<Env, "SWITCHYARD_PUBLIC_URL">, fallbackHost = "localhost"): RequestOrigin {
  if (env.SWITCHYARD_PUBLIC_URL) {
    const url = new URL(env.SWITCHYARD_PUBLIC_URL);
    return { origin: url.origin, host: url.host, secure: url.protocol === "https:" };
  }
  const host = first(headers.get("x-forwarded-host")) ?? headers.get("host") ?? fallbackHost;
  const secure = first(headers.get("x-forwarded-proto")) === "https";
  return { origin: `${secure ? "https" : "http"}://${host}`, host, secure };
}

/**
 * Hosts a same-site browser request may name in its Origin header: the public URL's host when configured, and the
 * host the request was addressed to (Host, or X-Forwarded-Host set by a proxy).
 */
export function allowedOriginHosts(headers: HeaderBag, env: Pick<Env, "SWITCHYARD_PUBLIC_URL">): Set<string> {
  const hosts = new Set<string>();
  if (env.SWITCHYARD_PUBLIC_URL) hosts.add(new URL(env.SWITCHYARD_PUBLIC_URL).host);
  const host = headers.get("host");
  if (host) hosts.add(host.toLowerCase());
  const forwarded = first(headers.get("x-forwarded-host"));
  if (forwarded) hosts.add(forwarded.toLowerCase());
  return hosts;
}
