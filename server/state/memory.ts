import { LRUCache } from "lru-cache";
import { slidingWindow, windowSlotTtlMs, type CounterState, type StateStore } from "./store";

interface Counter {
  spent: bigint;
  reserved: bigint;
  seeded: boolean;
  /** Reservation id → amount held and when the hold lapses. */
  holds: Map<string, { amount: bigint; until: number }>;
}

/**
 * Single-process store. Bounded (LRU) so a flood of distinct keys cannot grow memory without limit. Every operation
 * runs synchronously inside one call, so each is atomic with respect to the others, like the Redis scripts.
 */
export function createMemoryStore(options: { max?: number; now?: () => number } = {}): StateStore {
  const now = options.now ?? Date.now;
  // An injected clock is read on every check: lru-cache otherwise keeps the last reading until a real 1 ms timer
  // fires, so a clock moved between two calls in one tick was not seen (entries outlived their TTL).
  const perf = options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {};
  const max = options.max ?? 100_000;
  const cache = new LRUCache<string, string>({ max, ttlAutopurge: false, ...perf });
  const counters = new LRUCache<string, Counter>({ max, ttlAutopurge: false, ...perf });
  const slots = new LRUCache<string, number>({ max, ttlAutopurge: false, ...perf });
  const ttlOption = (ttlMs?: number) => (ttlMs && ttlMs > 0 ? { ttl: ttlMs } : {});

  /** The counter with lapsed holds dropped; created (unseeded) when `create` is set. */
  const counter = (key: string, create: boolean, ttlMs?: number): Counter | undefined => {
    let entry = counters.get(key);
    if (!entry) {
      if (!create) return undefined;
      entry = { spent: 0n, reserved: 0n, seeded: false, holds: new Map() };
      counters.set(key, entry, ttlOption(ttlMs));
      return entry;
    }
    const at = now();
    for (const [id, hold] of entry.holds) {
      if (hold.until <= at) {
        entry.reserved -= hold.amount;
        entry.holds.delete(id);
      }
    }
    return entry;
  };
  const slot = (key: string, index: number) => `${key}:${index}`;

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

    async reserve({ counters: requested, amount, minimum, id, holdMs }) {
      const entries = requested.map((c) => counter(c.key, false));
      const unseeded = entries.findIndex((e) => !e?.seeded);
      if (unseeded >= 0) return { status: "unseeded", index: unseeded };
      let granted = amount;
      for (const [index, c] of requested.entries()) {
        if (c.limit === null) continue;
        const entry = entries[index]!;
        const available = c.limit - entry.spent - entry.reserved;
        if (available <= 0n || available < minimum) {
          return { status: "exceeded", index, spent: entry.spent, reserved: entry.reserved };
        }
        if (available < granted) granted = available;
      }
      const until = now() + holdMs;
      for (const entry of entries) {
        entry!.reserved += granted;
        entry!.holds.set(id, { amount: granted, until });
      }
      return { status: "granted", granted };
    },
    async settle({ counters: requested, id, amount }) {
      return requested.map((c) => {
        const entry = counter(c.key, true, c.ttlMs)!;
        const hold = entry.holds.get(id);
        if (hold) {
          entry.reserved -= hold.amount;
          entry.holds.delete(id);
        }
        entry.spent += amount;
        return entry.spent;
      });
    },
    async seedCounter(key, spent, ttlMs) {
      const entry = counter(key, true, ttlMs)!;
      if (entry.seeded) return false;
      entry.spent += spent;
      entry.seeded = true;
      if (ttlMs && ttlMs > 0) counters.set(key, entry, { ttl: ttlMs });
      return true;
    },
    async readCounter(key): Promise<CounterState> {
      const entry = counter(key, false);
      return entry ? { spent: entry.spent, reserved: entry.reserved, seeded: entry.seeded } : { spent: 0n, reserved: 0n, seeded: false };
    },

    async hitWindows({ windowMs, windows }) {
      const at = now();
      const index = Math.floor(at / windowMs);
      const elapsed = at - index * windowMs;
      const states = windows.map((w) => {
        const cur = slots.get(slot(w.key, index)) ?? 0;
        return { cur, window: slidingWindow(slots.get(slot(w.key, index - 1)) ?? 0, cur, elapsed, windowMs) };
      });
      const deniedIndex = windows.findIndex((w, i) => states[i]!.window.count + w.amount > w.limit);
      if (deniedIndex >= 0) {
        const w = windows[deniedIndex]!;
        return {
          allowed: false,
          deniedIndex,
          retryAfterMs: states[deniedIndex]!.window.retryAfter(w.limit, w.amount),
          windows: states.map((s) => ({ count: s.window.count, resetMs: s.window.resetMs })),
        };
      }
      return {
        allowed: true,
        deniedIndex: null,
        retryAfterMs: 0,
        windows: windows.map((w, i) => {
          const { cur, window } = states[i]!;
          slots.set(slot(w.key, index), cur + w.amount, { ttl: windowSlotTtlMs(windowMs) });
          return { count: window.count + w.amount, resetMs: w.amount > 0 ? 2 * windowMs - elapsed : window.resetMs };
        }),
      };
    },
    async addWindows({ windowMs, windows }) {
      const index = Math.floor(now() / windowMs);
      for (const w of windows) {
        const key = slot(w.key, index);
        slots.set(key, Math.max(0, (slots.get(key) ?? 0) + w.amount), { ttl: windowSlotTtlMs(windowMs) });
      }
    },

    async ping() {},
    async close() {
      cache.clear();
      counters.clear();
      slots.clear();
    },
  };
}
