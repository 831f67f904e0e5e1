import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY, type RetryPolicy } from "@/lib/policy";
import type { ProviderConfig } from "../gateway/config";
import { AppError } from "../gateway/errors";
import type { Transport } from "../providers/transport";
import { UpstreamError, type UpstreamErrorKind } from "../providers/types";
import { createMemoryStore } from "../state/memory";
import { withFallback, type AttemptRecord, type SkippedTarget, type UpstreamContext } from "./execute";
import { createHealthTracker, type HealthTracker } from "./health";
import type { Plan } from "./resolve";
import { targetId, targetLabel, type Target } from "./types";

function target(name: string, contextWindow: number | null = 128_000): Target {
  const provider: ProviderConfig = { id: `id-${name}`, orgId: "o", name, kind: "openai", baseUrl: "http://x", apiKey: null, allowPrivate: false, region: null, config: {} };
  return {
    provider,
    modelId: "m",
    model: {
      kind: "openai",
      id: "m",
      name: "m",
      prices: { input: "1", output: "1" },
      derivedPrices: [],
      contextWindow,
      maxOutput: null,
      capabilities: { tools: true, vision: true, json: true, reasoning: false, streaming: true, embeddings: false },
      source: "custom",
      providerId: null,
      overridden: false,
      enabled: true,
    },
  };
}

const A = target("a", 8_000);
const B = target("b", 4_000);
const C = target("c", 200_000);

function plan(targets: Target[], over: Partial<Plan> = {}): Plan {
  return {
    requested: "pol",
    policy: { id: "p", orgId: "o", teamId: null, name: "pol", version: 1, document: { strategy: "ordered", targets: [], dropParams: [] }, createdAt: new Date() },
    targets,
    reference: targets[0]!,
    dropParams: new Set(),
    ...over,
  };
}

const fail = (kind: UpstreamErrorKind, options: { status?: number; retryAfterMs?: number } = {}) =>
  new UpstreamError(kind, `${kind} happened`, { status: options.status ?? 500, ...(options.retryAfterMs !== undefined ? { retryAfterMs: options.retryAfterMs } : {}) });

/** Runs withFallback where each target answers from its script (an error to throw, or "ok"). */
async function run(
  p: Plan,
  script: Record<string, Array<UpstreamError | "ok" | "refused" | "hang">>,
  options: { retry?: Partial<RetryPolicy>; random?: () => number; signal?: AbortSignal } = {},
) {
  const attempts: AttemptRecord[] = [];
  const skipped: SkippedTarget[] = [];
  const calls: string[] = [];
  const ctx: UpstreamContext = {
    transport: {} as Transport,
    plan: p,
    signal: options.signal ?? new AbortController().signal,
    attempts,
    skipped,
    retry: { ...DEFAULT_RETRY, baseDelayMs: 1, maxDelayMs: 2, ...options.retry },
    random: options.random ?? (() => 0.5),
  };
  const result = await withFallback(
    ctx,
    async (t, _adapter, _upstream, info) => {
      const name = t.provider.name;
      calls.push(name);
      const step = script[name]?.shift() ?? "ok";
      if (step === "hang") {
        await new Promise((_, reject) => info.signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true }));
      }
      if (step instanceof UpstreamError) throw step;
      return { from: name, refused: step === "refused" };
    },
    { refused: (r) => r.refused },
  ).catch((error: unknown) => error);
  return { result, attempts, calls, skipped };
}

