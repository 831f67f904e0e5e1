/**
 * Gemini explicit context caching: for a large stable prefix (system instruction, tools, tool config) that is
 * reused often enough to pay for its storage, create a `cachedContents` resource once and let later requests name
 * it (`cachedContent: "cachedContents/…"`) instead of resending the prefix, which Gemini then bills at its
 * cache-read rate.
 *
 * Break-even (per prefix, T tokens, catalog prices per token: input p_in, cache read p_read; storage p_store per
 * token-hour; TTL h hours; N requests expected to use the prefix during the TTL):
 *   without a cache: N · T · p_in
 *   with a cache:    T · p_in (creation is billed as input) + T · p_store · h + N · T · p_read
 * so a cache pays off when N > N* = (p_in + p_store · h) / (p_in − p_read). N is predicted from the requests seen
 * with this prefix in the current observation window (one TTL long): the rate so far is assumed to continue.
 * Gemini 2.5 Flash (0.30 / 0.075, storage 1.00 per 1M tokens per hour): N* = 2.07 at a 10-minute TTL, 5.8 at 1 h.
 * No cache-read price (or one not below the input price), unknown prices, or a prefix below the model's minimum
 * (1,024 tokens; 4,096 for Pro models) → never.
 *
 * The manager keeps, per (provider, model, prefix hash), the cache's name and expiry in the state store (memory,
 * or Redis so every instance reuses one cache), creates a cache under a short lock (one creator at a time),
 * recreates it once it expired (a margin before the expiry, so a request never names a cache that lapses in
 * flight), and falls back to the normal request whenever creation fails (then waits `failureBackoffMs` before
 * trying that prefix again). A request whose cache vanished upstream is retried once without it (see execute.ts).
 */
import type { ProviderAdapter, StreamParser } from "../providers/adapter";
import { buildHeaders } from "../providers/openai";
import { geminiCachedContentsUrl, geminiCachedPrefix, geminiModelName } from "../providers/gemini";
import type { Transport } from "../providers/transport";
import { toChatUsage, type ChatRequest, type ChatResponse, type NormalizedUsage, type UpstreamError, type UpstreamTarget } from "../providers/types";
import type { Target } from "../routing/types";
import type { Runtime } from "../runtime";
import type { StateStore } from "../state/store";
import { estimatePromptTokens } from "../gateway/tokens";
import { decimalToString, divRound, parseDecimal } from "../catalog/money";
import { sha256, stableStringify } from "./key";

/** Storage, USD per 1M tokens per hour (Gemini API pricing, 2025–2026): Pro models 4.50, the others 1.00. */
export function geminiStoragePerMillionHour(model: string): number {
  return /pro/.test(model) ? 4.5 : 1.0;
}

/** The smallest prefix Gemini caches explicitly (Gemini API docs: 1,024 for Flash, 4,096 for Pro). */
export function geminiMinimumTokens(model: string): number {
  return /pro/.test(model) ? 4096 : 1024;
}

export interface BreakEvenInput {
  /** USD per 1M tokens, as catalog decimals. */
  input: string;
  cacheRead?: string;
  storagePerMillionHour: number;
  ttlSeconds: number;
}

/** N*: the expected uses within the TTL above which a cache is cheaper; Infinity when it never is. */
export function breakEvenUses(prices: BreakEvenInput): number {
  if (prices.cacheRead === undefined) return Number.POSITIVE_INFINITY;
  const input = Number(parseDecimal(prices.input)) / 1e10;
  const read = Number(parseDecimal(prices.cacheRead)) / 1e10;
  if (!(input > read)) return Number.POSITIVE_INFINITY;
  return (input + prices.storagePerMillionHour * (prices.ttlSeconds / 3600)) / (input - read);
}

export interface ContextCacheOptions {
  /** Lifetime of a created cache. Default 600 s. */
  ttlSeconds: number;
  /** A cache is not named when it expires within this margin (it is recreated instead). Default 30 s. */
  expiryMarginMs: number;
  /** After a failed creation, how long that prefix goes without a cache. Default 5 minutes. */
  failureBackoffMs: number;
  now: () => number;
  /** Storage price by model (USD per 1M tokens per hour). */
  storagePerMillionHour: (model: string) => number;
  /** Told about failed creations (the caller logs; never contains the key). */
  onError?: (message: string, detail: Record<string, unknown>) => void;
}

export const DEFAULT_CONTEXT_CACHE_OPTIONS: ContextCacheOptions = {
  ttlSeconds: 600,
  expiryMarginMs: 30_000,
  failureBackoffMs: 300_000,
  now: Date.now,
  storagePerMillionHour: geminiStoragePerMillionHour,
};

/** A cache an attempt may name. */
export type ContextCacheLease = {
  name: string;
  /** The state key of the entry (to forget it when the upstream no longer has it). */
  key: string;
  /** Prompt tokens the cache holds (as the upstream counted them). */
  tokens: number;
} & (
  | { created: false }
  | {
      /** This attempt created it: its tokens are logged as a cache write. */
      created: true;
      /** Storage of one cached token for the cache's TTL, USD per 1M tokens (a catalog decimal); billed with the write. */
      storagePerMillion: string;
    }
);

