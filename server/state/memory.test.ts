import { describe, expect, it } from "vitest";
import { createMemoryStore } from "./memory";
import { slidingWindow } from "./store";
import { stateStoreContract } from "./store.contract";

stateStoreContract("memory", async () => createMemoryStore());

describe("sliding windows (memory store, injected clock)", () => {
  const windowMs = 60_000;

  it("weighs the previous minute by how much of it still overlaps", async () => {
    const clock = { now: 10 * windowMs };
    const store = createMemoryStore({ now: () => clock.now });
    const hit = () => store.hitWindows({ windowMs, windows: [{ key: "k", limit: 10, amount: 1 }] });
    for (let i = 0; i < 10; i++) expect((await hit()).allowed).toBe(true);
    const refused = await hit();
    expect(refused).toMatchObject({ allowed: false, deniedIndex: 0 });
    // Nothing frees up before the next slot; there, the full previous slot decays: 1/10 of a minute per request.
    expect(refused.retryAfterMs).toBe(windowMs + 6_000);

    clock.now = 11 * windowMs + 6_000; // 90% of the previous slot still weighs: 9 + 0
    expect((await hit()).allowed).toBe(true);
    expect((await hit()).allowed).toBe(false);
    clock.now = 11 * windowMs + 30_000; // 50%: 5 + 1
    const more = await Promise.all(Array.from({ length: 6 }, hit));
    expect(more.filter((r) => r.allowed)).toHaveLength(4);
    clock.now = 13 * windowMs; // two slots later: everything has expired
    expect((await hit()).windows[0]!.count).toBe(1);
  });

  it("computes retry times from the decay", () => {
    // 10 in the previous slot, 0 now, 30 s in: weighted 5, so 3 more fit under 10 at once.
    expect(slidingWindow(10, 0, 30_000, windowMs).retryAfter(10, 3)).toBe(0);
    // 10 previous, 4 current, 30 s in: 9; one more fits when 10·w + 4 + 1 ≤ 10 → w ≤ 0.5 → now.
    expect(slidingWindow(10, 4, 30_000, windowMs).retryAfter(10, 1)).toBe(0);
    // 10 previous, 5 current, 30 s in: 10; one more fits when 10·w ≤ 4 → 6 s later.
    expect(slidingWindow(10, 5, 30_000, windowMs).retryAfter(10, 1)).toBe(6_000);
    // The current slot alone is full: the next slot, then its decay.
    expect(slidingWindow(0, 10, 30_000, windowMs).retryAfter(10, 1)).toBe(30_000 + 6_000);
    // More than the limit can never fit: bounded by the time the window needs to empty.
    expect(slidingWindow(0, 0, 0, windowMs).retryAfter(10, 11)).toBe(windowMs);
  });
});

describe("reservations (memory store, injected clock)", () => {
  it("lapses a hold exactly when it expires", async () => {
    const clock = { now: 1_000 };
    const store = createMemoryStore({ now: () => clock.now });
    await store.seedCounter("b", 0n);
    await store.reserve({ counters: [{ key: "b", limit: 10n }], amount: 10n, minimum: 0n, id: "r", holdMs: 500 });
    clock.now = 1_499;
    expect((await store.readCounter("b")).reserved).toBe(10n);
    clock.now = 1_500;
    expect((await store.readCounter("b")).reserved).toBe(0n);
    // Settling the lapsed reservation still records the spend.
    expect(await store.settle({ counters: [{ key: "b" }], id: "r", amount: 7n })).toEqual([7n]);
  });
});
