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
