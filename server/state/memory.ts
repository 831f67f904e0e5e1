import { LRUCache } from "lru-cache";
import type { StateStore } from "./store";

/** Single-process store. Bounded (LRU) so a flood of distinct keys cannot grow memory without limit. */
export function createMemoryStore(options: { max?: number; now?: () => number } = {}): StateStore {
  const cache = new LRUCache<string, string>({
    max: options.max ?? 100_000,
    ttlAutopurge: false,
    ...(options.now ? { perf: { now: options.now } } : {}),
  });
  const ttlOption = (ttlMs?: number) => (ttlMs && ttlMs > 0 ? { ttl: ttlMs } : {});
  return {
    kind: "memory",
    async get(key) {
      return cache.get(key) ?? null;
    },
    async set(key, value, ttlMs) {
      cache.set(key, value, ttlOption(ttlMs));
    },
    async setIfAbsent(key, value, ttlMs) {
      if (cache.has(key)) return false;
      cache.set(key, value, ttlOption(ttlMs));
      return true;
    },
    async del(key) {
      cache.delete(key);
    },
    async incrBy(key, by, ttlMs) {
      const current = cache.get(key);
      if (current === undefined) {
        cache.set(key, String(by), ttlOption(ttlMs));
        return by;
      }
      const next = Number(current) + by;
      // Keep the remaining TTL: only the value changes.
      cache.set(key, String(next), { noUpdateTTL: true });
      return next;
    },
    async ping() {},
    async close() {
      cache.clear();
    },
  };
}
