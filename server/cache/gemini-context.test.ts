import { describe, expect, it } from "vitest";
import { getAdapter } from "../providers/registry";
import type { Transport, TransportRequest } from "../providers/transport";
import type { ChatRequest, UpstreamTarget } from "../providers/types";
import type { Target } from "../routing/types";
import { createMemoryStore } from "../state/memory";
import { billedTarget, breakEvenUses, createContextCacheManager, isMissingCache, storageForTtl, withContextCache } from "./gemini-context";

const SYSTEM = "You are the dispatcher of a large freight switchyard. Answer questions about its tracks. ".repeat(90);
const FLASH = { input: "0.3", output: "2.5", cacheRead: "0.075" };

describe("breakEvenUses", () => {
  it("is (p_in + p_store·h) / (p_in − p_read)", () => {
    expect(breakEvenUses({ input: "0.3", cacheRead: "0.075", storagePerMillionHour: 1, ttlSeconds: 3600 })).toBeCloseTo(1.3 / 0.225, 10);
    expect(breakEvenUses({ input: "0.3", cacheRead: "0.075", storagePerMillionHour: 1, ttlSeconds: 600 })).toBeCloseTo((0.3 + 1 / 6) / 0.225, 10);
    expect(breakEvenUses({ input: "1.25", cacheRead: "0.31", storagePerMillionHour: 4.5, ttlSeconds: 300 })).toBeCloseTo((1.25 + 4.5 / 12) / 0.94, 10);
  });
  it("is infinite without a cache-read discount", () => {
    expect(breakEvenUses({ input: "0.3", storagePerMillionHour: 1, ttlSeconds: 600 })).toBe(Infinity);
    expect(breakEvenUses({ input: "0.3", cacheRead: "0.3", storagePerMillionHour: 1, ttlSeconds: 600 })).toBe(Infinity);
  });
});