export interface AcquireInput {
  target: Target;
  upstream: UpstreamTarget;
  request: ChatRequest;
  transport: Transport;
  signal: AbortSignal;
  /** The attempt's parameters to drop (as its build uses them). */
  dropParams?: ReadonlySet<string>;
}

export interface ContextCacheManager {
  /** For Gemini-protocol targets only: the cache this attempt should name, creating it when the break-even says so; null = send the normal request. */
  acquire(input: AcquireInput): Promise<ContextCacheLease | null>;
  /** Drops a cache the upstream no longer knows (its next use recreates it when still worth it). */
  forget(lease: ContextCacheLease): Promise<void>;
}

interface StoredEntry {
  name: string;
  expireAt: number;
  tokens: number;
}

/** Storage of one token for `ttlSeconds`, USD per 1M tokens, as a catalog decimal (rounded to 10^-10). */
export function storageForTtl(storagePerMillionHour: number, ttlSeconds: number): string {
  return decimalToString(divRound(parseDecimal(String(storagePerMillionHour)) * BigInt(Math.round(ttlSeconds)), 3600n));
}

/**
 * The target a call that created a cache is priced with. Its cached tokens were billed three times over: the
 * creation (as input), the storage per token-hour for the TTL, and this call's own read of the cache (at the
 * cache-read rate). So its cache-write tokens cost the write (or input) price + the storage + the read price. The
 * other calls that read the cache pay only the read rate; the call log then holds the cache's whole cost.
 */
export function billedTarget(target: Target, lease: ContextCacheLease | null): Target {
  if (!lease?.created || !target.model) return target;
  const prices = target.model.prices;
  const write = parseDecimal(prices.cacheWrite ?? prices.input) + parseDecimal(lease.storagePerMillion) + parseDecimal(prices.cacheRead ?? "0");
  return { ...target, model: { ...target.model, prices: { ...prices, cacheWrite: decimalToString(write) } } };
}

export function createContextCacheManager(state: StateStore, options: Partial<ContextCacheOptions> = {}): ContextCacheManager {
  const o = { ...DEFAULT_CONTEXT_CACHE_OPTIONS, ...options };
  const ttlMs = o.ttlSeconds * 1000;

  return {
    async acquire({ target, upstream, request, transport, signal, dropParams }) {
      const prices = target.model?.prices;
      if (!prices) return null;
      const threshold = breakEvenUses({ input: prices.input, cacheRead: prices.cacheRead, storagePerMillionHour: o.storagePerMillionHour(target.modelId), ttlSeconds: o.ttlSeconds });
      if (!Number.isFinite(threshold)) return null;
      const stable = request.messages.filter((m) => m.role === "system" || m.role === "developer");
      if (estimatePromptTokens(stable, request.tools) < geminiMinimumTokens(target.modelId)) return null;
      let prefix: Record<string, unknown> | null;
      try {
        prefix = geminiCachedPrefix(request, upstream, dropParams ? { dropParams } : undefined);
      } catch {
        return null; // the normal build reports the problem
      }
      if (!prefix) return null;
      const key = `gcc:${sha256(stableStringify({ provider: target.provider.id, model: target.modelId, prefix })).slice(0, 40)}`;
      const now = o.now();
      try {
        const entry = parseEntry(await state.get(key));
        if (entry && entry.expireAt - o.expiryMarginMs > now) {
          await state.incrBy(`${key}:uses`, 1, 2 * ttlMs);
          return { name: entry.name, key, tokens: entry.tokens, created: false };
        }
        // Expected uses during the TTL: the requests seen with this prefix in the current window (this one
        // included), or, when a cache of it just expired, how often that one was used.
        const seen = await state.incrBy(`${key}:seen`, 1, ttlMs);
        const previous = entry ? Number((await state.get(`${key}:uses`)) ?? 0) : 0;
        if (Math.max(seen, previous) <= threshold) return null;
        if (await state.get(`${key}:failed`)) return null;
        if (!(await state.setIfAbsent(`${key}:lock`, String(now), 30_000))) return null; // another call is creating it
        try {
          const created = await create(transport, target, upstream, prefix, signal);
          if (!created) {
            await state.set(`${key}:failed`, "1", o.failureBackoffMs);
            return null;
          }
          const stored: StoredEntry = { name: created.name, expireAt: created.expireAt, tokens: created.tokens };
          // Kept a TTL beyond the expiry, so the next request knows how much the expired cache was used.
          await state.set(key, JSON.stringify(stored), Math.max(1, created.expireAt - now) + ttlMs);
          await state.set(`${key}:uses`, "1", Math.max(1, created.expireAt - now) + ttlMs);
          const storagePerMillion = storageForTtl(o.storagePerMillionHour(target.modelId), o.ttlSeconds);
          return { name: created.name, key, tokens: created.tokens, created: true, storagePerMillion };
        } finally {
          await state.del(`${key}:lock`);
        }
      } catch (error) {
        // Never fails the call: a store or network problem (or the client leaving) means the full request.
        if (signal.aborted) return null;
        o.onError?.("context cache unavailable; sending the full request", { provider: target.provider.name, model: target.modelId, error: String(error) });
        return null;
      }
    },
    async forget(lease) {
      await state.del(lease.key).catch(() => {});
    },
  };

  async function create(transport: Transport, target: Target, upstream: UpstreamTarget, prefix: Record<string, unknown>, signal: AbortSignal) {
    const body = { model: geminiModelName(upstream.model), ...prefix, ttl: `${o.ttlSeconds}s` };
    const response = await transport.request({
      url: geminiCachedContentsUrl(upstream),
      method: "POST",
      headers: buildHeaders(upstream, "x-goog-api-key"),
      body: JSON.stringify(body),
      signal,
      allowPrivate: target.provider.allowPrivate,
    });
    const text = await response.text().catch(() => "");
    if (response.status < 200 || response.status >= 300) {
      o.onError?.("cachedContents.create failed; sending the full request", { provider: target.provider.name, model: target.modelId, status: response.status });
      return null;
    }
    let json: { name?: unknown; expireTime?: unknown; usageMetadata?: { totalTokenCount?: unknown } };
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      return null;
    }
    if (typeof json.name !== "string" || !json.name.startsWith("cachedContents/")) return null;
    const expireAt = typeof json.expireTime === "string" ? Date.parse(json.expireTime) : Number.NaN;
    const tokens = typeof json.usageMetadata?.totalTokenCount === "number" ? json.usageMetadata.totalTokenCount : 0;
    return { name: json.name, expireAt: Number.isFinite(expireAt) ? expireAt : o.now() + ttlMs, tokens };
  }
}

