import { Redis } from "ioredis";
import type { StateStore } from "./store";

/** Shared store for several instances. Commands fail fast (no offline queue) so callers can fail closed. */
export async function createRedisStore(url: string, options: { prefix?: string } = {}): Promise<StateStore> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    keyPrefix: options.prefix ?? "sy:",
  });
  redis.on("error", () => {}); // surfaced to callers by the failing command
  await redis.connect();
  return {
    kind: "redis",
    async get(key) {
      return redis.get(key);
    },
    async set(key, value, ttlMs) {
      if (ttlMs && ttlMs > 0) await redis.set(key, value, "PX", ttlMs);
      else await redis.set(key, value);
    },
    async setIfAbsent(key, value, ttlMs) {
      const result =
        ttlMs && ttlMs > 0 ? await redis.set(key, value, "PX", ttlMs, "NX") : await redis.set(key, value, "NX");
      return result === "OK";
    },
    async del(key) {
      await redis.del(key);
    },
    async incrBy(key, by, ttlMs) {
      if (!ttlMs || ttlMs <= 0) return redis.incrby(key, by);
      const [[, value]] = (await redis.multi().incrby(key, by).pexpire(key, ttlMs, "NX").exec()) as [
        [Error | null, number],
      ];
      return value;
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