describe("context-cache manager", () => {
  const upstream: UpstreamTarget = { kind: "gemini", baseUrl: "https://gemini.test/v1beta", apiKey: "k-secret", model: "gemini-2.5-flash" };
  const target = (prices: Record<string, string> | null = FLASH, model = "gemini-2.5-flash") =>
    ({ provider: { id: "p1", name: "gem", allowPrivate: false }, modelId: model, model: prices ? { prices } : null }) as unknown as Target;
  const request = (question: string, system = SYSTEM): ChatRequest => ({ model: "x", messages: [{ role: "system", content: system }, { role: "user", content: question }] });

  function fakeTransport(answer: (req: TransportRequest) => { status: number; body: unknown }) {
    const sent: TransportRequest[] = [];
    const transport: Transport = {
      async request(req) {
        sent.push(req);
        const { status, body } = answer(req);
        const text = JSON.stringify(body);
        return { status, headers: new Headers(), body: new Response(text).body!, text: async () => text, json: async () => body };
      },
      close: async () => {},
    };
    return { transport, sent };
  }
  let clock = 1_000_000;
  const now = () => clock;
  let seq = 0;
  const created = () => ({ status: 200, body: { name: `cachedContents/c${++seq}`, model: "models/gemini-2.5-flash", usageMetadata: { totalTokenCount: 1500 }, expireTime: new Date(clock + 600_000).toISOString() } });
  const signal = new AbortController().signal;

  it("creates a cache once the expected reuse passes the break-even, then reuses it until it expires", async () => {
    const { transport, sent } = fakeTransport(created);
    const manager = createContextCacheManager(createMemoryStore({ now }), { now, ttlSeconds: 600 });
    // Flash at 10 minutes: N* = 2.07, so the third request with the prefix creates the cache.
    const acquire = (q: string) => manager.acquire({ target: target(), upstream, request: request(q), transport, signal });
    expect(await acquire("one")).toBeNull();
    expect(await acquire("two")).toBeNull();
    const lease = await acquire("three");
    expect(lease).toMatchObject({ name: "cachedContents/c1", tokens: 1500, created: true });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.url).toBe("https://gemini.test/v1beta/cachedContents");
    const body = JSON.parse(String(sent[0]!.body));
    expect(body).toMatchObject({ model: "models/gemini-2.5-flash", ttl: "600s", systemInstruction: { parts: [{ text: SYSTEM }] } });
    expect(body.contents).toBeUndefined();
    expect((sent[0]!.headers as Record<string, string>)["x-goog-api-key"]).toBe("k-secret");

    expect(await acquire("four")).toMatchObject({ name: "cachedContents/c1", created: false });
    expect(sent).toHaveLength(1);
    // Within the expiry margin the cache is recreated (its use so far counts as the expected reuse).
    clock += 590_000;
    expect(await acquire("five")).toMatchObject({ name: "cachedContents/c2", created: true });
    expect(sent).toHaveLength(2);
  });

  it("keeps different prefixes, models and providers apart", async () => {
    const { transport, sent } = fakeTransport(created);
    const manager = createContextCacheManager(createMemoryStore({ now }), { now });
    for (let i = 0; i < 3; i++) await manager.acquire({ target: target(), upstream, request: request(`q${i}`), transport, signal });
    expect(sent).toHaveLength(1);
    // Another system prompt starts its own count.
    expect(await manager.acquire({ target: target(), upstream, request: request("q", `${SYSTEM} Be brief.`), transport, signal })).toBeNull();
  });

  it("never caches a short prefix, a model without a cache-read price, or unknown prices", async () => {
    const { transport, sent } = fakeTransport(created);
    const manager = createContextCacheManager(createMemoryStore({ now }), { now });
    for (let i = 0; i < 10; i++) {
      await manager.acquire({ target: target(), upstream, request: request(`q${i}`, "Be brief."), transport, signal });
      await manager.acquire({ target: target({ input: "0.3", output: "2.5" }), upstream, request: request(`q${i}`), transport, signal });
      await manager.acquire({ target: target(null), upstream, request: request(`q${i}`), transport, signal });
    }
    expect(sent).toHaveLength(0);
  });

  it("falls back to the normal request when creation fails, and backs off", async () => {
    const { transport, sent } = fakeTransport(() => ({ status: 500, body: { error: { code: 500, message: "boom", status: "INTERNAL" } } }));
    const errors: string[] = [];
    const manager = createContextCacheManager(createMemoryStore({ now }), { now, onError: (m) => errors.push(m) });
    for (let i = 0; i < 6; i++) expect(await manager.acquire({ target: target(), upstream, request: request(`q${i}`), transport, signal })).toBeNull();
    expect(sent).toHaveLength(1);
    expect(errors.join()).not.toContain("k-secret");
  });

  it("the leased adapter names the cache, omits the prefix, and logs the creating call's tokens as a cache write", () => {
    const adapter = getAdapter("gemini");
    const req: ChatRequest = { ...request("Which track?"), tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: {} } } }] };
    const leased = withContextCache(adapter, { name: "cachedContents/abc", key: "k", tokens: 1500, created: true, storagePerMillion: "0.1666666667" });
    const body = JSON.parse(leased.buildRequest(req, upstream).body);
    expect(body.cachedContent).toBe("cachedContents/abc");
    expect(body.systemInstruction).toBeUndefined();
    expect(body.tools).toBeUndefined();
    expect(body.contents).toEqual([{ role: "user", parts: [{ text: "Which track?" }] }]);
    const json = { candidates: [{ content: { role: "model", parts: [{ text: "7" }] }, finishReason: "STOP" }], usageMetadata: { promptTokenCount: 1510, cachedContentTokenCount: 1500, candidatesTokenCount: 1 } };
    expect(leased.parseResponse(json, upstream).usage!.prompt_tokens_details).toEqual({ cached_tokens: 0, cache_write_tokens: 1500 });
    const reused = withContextCache(adapter, { name: "cachedContents/abc", key: "k", tokens: 1500, created: false });
    expect(reused.parseResponse(json, upstream).usage!.prompt_tokens_details).toEqual({ cached_tokens: 1500 });
  });

  it("prices the creating call's cache write with the storage for the TTL; other calls keep the catalog prices", () => {
    expect(storageForTtl(1, 600)).toBe("0.1666666667");
    expect(storageForTtl(4.5, 3600)).toBe("4.5");
    const t = target();
    const lease = { name: "cachedContents/abc", key: "k", tokens: 1500, created: true as const, storagePerMillion: storageForTtl(1, 600) };
    expect(billedTarget(t, lease).model!.prices.cacheWrite).toBe("0.5416666667"); // input 0.30 + storage + read 0.075
    expect(billedTarget(t, lease).model!.prices.cacheRead).toBe(t.model!.prices.cacheRead);
    expect(billedTarget(t, { name: lease.name, key: lease.key, tokens: lease.tokens, created: false })).toBe(t);
    expect(billedTarget(t, null)).toBe(t);
  });

  it("recognizes Gemini's answer for a cache it no longer has", () => {
    const error = getAdapter("gemini").classifyError(403, JSON.stringify({ error: { code: 403, message: "CachedContent not found (or permission denied)", status: "PERMISSION_DENIED" } }), new Headers());
    expect(isMissingCache(error)).toBe(true);
    expect(isMissingCache(getAdapter("gemini").classifyError(403, JSON.stringify({ error: { code: 403, message: "denied", status: "PERMISSION_DENIED" } }), new Headers()))).toBe(false);
  });
});