function parseEntry(raw: string | null): StoredEntry | null {
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as StoredEntry;
    return typeof value.name === "string" && typeof value.expireAt === "number" ? value : null;
  } catch {
    return null;
  }
}

/** True for Gemini's answer to a request naming a cache it no longer has (expired early, deleted). */
export function isMissingCache(error: unknown): boolean {
  const e = error as Partial<UpstreamError> | null;
  return typeof e?.message === "string" && /cachedcontent/i.test(e.message) && (e.status === 403 || e.status === 404 || e.status === 400);
}

/**
 * The adapter an attempt uses with a lease: requests name the cache and omit its prefix; when this attempt created
 * the cache, the usage reports the cached tokens as a cache write (billed at the write rate — for Gemini the input
 * price, which is what creation costs — plus the storage for the TTL, see `billedTarget`) instead of a read, so the
 * call row carries the creation's cost.
 */
export function withContextCache(adapter: ProviderAdapter, lease: ContextCacheLease): ProviderAdapter {
  const adjust = (usage: NormalizedUsage): NormalizedUsage => {
    if (!lease.created || usage.cachedInput === 0) return usage;
    const written = Math.min(usage.cachedInput, usage.input - usage.cacheWrite);
    return { ...usage, cachedInput: usage.cachedInput - written, cacheWrite: usage.cacheWrite + written };
  };
  return {
    ...adapter,
    buildRequest: (req, target, options) => adapter.buildRequest(req, target, { ...options, cachedContent: lease.name }),
    parseResponse(json, target): ChatResponse {
      const response = adapter.parseResponse(json, target);
      if (!lease.created || !response.usage) return response;
      const cached = response.usage.prompt_tokens_details?.cached_tokens ?? 0;
      const usage = adjust({
        input: response.usage.prompt_tokens,
        cachedInput: cached,
        cacheWrite: response.usage.prompt_tokens_details?.cache_write_tokens ?? 0,
        output: response.usage.completion_tokens,
        reasoning: response.usage.completion_tokens_details?.reasoning_tokens ?? 0,
      });
      return { ...response, usage: toChatUsage(usage) };
    },
    createStreamParser(target): StreamParser {
      const parser = adapter.createStreamParser(target);
      return {
        push: (event) => parser.push(event),
        end: () =>
          parser.end().map((chunk) => {
            const usage = parser.usage();
            return chunk.usage && usage ? { ...chunk, usage: toChatUsage(adjust(usage)) } : chunk;
          }),
        usage: () => {
          const usage = parser.usage();
          return usage ? adjust(usage) : null;
        },
        finished: () => parser.finished(),
        outputCounted: () => parser.outputCounted(),
      };
    },
  };
}

const managers = new WeakMap<Runtime, ContextCacheManager>();

/** The context-cache manager of a runtime (on rt.state; created with the default options on first use). */
export function contextCacheFor(rt: Runtime): ContextCacheManager {
  let manager = managers.get(rt);
  if (!manager) {
    manager = createContextCacheManager(rt.state, { onError: (message, detail) => rt.log.warn(detail, message) });
    managers.set(rt, manager);
  }
  return manager;
}

/** Replaces a runtime's manager (tests: a short TTL, a fake clock). */
export function configureContextCache(rt: Runtime, options: Partial<ContextCacheOptions>): ContextCacheManager {
  const manager = createContextCacheManager(rt.state, { onError: (message, detail) => rt.log.warn(detail, message), ...options });
  managers.set(rt, manager);
  return manager;
}
