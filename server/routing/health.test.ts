import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../state/memory";
import type { StateStore } from "../state/store";
import { createHealthTracker, type HealthOptions } from "./health";

function setup(options: Partial<HealthOptions> = {}, store?: StateStore) {
  const clock = { t: 1_000_000 };
  const now = () => clock.t;
  const shared = store ?? createMemoryStore({ now, max: 1_000 });
  const tracker = createHealthTracker(shared, {
    now,
    windowMs: 10_000,
    refreshMs: 100,
    breaker: { failureThreshold: 3, failureRate: 0.5, cooldownMs: 1_000, maxCooldownMs: 8_000, probeTimeoutMs: 5_000 },
    ...options,
  });
  return { clock, tracker, store: shared };
}

describe("health tracker", () => {
  it("counts outcomes over a sliding window that decays", async () => {
    const { clock, tracker } = setup();
    tracker.success("t", { ttftMs: 100, totalMs: 200 });
    tracker.failure("t", "server_error");
    tracker.failure("t", "rate_limited");
    tracker.failure("t", "bad_request"); // the request's fault, not the target's
    let h = tracker.peek("t");
    expect(h).toMatchObject({ calls: 3, failures: 1, rateLimited: 1 });
    expect(h.errorRate).toBeCloseTo(1 / 3);
    clock.t += 15_000; // half of the previous slot still weighs
    h = tracker.peek("t");
    expect(h.calls).toBeGreaterThan(0);
    expect(h.calls).toBeLessThan(3);
    clock.t += 20_000;
    expect(tracker.peek("t").calls).toBe(0);
  });

  it("keeps an EWMA and window percentiles of time to first token and total latency", () => {
    const { tracker } = setup({ alpha: 0.5 });
    for (const ms of [100, 200, 300, 400]) tracker.success("t", { ttftMs: ms, totalMs: ms * 10 });
    const h = tracker.peek("t");
    expect(h.ttft.ewmaMs).toBe(100 * 0.125 + 200 * 0.125 + 300 * 0.25 + 400 * 0.5);
    expect(h.ttft).toMatchObject({ p50Ms: 200, p95Ms: 400, samples: 4 });
    expect(h.total.p50Ms).toBe(2_000);
  });

  it("reuses percentiles briefly while few samples were added, never when the window has under ten, and keeps the EWMA current", () => {
    const { clock, tracker } = setup();
    for (let i = 0; i < 5; i++) tracker.success("few", { totalMs: 100 });
    expect(tracker.peek("few").total.p95Ms).toBe(100);
    tracker.success("few", { totalMs: 900 });
    expect(tracker.peek("few").total).toMatchObject({ p95Ms: 900, samples: 6 });

    for (let i = 0; i < 100; i++) tracker.success("many", { totalMs: 100 });
    expect(tracker.peek("many").total.p95Ms).toBe(100);
    for (let i = 0; i < 5; i++) tracker.success("many", { totalMs: 5_000 });
    const reused = tracker.peek("many").total;
    expect(reused.p95Ms).toBe(100); // 5 new samples of 100: within a tenth, reused
    expect(reused.ewmaMs).toBeGreaterThan(1_000); // the EWMA moved at once
    for (let i = 0; i < 5; i++) tracker.success("many", { totalMs: 5_000 });
    expect(tracker.peek("many").total.p95Ms).toBe(5_000); // a tenth of the window: recomputed

    for (let i = 0; i < 20; i++) tracker.success("timed", { totalMs: 100 });
    expect(tracker.peek("timed").total.samples).toBe(20);
    tracker.success("timed", { totalMs: 100 });
    expect(tracker.peek("timed").total.samples).toBe(20); // reused
    clock.t += 300; // past the reuse period: recomputed whatever was added
    expect(tracker.peek("timed").total.samples).toBe(21);
  });

  it("opens the breaker at the failure threshold, half-opens after the cool-down, and one probe closes it", async () => {
    const { clock, tracker } = setup();
    tracker.success("t", { ttftMs: 10 });
    tracker.failure("t", "server_error");
    tracker.failure("t", "timeout");
    expect(tracker.peek("t").breaker).toBe("closed");
    tracker.failure("t", "connection");
    expect(tracker.peek("t")).toMatchObject({ breaker: "open", openUntil: clock.t + 1_000 });
    clock.t += 1_000;
    expect(tracker.peek("t").breaker).toBe("half_open");
    expect(await tracker.acquireProbe("t")).toBe(true);
    expect(await tracker.acquireProbe("t")).toBe(false); // one prober at a time
    tracker.success("t", { ttftMs: 10 });
    const closed = tracker.peek("t");
    expect(closed).toMatchObject({ breaker: "closed", failures: 0 }); // a fresh window after closing
    await tracker.flush();
    expect(await tracker.acquireProbe("t")).toBe(true); // the lock was released
  });

  it("reopens for twice as long when the probe fails", () => {
    const { clock, tracker } = setup();
    for (let i = 0; i < 3; i++) tracker.failure("t", "overloaded");
    clock.t += 1_000;
    tracker.failure("t", "overloaded");
    expect(tracker.peek("t")).toMatchObject({ breaker: "open", openUntil: clock.t + 2_000 });
  });

  it("does not open on a low failure rate", () => {
    const { tracker } = setup();
    for (let i = 0; i < 10; i++) tracker.success("t", { ttftMs: 10 });
    for (let i = 0; i < 4; i++) tracker.failure("t", "server_error");
    expect(tracker.peek("t").breaker).toBe("closed");
  });

  it("cools a target down for a 429's Retry-After, never for the breaker", () => {
    const { clock, tracker } = setup();
    tracker.failure("t", "rate_limited", 3_000);
    for (let i = 0; i < 5; i++) tracker.failure("t", "rate_limited");
    expect(tracker.peek("t")).toMatchObject({ coolingUntil: clock.t + 3_000, breaker: "closed", rateLimited: 6 });
    clock.t += 3_000;
    expect(tracker.peek("t").coolingUntil).toBeNull();
  });

  it("counts calls in flight", () => {
    const { tracker } = setup();
    const end1 = tracker.begin("t");
    const end2 = tracker.begin("t");
    expect(tracker.peek("t").inFlight).toBe(2);
    end1();
    end1(); // idempotent
    expect(tracker.peek("t").inFlight).toBe(1);
    end2();
    expect(tracker.peek("t").inFlight).toBe(0);
  });

  it("shares state between instances through the store", async () => {
    const one = setup();
    const two = setup({}, one.store);
    two.clock.t = one.clock.t;
    expect((await two.tracker.view(["t"])).get("t")!.breaker).toBe("closed");
    for (let i = 0; i < 3; i++) one.tracker.failure("t", "server_error");
    one.tracker.success("u", { ttftMs: 50, totalMs: 80 });
    await one.tracker.flush();
    // The other instance sees it once its view is refreshed (first look: fetched at once).
    expect((await two.tracker.view(["u"])).get("u")!.ttft.ewmaMs).toBe(50);
    expect(two.tracker.peek("t").breaker).toBe("closed"); // its view is from before
    await two.tracker.refresh(["t"]);
    expect(two.tracker.peek("t")).toMatchObject({ breaker: "open", failures: 3 });
  });

  it("keeps working on its local view when the store fails", async () => {
    const broken = createMemoryStore({ max: 1_000 });
    const fail = async () => {
      throw new Error("store down");
    };
    Object.assign(broken, { get: fail, set: fail, incrBy: fail, del: fail, setIfAbsent: fail });
    const { tracker } = setup({}, broken);
    expect((await tracker.view(["t"])).get("t")!.calls).toBe(0);
    for (let i = 0; i < 3; i++) tracker.failure("t", "server_error");
    expect(tracker.peek("t").breaker).toBe("open");
    expect(await tracker.acquireProbe("t")).toBe(true);
    await tracker.flush();
  });
});