describe("withFallback", () => {
  it("retries a retryable failure on the same target, then falls back", async () => {
    const { result, attempts, calls } = await run(plan([A, B]), { a: [fail("server_error"), fail("server_error")] });
    expect(result).toMatchObject({ result: { from: "b" } });
    expect(calls).toEqual(["a", "a", "b"]);
    expect(attempts.map((x) => `${x.provider}:${x.error ?? x.status}:${x.reason}`)).toEqual(["a:server_error:first", "a:server_error:retry", "b:200:fallback"]);
  });

  it("stops at once on a failure that is neither retried nor a fallback reason", async () => {
    const { result, calls } = await run(plan([A, B]), { a: [fail("bad_request", { status: 400 })] });
    expect(result).toBeInstanceOf(AppError);
    expect((result as AppError).code).toBe("upstream_bad_request");
    expect(calls).toEqual(["a"]);
    const noAuthFallback = await run(plan([A, B]), { a: [fail("auth", { status: 401 })] }, { retry: { fallbackOn: ["server_error"] } });
    expect(noAuthFallback.calls).toEqual(["a"]);
  });

  it("backs off exponentially with full jitter", async () => {
    const { attempts } = await run(plan([A]), { a: [fail("overloaded"), fail("overloaded"), fail("overloaded")] }, { retry: { maxAttempts: 4, baseDelayMs: 8, maxDelayMs: 12 }, random: () => 0.5 });
    // uniform(0, min(12, 8·2^(n-1))) drawn at 0.5: 4, 6 (capped at 12), 6.
    expect(attempts.map((a) => a.waitedMs)).toEqual([undefined, 4, 6, 6]);
  });

  it("waits for a Retry-After up to the cap, and fails over at once beyond it", async () => {
    const short = await run(plan([A, B]), { a: [fail("rate_limited", { status: 429, retryAfterMs: 20 })] }, { retry: { maxRetryAfterMs: 50 } });
    expect(short.calls).toEqual(["a", "a"]);
    expect(short.attempts[1]!.waitedMs).toBe(20);
    const long = await run(plan([A, B]), { a: [fail("rate_limited", { status: 429, retryAfterMs: 60_000 })] }, { retry: { maxRetryAfterMs: 50 } });
    expect(long.calls).toEqual(["a", "b"]);
  });

  it("answers 429 with Retry-After for a single rate-limited target", async () => {
    const { result } = await run(plan([A], { policy: null }), { a: [fail("rate_limited", { status: 429, retryAfterMs: 30_000 })] });
    expect(result).toMatchObject({ status: 429, code: "upstream_rate_limited", options: { headers: { "retry-after": "30" } } });
  });

  it("sends context-length failures only to targets with a larger window, configured fallbacks first", async () => {
    const { result, calls, attempts } = await run(plan([A, B], { fallbacks: { contextLength: [C], contentFilter: [] } }), { a: [fail("context_length", { status: 400 })] });
    expect(result).toMatchObject({ result: { from: "c" } });
    expect(calls).toEqual(["a", "c"]);
    expect(attempts[1]!.reason).toBe("context_length");
    const none = await run(plan([A, B]), { a: [fail("context_length", { status: 400 })] });
    expect(none.calls).toEqual(["a"]); // b has a smaller window
    expect((none.result as AppError).code).toBe("context_length_exceeded");
    const auto = await run(plan([A, B, C]), { a: [fail("context_length", { status: 400 })] });
    expect(auto.calls).toEqual(["a", "c"]);
  });

  it("sends content-filter refusals to the content-filter chain, and keeps the refusal when it fails too", async () => {
    const withChain = plan([A, B], { fallbacks: { contextLength: [], contentFilter: [C] } });
    const rejected = await run(withChain, { a: [fail("content_filter", { status: 400 })] });
    expect(rejected.calls).toEqual(["a", "c"]);
    const refused = await run(withChain, { a: ["refused"], c: [fail("bad_request", { status: 400 })] });
    expect(refused.result).toMatchObject({ result: { from: "a", refused: true } });
    expect(refused.attempts.map((x) => x.error ?? x.status)).toEqual(["content_filter", "bad_request"]);
    const plain = await run(plan([A, B]), { a: ["refused"] });
    expect(plain.calls).toEqual(["a"]); // no chain: the refusal is the answer
  });

  it("abandons an attempt at the latency budget while another target remains, never the last one", async () => {
    const budget = plan([A, B], { deadlines: { ttftMs: null, totalMs: 30 } });
    const moved = await run(budget, { a: ["hang"] });
    expect(moved.result).toMatchObject({ result: { from: "b" } });
    expect(moved.attempts[0]).toMatchObject({ error: "latency_budget", status: 0 });
    expect(moved.calls).toEqual(["a", "b"]); // no retry of a target that blew its budget
    const last = await run(plan([A], { deadlines: { ttftMs: null, totalMs: 30 } }), { a: [] });
    expect(last.result).toMatchObject({ result: { from: "a" } });
  });

  it("answers 503 naming the policy and each target when every target is down", async () => {
    const { result } = await run(plan([A, B]), { a: [fail("overloaded", { status: 503 }), fail("overloaded", { status: 503 })], b: [fail("timeout", { status: 0 }), fail("timeout", { status: 0 })] });
    expect(result).toMatchObject({ status: 503, code: "no_available_target" });
    expect((result as AppError).message).toBe("No target of policy 'pol' is available: a/m: overloaded (HTTP 503); b/m: timeout");
  });

  it("turns a client disconnect into 499", async () => {
    const controller = new AbortController();
    controller.abort();
    const { result } = await run(plan([A, B]), { a: [fail("server_error")] }, { signal: controller.signal });
    expect(result).toMatchObject({ status: 499 });
  });

  describe("with live health", () => {
    const tracker = (): HealthTracker =>
      createHealthTracker(createMemoryStore({ max: 1_000 }), { breaker: { failureThreshold: 2, failureRate: 0.5, cooldownMs: 60_000, maxCooldownMs: 60_000, probeTimeoutMs: 60_000 } });

    it("reports outcomes, skips a target whose breaker is open and lets one caller probe a half-open one", async () => {
      const health = tracker();
      const first = await run(plan([A, B], { health }), { a: [fail("server_error"), fail("server_error")] });
      expect(first.result).toMatchObject({ result: { from: "b" } });
      expect(health.peek(targetId(A))).toMatchObject({ breaker: "open", failures: 2 });
      expect(health.peek(targetId(B))).toMatchObject({ calls: 1, inFlight: 0 });
      const second = await run(plan([A, B], { health }), {});
      expect(second.calls).toEqual(["b"]);
      expect(second.skipped).toEqual([{ target: targetLabel(A), reason: "circuit open" }]);
    });

    describe("a target cooling down after a 429's Retry-After (never hammer)", () => {
      const cooling = (retryAfterMs: number) => {
        const health = createHealthTracker(createMemoryStore({ max: 1_000 }), { now: () => 1_000_000 });
        health.failure(targetId(A), "rate_limited", retryAfterMs);
        return health;
      };

      it("is passed over while another target can answer", async () => {
        const out = await run(plan([A, B], { health: cooling(30_000) }), {});
        expect(out.calls).toEqual(["b"]);
        expect(out.result).toMatchObject({ result: { from: "b" } });
        expect(out.skipped).toEqual([{ target: targetLabel(A), reason: "rate limited: cooling down for 30s (Retry-After)" }]);
      });

      it("is not called at all when it is the only target: 429 with the remaining Retry-After, nothing sent", async () => {
        const out = await run(plan([A], { health: cooling(30_000) }), {});
        expect(out.calls).toEqual([]);
        expect(out.attempts).toEqual([]);
        expect(out.result).toBeInstanceOf(AppError);
        const error = out.result as AppError;
        expect(error.status).toBe(429);
        expect(error.code).toBe("upstream_rate_limited");
        expect(error.options.headers?.["retry-after"]).toBe("30");
        expect(error.message).toMatch(/nothing was sent/);
      });

      it("is waited for when the rest of its cool-down is within maxRetryAfterMs, then called once", async () => {
        const out = await run(plan([A], { health: cooling(40) }), {}, { retry: { maxRetryAfterMs: 5_000 } });
        expect(out.calls).toEqual(["a"]);
        expect(out.attempts).toEqual([expect.objectContaining({ status: 200, reason: "first", waitedMs: 40 })]);
      });

      it("stops waiting when the client leaves", async () => {
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 20);
        const out = await run(plan([A], { health: cooling(4_000) }), {}, { retry: { maxRetryAfterMs: 5_000 }, signal: controller.signal });
        expect(out.calls).toEqual([]);
        expect((out.result as AppError).status).toBe(499);
      });
    });

    it("probes a half-open target once", async () => {
      let now = 0;
      const health = createHealthTracker(createMemoryStore({ max: 1_000 }), {
        now: () => now,
        breaker: { failureThreshold: 1, failureRate: 0.5, cooldownMs: 10, maxCooldownMs: 10, probeTimeoutMs: 60_000 },
      });
      health.failure(targetId(A), "server_error");
      now = 20;
      expect(await health.acquireProbe(targetId(A))).toBe(true); // someone else is probing
      const skipped = await run(plan([A, B], { health }), {});
      expect(skipped.calls).toEqual(["b"]);
      expect(skipped.skipped[0]!.reason).toMatch(/another call is probing/);
    });
  });
});
