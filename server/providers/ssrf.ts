/**
 * SSRF guard for provider base URLs. Admins type base URLs, so without a guard the gateway could be pointed at the
 * cloud metadata service or at internal services. Two layers:
 * - `checkBaseUrl` when a URL is saved: scheme, credentials, the host's name and every address it resolves to.
 * - `createGuardedConnector` at every connection, so a name that re-resolves to a refused address later
 *   (DNS rebinding) is refused before a byte is sent.
 * `allowPrivate` (an admin opt-in for self-hosted vLLM / Ollama) admits private and loopback addresses; metadata
 * endpoints, link-local, multicast and the other special ranges are refused regardless.
 */
import dns from "node:dns";
import net from "node:net";
import ipaddr from "ipaddr.js";
import { buildConnector } from "undici";

export type SsrfReason =
  | "invalid_url"
  | "scheme"
  | "credentials"
  | "metadata"
  | "loopback"
  | "private"
  | "unique_local"
  | "link_local"
  | "ipv4_embedded"
  | "unspecified"
  | "multicast"
  | "reserved"
  | "unresolvable";

export type SsrfCheck = { ok: true } | { ok: false; reason: SsrfReason; message: string };

export interface SsrfOptions {
  /** Admit private and loopback addresses (self-hosted endpoints). Never admits metadata addresses. */
  allowPrivate?: boolean;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all of its addresses; injected in tests, dns.lookup otherwise. */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** Thrown (or passed to undici's connect callback) when a connection is refused; never carries the URL. */
export class SsrfBlockedError extends Error {
  override name = "SsrfBlockedError";
  readonly code = "SSRF_BLOCKED";
  constructor(
    readonly reason: SsrfReason,
    message: string,
  ) {
    super(message);
  }
}

/** Cloud metadata services: AWS/GCP/Azure/OCI (and their IPv6 form), AWS ECS task metadata, Alibaba Cloud. */
const METADATA_ADDRESSES = new Set(["169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254"]);
const METADATA_HOSTS = new Set(["metadata.google.internal", "metadata.goog", "metadata"]);

/** Ranges `allowPrivate` admits (ipaddr.js range names); everything else but "unicast" is refused. */
const PRIVATE_RANGES: Readonly<Record<string, SsrfReason>> = {
  private: "private",
  carrierGradeNat: "private",
  loopback: "loopback",
  uniqueLocal: "unique_local",
};

/** Ranges refused even with `allowPrivate`; ranges named in neither table (benchmarking, as112, …) are "reserved". */
const REFUSED_RANGES: Readonly<Record<string, SsrfReason>> = {
  unspecified: "unspecified",
  broadcast: "reserved",
  multicast: "multicast",
  linkLocal: "link_local",
  ipv4Mapped: "ipv4_embedded",
  rfc6145: "ipv4_embedded",
  rfc6052: "ipv4_embedded",
  "6to4": "ipv4_embedded",
  teredo: "ipv4_embedded",
};

const refused = (reason: SsrfReason, message: string): SsrfCheck => ({ ok: false, reason, message });

/** Checks one IP address (v4 or v6 literal, without brackets). */
export function checkAddress(address: string, options: SsrfOptions = {}): SsrfCheck {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return refused("invalid_url", "not an IP address");
  }
  // RFC 5952 form for IPv6 ("fd00:ec2::254" however it was written), dotted quad for IPv4.
  const canonical = ip.toString();
  if (METADATA_ADDRESSES.has(canonical)) return refused("metadata", `${canonical} is a cloud metadata address`);
  if (ip.kind() === "ipv6" && isIpv4Compatible(ip as ipaddr.IPv6)) {
    return refused("ipv4_embedded", `${canonical} embeds an IPv4 address`);
  }
  const range = ip.range();
  if (range === "unicast") return { ok: true };
  const privateReason = PRIVATE_RANGES[range];
  if (privateReason) {
    if (options.allowPrivate) return { ok: true };
    return refused(privateReason, `${canonical} is a ${privateReason.replace("_", "-")} address`);
  }
  return refused(REFUSED_RANGES[range] ?? "reserved", `${canonical} is in a refused range (${range})`);
}

/** ::a.b.c.d (deprecated IPv4-compatible form): first 96 bits zero, and not :: or ::1. */
function isIpv4Compatible(ip: ipaddr.IPv6): boolean {
  const parts = ip.parts;
  return parts.slice(0, 6).every((part) => part === 0) && (parts[6] !== 0 || (parts[7] ?? 0) > 1);
}

/** Checks a host as undici or a URL presents it: an IP literal (brackets allowed) or a name, before resolving. */
export function checkHost(host: string, options: SsrfOptions = {}): SsrfCheck {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (net.isIP(bare) !== 0) return checkAddress(bare, options);
  const name = bare.toLowerCase().replace(/\.$/, "");
  if (name === "") return refused("invalid_url", "empty host");
  if (METADATA_HOSTS.has(name)) return refused("metadata", `${name} is a cloud metadata host`);
  if ((name === "localhost" || name.endsWith(".localhost")) && !options.allowPrivate) {
    return refused("loopback", `${name} is a loopback name`);
  }
  return { ok: true };
}

/**
 * Checks a URL without resolving it: http(s) only, no credentials, and the host by `checkHost`. Messages name the
 * host at most, never the path or query.
 */
export function checkUrlSyntax(url: string | URL, options: SsrfOptions = {}): SsrfCheck {
  let parsed: URL;
  try {
    parsed = typeof url === "string" ? new URL(url) : url;
  } catch {
    return refused("invalid_url", "not a valid URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return refused("scheme", `scheme ${parsed.protocol} is not allowed; use http or https`);
  }
  if (parsed.username !== "" || parsed.password !== "") {
    return refused("credentials", "credentials in the URL are not allowed; configure the provider key instead");
  }
  return checkHost(parsed.hostname, options);
}

export const defaultResolver: Resolver = async (hostname) => {
  const addresses = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return addresses.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/**
 * Full check of a base URL when it is saved: `checkUrlSyntax`, then every address the host resolves to (one
 * refused address refuses the URL: a mixed answer is how rebinding attacks start).
 */
export async function checkBaseUrl(
  url: string | URL,
  options: SsrfOptions & { resolve?: Resolver } = {},
): Promise<SsrfCheck> {
  const syntax = checkUrlSyntax(url, options);
  if (!syntax.ok) return syntax;
  const hostname = new URL(url).hostname;
  const bare = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
  if (net.isIP(bare) !== 0) return syntax;
  let addresses: readonly ResolvedAddress[];
  try {
    addresses = await (options.resolve ?? defaultResolver)(bare);
  } catch {
    return refused("unresolvable", `${bare} does not resolve`);
  }
  return checkAddresses(bare, addresses, options);
}

function checkAddresses(hostname: string, addresses: readonly ResolvedAddress[], options: SsrfOptions): SsrfCheck {
  if (addresses.length === 0) return refused("unresolvable", `${hostname} does not resolve`);
  for (const { address } of addresses) {
    const check = checkAddress(address, options);
    if (!check.ok) return refused(check.reason, `${hostname} resolves to a refused address: ${check.message}`);
  }
  return { ok: true };
}

/**
 * A `lookup` for net/tls.connect that resolves with `resolve` and refuses when any address is refused. Handles
 * both calling conventions (`all: true`, used by Node's happy-eyeballs, and a single address).
 */
export function createGuardedLookup(options: SsrfOptions & { resolve?: Resolver } = {}): net.LookupFunction {
  const resolve = options.resolve ?? defaultResolver;
  return (hostname, lookupOptions, callback) => {
    resolve(hostname).then(
      (resolved) => {
        const family = lookupOptions.family === 4 || lookupOptions.family === 6 ? lookupOptions.family : 0;
        const addresses = family ? resolved.filter((a) => a.family === family) : resolved;
        const check = checkAddresses(hostname, addresses, options);
        if (!check.ok) {
          const unresolvable = check.reason === "unresolvable";
          callback(unresolvable ? notFound(hostname) : new SsrfBlockedError(check.reason, check.message), "");
          return;
        }
        if (lookupOptions.all) callback(null, addresses.map((a) => ({ address: a.address, family: a.family })));
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: unknown) => callback(error instanceof Error ? error : notFound(hostname), ""),
    );
  };
}

function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
}

/**
 * An undici `connect` function that refuses refused hosts at connection time: IP literals are checked directly,
 * names through the guarded lookup (so the check and the connection use the same answer). `connect` passes
 * undici's connector options (timeout, TLS settings).
 */
export function createGuardedConnector(
  options: SsrfOptions & { resolve?: Resolver; connect?: buildConnector.BuildOptions } = {},
): buildConnector.connector {
  const connect = buildConnector({ ...options.connect, lookup: createGuardedLookup(options) });
  return (connectOptions, callback) => {
    const check = checkHost(connectOptions.hostname, options);
    if (!check.ok) {
      callback(new SsrfBlockedError(check.reason, check.message), null);
      return;
    }
    connect(connectOptions, callback);
  };
}
