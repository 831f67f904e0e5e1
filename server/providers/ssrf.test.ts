import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import {
  checkAddress,
  checkBaseUrl,
  checkHost,
  checkUrlSyntax,
  createGuardedLookup,
  SsrfBlockedError,
  type ResolvedAddress,
  type Resolver,
} from "./ssrf";

const resolverOf =
  (table: Record<string, string[]>): Resolver =>
  async (hostname) => {
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" });
    return addresses.map((address): ResolvedAddress => ({ address, family: address.includes(":") ? 6 : 4 }));
  };

describe("checkAddress", () => {
  it.each([
    ["8.8.8.8"],
    ["1.1.1.1"],
    ["2606:4700:4700::1111"],
    ["100.63.255.255"],
  ])("admits public %s", (address) => {
    expect(checkAddress(address)).toEqual({ ok: true });
  });

  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["::1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["fd12:3456::1", "unique_local"],
    ["fc00::1", "unique_local"],
  ])("refuses %s (%s) unless private addresses are allowed", (address, reason) => {
    expect(checkAddress(address)).toMatchObject({ ok: false, reason });
    expect(checkAddress(address, { allowPrivate: true })).toEqual({ ok: true });
  });

  it.each([
    ["169.254.169.254", "metadata"],
    ["169.254.170.2", "metadata"],
    ["100.100.100.200", "metadata"],
    ["fd00:ec2::254", "metadata"],
    ["fd00:ec2:0:0:0:0:0:254", "metadata"],
    ["169.254.10.10", "link_local"],
    ["fe80::1", "link_local"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["::", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["198.18.0.1", "reserved"],
    ["192.0.2.1", "reserved"],
    ["240.0.0.1", "reserved"],
    ["2001:db8::1", "reserved"],
    ["::ffff:127.0.0.1", "ipv4_embedded"],
    ["::ffff:169.254.169.254", "ipv4_embedded"],
    ["::ffff:8.8.8.8", "ipv4_embedded"],
    ["::127.0.0.1", "ipv4_embedded"],
    ["::a9fe:a9fe", "ipv4_embedded"],
    ["64:ff9b::a9fe:a9fe", "ipv4_embedded"],
    ["2002:a9fe:a9fe::1", "ipv4_embedded"],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "ipv4_embedded"],
  ])("refuses %s (%s) even when private addresses are allowed", (address, reason) => {
    expect(checkAddress(address)).toMatchObject({ ok: false, reason });
    expect(checkAddress(address, { allowPrivate: true })).toMatchObject({ ok: false, reason });
  });

  it("refuses what is not an address", () => {
    expect(checkAddress("example.com")).toMatchObject({ ok: false, reason: "invalid_url" });
  });
});

describe("checkHost", () => {
  it("checks bracketed IPv6 and names", () => {
    expect(checkHost("[::1]")).toMatchObject({ ok: false, reason: "loopback" });
    expect(checkHost("api.openai.com")).toEqual({ ok: true });
    expect(checkHost("METADATA.google.internal.")).toMatchObject({ ok: false, reason: "metadata" });
    expect(checkHost("metadata.google.internal", { allowPrivate: true })).toMatchObject({ ok: false, reason: "metadata" });
    expect(checkHost("localhost")).toMatchObject({ ok: false, reason: "loopback" });
    expect(checkHost("ollama.localhost")).toMatchObject({ ok: false, reason: "loopback" });
    expect(checkHost("localhost", { allowPrivate: true })).toEqual({ ok: true });
  });
});

describe("checkUrlSyntax", () => {
  it.each([
    ["ftp://api.example.com/", "scheme"],
    ["file:///etc/passwd", "scheme"],
    ["gopher://x/", "scheme"],
    ["https://user:pass@api.example.com/v1", "credentials"],
    ["https://token@api.example.com/v1", "credentials"],
    ["not a url", "invalid_url"],
    ["http://127.0.0.1:8080/v1", "loopback"],
    ["http://2130706433/", "loopback"],
    ["http://0x7f.1/", "loopback"],
    ["http://[::ffff:169.254.169.254]/", "ipv4_embedded"],
    ["http://169.254.169.254/latest/meta-data/", "metadata"],
    ["http://metadata.google.internal/computeMetadata/v1/", "metadata"],
    ["http://[fd00:ec2::254]/", "metadata"],
    ["http://0.0.0.0:11434/", "unspecified"],
  ])("refuses %s (%s)", (url, reason) => {
    expect(checkUrlSyntax(url)).toMatchObject({ ok: false, reason });
  });

  it("admits public http(s) URLs, and loopback with allowPrivate", () => {
    expect(checkUrlSyntax("https://api.openai.com/v1")).toEqual({ ok: true });
    expect(checkUrlSyntax(new URL("http://8.8.8.8/"))).toEqual({ ok: true });
    expect(checkUrlSyntax("http://127.0.0.1:11434/v1", { allowPrivate: true })).toEqual({ ok: true });
  });

  it("never puts the path or query in the message", () => {
    const check = checkUrlSyntax("ftp://host.example/secret-path?key=sk-12345");
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.message).not.toMatch(/secret-path|sk-12345/);
  });
});

