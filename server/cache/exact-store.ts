/**
 * Storage for the exact response cache: an in-memory LRU bounded by bytes (the default), or Redis when REDIS_URL is
 * set so every instance shares one cache. Both implementations pass the same contract suite
 * (exact-store.contract.ts).
 *
 * Keys are structured `<org>/<team>/<key scope>/<rule>:<generation>/<namespace>/<hash>` so a purge by organization,
 * team or rule can find its entries by prefix (Redis SCAN with MATCH) without reading unrelated ones.
 */
import { loadRedis } from "../state/ioredis";
import { LRUCache } from "lru-cache";
import type { CachedAnswer } from "../gateway/hooks";

/** What the cache keeps for one answer. */
export type StoredAnswer = Omit<CachedAnswer, "outcome" | "similarity">;

export interface ExactEntry {
  answer: StoredAnswer;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms; the backend's own TTL removes the entry about then, and readers check it against their clock. */
  expiresAt: number;
  /** Serialized size, for the memory bound and the rule's max entry size. */
  bytes: number;
}

/** Which entries a purge removes; every given field must match. */
export interface PurgeFilter {
  orgId: string;
  teamId?: string;
  ruleId?: string;
  /** Entries created before this instant (epoch ms). */
  before?: number;
}

export interface ExactStore {
  readonly kind: "memory" | "redis";
  get(key: string): Promise<ExactEntry | null>;
  set(key: string, entry: ExactEntry, ttlMs: number): Promise<void>;
  /** Removes matching entries; returns how many. */
  purge(filter: PurgeFilter): Promise<number>;
  close(): Promise<void>;
}

/** Components of an exact-store key (see the module comment). */
export interface KeyParts {
  orgId: string;
  teamId: string;
  /** The API key id when the rule scopes per key, else "*". */
  keyScope: string;
  /** The rule id, or "default". */
  rule: string;
  generation: number;
  namespace: string;
  hash: string;
}

export function storeKey(p: KeyParts): string {
  return `${p.orgId}/${p.teamId}/${p.keyScope}/${p.rule}:${p.generation}/${p.namespace || "-"}/${p.hash}`;
}

/** Whether a store key belongs to a purge filter's org, team and rule (the age is checked on the entry). */
function keyMatches(key: string, filter: PurgeFilter): boolean {
  const [org, team, , ruleGen] = key.split("/");
  if (org !== filter.orgId) return false;
  if (filter.teamId !== undefined && team !== filter.teamId) return false;
  if (filter.ruleId !== undefined && ruleGen?.slice(0, ruleGen.lastIndexOf(":")) !== filter.ruleId) return false;
  return true;
}

/** A glob for Redis SCAN MATCH narrowing a purge to the org (and team) prefix; ids never contain glob characters. */
function matchPattern(filter: PurgeFilter): string {
  return filter.teamId !== undefined ? `${filter.orgId}/${filter.teamId}/*` : `${filter.orgId}/*`;
}

export function createMemoryExactStore(options: { maxBytes?: number; now?: () => number } = {}): ExactStore {
  const cache = new LRUCache<string, ExactEntry>({
    maxSize: options.maxBytes ?? 256 * 1024 * 1024,
    sizeCalculation: (entry, key) => entry.bytes + key.length,
    ttlAutopurge: false,
    // An injected clock is read on every check (lru-cache otherwise caches "now" for a millisecond of real time).
    ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
  });
  return {
    kind: "memory",
    async get(key) {
      return cache.get(key) ?? null;
    },
    async set(key, entry, ttlMs) {
      cache.set(key, entry, { ttl: ttlMs });
    },
    async purge(filter) {
      let removed = 0;
      for (const [key, entry] of cache.entries()) {
        if (!keyMatches(key, filter)) continue;
        if (filter.before !== undefined && entry.createdAt >= filter.before) continue;
        cache.delete(key);
        removed += 1;
      }
      return removed;
    },
    async close() {
      cache.clear();
    },
  };
}

/**
 * The Redis store. Commands fail fast (no offline queue); callers treat a failure as a miss, because a cache
 * outage must never fail a call.
 */
export async function createRedisExactStore(url: string, options: { prefix?: string } = {}): Promise<ExactStore> {
  const prefix = options.prefix ?? "sy:rc:";
  const RedisClient = await loadRedis();
  const redis = new RedisClient(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    keyPrefix: prefix,
  });
  redis.on("error", () => {}); // surfaced to callers by the failing command
  await redis.connect();
  return {
    kind: "redis",
    async get(key) {
      const raw = await redis.get(key);
      return raw === null ? null : (JSON.parse(raw) as ExactEntry);
    },
    async set(key, entry, ttlMs) {
      await redis.set(key, JSON.stringify(entry), "PX", Math.max(1, Math.round(ttlMs)));
    },
    async purge(filter) {
      let removed = 0;
      let cursor = "0";
      do {
        // SCAN sees the full key names (keyPrefix is not applied to MATCH), so the prefix is part of the pattern.
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}${matchPattern(filter)}`, "COUNT", 500);
        cursor = next;
        const own = keys.map((k) => k.slice(prefix.length)).filter((k) => keyMatches(k, filter));
        let doomed = own;
        if (filter.before !== undefined && own.length > 0) {
          const values = await redis.mget(own);
          doomed = own.filter((_, i) => {
            const raw = values[i];
            return raw !== null && raw !== undefined && (JSON.parse(raw) as ExactEntry).createdAt < filter.before!;
          });
        }
        if (doomed.length > 0) removed += await redis.del(...doomed);
      } while (cursor !== "0");
      return removed;
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
