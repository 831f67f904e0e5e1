/** The contract every StateStore passes (memory and Redis run the same cases). */
import { describe, expect, it } from "vitest";
import type { StateStore } from "./store";

export function stateStoreContract(name: string, make: () => Promise<StateStore>, options: { skip?: boolean } = {}) {
  describe.skipIf(options.skip ?? false)(`StateStore contract: ${name}`, () => {
    const key = () => `test:${Math.random().toString(36).slice(2)}`;

    it("gets, sets and deletes", async () => {
      const store = await make();
      const k = key();
      expect(await store.get(k)).toBeNull();
      await store.set(k, "v");
      expect(await store.get(k)).toBe("v");
      await store.del(k);
      expect(await store.get(k)).toBeNull();
      await store.close();
    });

    it("expires values after their TTL", async () => {
      const store = await make();
      const k = key();
      await store.set(k, "v", 30);
      expect(await store.get(k)).toBe("v");
      await waitUntil(async () => (await store.get(k)) === null);
      await store.close();
    });

    it("sets only when absent", async () => {
      const store = await make();
      const k = key();
      expect(await store.setIfAbsent(k, "first", 10_000)).toBe(true);
      expect(await store.setIfAbsent(k, "second", 10_000)).toBe(false);
      expect(await store.get(k)).toBe("first");
      await store.close();
    });

    it("counts atomically under concurrency", async () => {
      const store = await make();
      const k = key();
      const results = await Promise.all(Array.from({ length: 200 }, () => store.incrBy(k, 1, 60_000)));
      expect(new Set(results).size).toBe(200);
      expect(Math.max(...results)).toBe(200);
      expect(await store.incrBy(k, -50)).toBe(150);
      await store.close();
    });

    it("reserves only on seeded counters, and seeds each counter once", async () => {
      const store = await make();
      const [a, b] = [key(), key()];
      const request = { counters: [{ key: a, limit: 100n }, { key: b, limit: null }], amount: 10n, minimum: 0n, id: "r1", holdMs: 60_000 };
      expect(await store.reserve(request)).toEqual({ status: "unseeded", index: 0 });
      expect(await store.seedCounter(a, 30n, 60_000)).toBe(true);
      expect(await store.seedCounter(a, 999n, 60_000)).toBe(false);
      expect(await store.reserve(request)).toEqual({ status: "unseeded", index: 1 });
      await store.seedCounter(b, 0n);
      expect(await store.reserve(request)).toEqual({ status: "granted", granted: 10n });
      expect(await store.readCounter(a)).toEqual({ spent: 30n, reserved: 10n, seeded: true });
      expect(await store.readCounter(b)).toEqual({ spent: 0n, reserved: 10n, seeded: true });
      expect(await store.readCounter(key())).toEqual({ spent: 0n, reserved: 0n, seeded: false });
      await store.close();
    });

    it("shrinks a reservation to what is left, and refuses when nothing (or less than the minimum) is left", async () => {
      const store = await make();
      const [a, soft] = [key(), key()];
      await store.seedCounter(a, 0n);
      await store.seedCounter(soft, 0n);
      const counters = [{ key: soft, limit: null }, { key: a, limit: 100n }];
      const reserve = (id: string, amount: bigint, minimum = 0n) => store.reserve({ counters, amount, minimum, id, holdMs: 60_000 });
      expect(await reserve("r1", 70n)).toEqual({ status: "granted", granted: 70n });
      expect(await reserve("r2", 70n)).toEqual({ status: "granted", granted: 30n });
      expect(await reserve("r3", 1n)).toEqual({ status: "exceeded", index: 1, spent: 0n, reserved: 100n });
      await store.settle({ counters, id: "r2", amount: 0n });
      expect(await reserve("r4", 70n, 31n)).toEqual({ status: "exceeded", index: 1, spent: 0n, reserved: 70n });
      // Refused on one counter: reserved on none.
      expect((await store.readCounter(soft)).reserved).toBe(70n);
      await store.close();
    });

    it("settles to the actual amount, ends the hold, and counts settlements on unknown ids", async () => {
      const store = await make();
      const a = key();
      await store.seedCounter(a, 5n, 60_000);
      const counters = [{ key: a, limit: 1_000n, ttlMs: 60_000 }];
      await store.reserve({ counters, amount: 400n, minimum: 0n, id: "r1", holdMs: 60_000 });
      expect(await store.settle({ counters, id: "r1", amount: 123n })).toEqual([128n]);
      expect(await store.settle({ counters, id: "r1", amount: 0n })).toEqual([128n]);
      expect(await store.settle({ counters, id: "unknown", amount: 2n })).toEqual([130n]);
      expect(await store.readCounter(a)).toEqual({ spent: 130n, reserved: 0n, seeded: true });
      await store.close();
    });

    it("keeps amounts exact beyond 2^53 units in the stored sums", async () => {
      const store = await make();
      const a = key();
      const big = 2n ** 60n + 7n;
      await store.seedCounter(a, big);
      expect(await store.settle({ counters: [{ key: a }], id: "x", amount: 3n })).toEqual([big + 3n]);
      await store.close();
    });

    it("never grants more than the limit under concurrency, and reservations return to zero", async () => {
      const store = await make();
      const a = key();
      await store.seedCounter(a, 0n, 60_000);
      const counters = [{ key: a, limit: 10_000n, ttlMs: 60_000 }];
      const outcomes = await Promise.all(
        Array.from({ length: 300 }, (_, i) => store.reserve({ counters, amount: 70n, minimum: 10n, id: `r${i}`, holdMs: 60_000 })),
      );
      const granted = outcomes.map((o) => (o.status === "granted" ? o.granted : 0n));
      const total = granted.reduce((x, y) => x + y, 0n);
      expect(total).toBeLessThanOrEqual(10_000n);
      expect(total).toBeGreaterThan(10_000n - 10n);
      await Promise.all(granted.map((g, i) => store.settle({ counters, id: `r${i}`, amount: g / 2n })));
      expect(await store.readCounter(a)).toEqual({ spent: granted.reduce((x, g) => x + g / 2n, 0n), reserved: 0n, seeded: true });
      await store.close();
    });

    it("drops reservations whose hold lapsed", async () => {
      const store = await make();
      const a = key();
      await store.seedCounter(a, 0n);
      await store.reserve({ counters: [{ key: a, limit: 100n }], amount: 60n, minimum: 0n, id: "crashed", holdMs: 20 });
      expect((await store.readCounter(a)).reserved).toBe(60n);
      await waitUntil(async () => (await store.readCounter(a)).reserved === 0n);
      expect(await store.reserve({ counters: [{ key: a, limit: 100n }], amount: 100n, minimum: 0n, id: "next", holdMs: 60_000 })).toEqual({
        status: "granted",
        granted: 100n,
      });
      await store.close();
    });

    it("admits exactly the limit of a window under concurrency, all windows or none", async () => {
      const store = await make();
      const [rpm, team] = [key(), key()];
      const results = await Promise.all(
        Array.from({ length: 60 }, () => store.hitWindows({ windowMs: 60_000, windows: [{ key: rpm, limit: 20, amount: 1 }] })),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(20);
      const refused = results.find((r) => !r.allowed)!;
      expect(refused.deniedIndex).toBe(0);
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(120_000);
      expect(refused.windows[0]!.count).toBeCloseTo(20, 5);

      // The team window is full: the key window must not count the refused hit.
      await store.hitWindows({ windowMs: 60_000, windows: [{ key: team, limit: 5, amount: 5 }] });
      const both = await store.hitWindows({ windowMs: 60_000, windows: [{ key: key(), limit: 10, amount: 1 }, { key: team, limit: 5, amount: 1 }] });
      expect(both).toMatchObject({ allowed: false, deniedIndex: 1 });
      const fresh = key();
      const ok = await store.hitWindows({ windowMs: 60_000, windows: [{ key: fresh, limit: 10, amount: 3 }] });
      expect(ok).toMatchObject({ allowed: true, deniedIndex: null, retryAfterMs: 0 });
      expect(ok.windows[0]!.count).toBeCloseTo(3, 5);
      expect(ok.windows[0]!.resetMs).toBeGreaterThan(60_000);
      await store.close();
    });

    it("adds to windows without a limit, never below zero", async () => {
      const store = await make();
      const k = key();
      // An hour-long window, so the test does not cross a slot boundary.
      const windowMs = 3_600_000;
      await store.addWindows({ windowMs, windows: [{ key: k, amount: 8 }] });
      expect((await store.hitWindows({ windowMs, windows: [{ key: k, limit: 10, amount: 3 }] })).allowed).toBe(false);
      await store.addWindows({ windowMs, windows: [{ key: k, amount: -100 }] });
      const hit = await store.hitWindows({ windowMs, windows: [{ key: k, limit: 10, amount: 10 }] });
      expect(hit.allowed).toBe(true);
      expect(hit.windows[0]!.count).toBeCloseTo(10, 5);
      await store.close();
    });

    it("answers ping", async () => {
      const store = await make();
      await expect(store.ping()).resolves.toBeUndefined();
      await store.close();
    });
  });
}

/** Polls a condition (no fixed sleeps): resolves once it holds, fails after `timeoutMs`. */
export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