describe("checkBaseUrl", () => {
  const resolve = resolverOf({
    "api.example.com": ["93.184.216.34", "2606:2800:220:1::1"],
    "internal.example.com": ["10.0.0.8"],
    "mixed.example.com": ["93.184.216.34", "169.254.169.254"],
    "ollama.lan": ["192.168.1.20"],
    "empty.example.com": [],
  });

  it("admits a name whose every address is public", async () => {
    expect(await checkBaseUrl("https://api.example.com/v1", { resolve })).toEqual({ ok: true });
  });

  it("refuses a name that resolves to a private address unless allowed", async () => {
    expect(await checkBaseUrl("https://internal.example.com/v1", { resolve })).toMatchObject({ ok: false, reason: "private" });
    expect(await checkBaseUrl("http://ollama.lan:11434/v1", { resolve, allowPrivate: true })).toEqual({ ok: true });
  });

  it("refuses when any one address is refused, and metadata even with allowPrivate", async () => {
    const check = await checkBaseUrl("https://mixed.example.com/", { resolve, allowPrivate: true });
    expect(check).toMatchObject({ ok: false, reason: "metadata" });
    if (!check.ok) expect(check.message).toContain("mixed.example.com resolves to a refused address");
  });

  it("refuses names that do not resolve", async () => {
    expect(await checkBaseUrl("https://nowhere.example.com/", { resolve })).toMatchObject({ ok: false, reason: "unresolvable" });
    expect(await checkBaseUrl("https://empty.example.com/", { resolve })).toMatchObject({ ok: false, reason: "unresolvable" });
  });

  it("checks literals without resolving, and syntax first", async () => {
    const never: Resolver = () => Promise.reject(new Error("must not resolve"));
    expect(await checkBaseUrl("https://8.8.8.8/", { resolve: never })).toEqual({ ok: true });
    expect(await checkBaseUrl("https://[::1]/", { resolve: never })).toMatchObject({ ok: false, reason: "loopback" });
    expect(await checkBaseUrl("ftp://api.example.com/", { resolve: never })).toMatchObject({ ok: false, reason: "scheme" });
  });
});

describe("createGuardedLookup", () => {
  const resolve = resolverOf({ "dual.example.com": ["93.184.216.34", "2606:2800:220:1::1"], "rebind.example.com": ["127.0.0.1"] });
  const lookup = (hostname: string, options: { all?: boolean; family?: number }, allowPrivate = false) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }>((done) => {
      createGuardedLookup({ resolve, allowPrivate })(hostname, options, (error, address, family) =>
        done({ error, address, family }),
      );
    });

  it("answers all addresses or the first one of the requested family", async () => {
    expect(await lookup("dual.example.com", { all: true })).toEqual({
      error: null,
      address: [
        { address: "93.184.216.34", family: 4 },
        { address: "2606:2800:220:1::1", family: 6 },
      ],
      family: undefined,
    });
    expect(await lookup("dual.example.com", { family: 6 })).toEqual({ error: null, address: "2606:2800:220:1::1", family: 6 });
    expect(await lookup("dual.example.com", {})).toEqual({ error: null, address: "93.184.216.34", family: 4 });
  });

  it("fails with SsrfBlockedError for a refused answer and ENOTFOUND for none", async () => {
    const blocked = await lookup("rebind.example.com", { all: true });
    expect(blocked.error).toBeInstanceOf(SsrfBlockedError);
    expect(blocked.error).toMatchObject({ reason: "loopback", code: "SSRF_BLOCKED" });
    expect((await lookup("rebind.example.com", { all: true }, true)).error).toBeNull();
    expect((await lookup("nowhere.example.com", {})).error).toMatchObject({ code: "ENOTFOUND" });
    expect((await lookup("rebind.example.com", { family: 6 })).error).toMatchObject({ code: "ENOTFOUND" });
  });
});
