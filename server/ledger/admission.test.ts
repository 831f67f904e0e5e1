import { describe, expect, it } from "vitest";
import type { CatalogModel } from "../catalog/model";
import { parseDecimal } from "../catalog/money";
import type { AuthContext } from "../gateway/auth";
import { AppError } from "../gateway/errors";
import type { CallContext } from "../gateway/hooks";
import type { Plan, Target } from "../gateway/resolve";
import { estimatePromptTokens } from "../gateway/tokens";
import type { ChatRequest } from "../providers/types";
import type { Runtime } from "../runtime";
import { createMemoryStore } from "../state/memory";
import type { StateStore } from "../state/store";
import { LogCapture } from "../testing/harness";
import { createAdmission } from "./admission";
import type { Alerter } from "./alerts";

const KEY: AuthContext = {
  apiKeyId: "key1",
  orgId: "org1",
  teamId: "team1",
  ownerId: null,
  allowedModels: [],
  allowStore: false,
  rpmLimit: null,
  tpmLimit: null,
};

/** $1 per 1M input tokens, $2 per 1M output tokens: a token costs 10,000 or 20,000 units of 10^-10 USD. */
const MODEL = { prices: { input: "1", output: "2" }, maxOutput: 1_000, contextWindow: 8_000 } as unknown as CatalogModel;
const target: Target = { provider: { name: "p", id: "prov1", kind: "openai" } as Target["provider"], modelId: "m", model: MODEL };
const PLAN: Plan = { requested: "p/m", policy: null, targets: [target], reference: target, dropParams: new Set() };

interface BudgetRow {
  id: string;
  orgId: string;
  scope: "organization" | "team" | "api_key" | "end_user";
  teamId?: string | null;
  apiKeyId?: string | null;
  endUser?: string | null;
  period: "daily" | "weekly" | "monthly" | "lifetime";
  limitUsd: string;
  hard?: boolean;
  alertThresholds?: number[];
  timezone?: string;
  webhookUrl?: string | null;
  createdAt?: Date;
}

function setup(options: { budgets?: BudgetRow[]; rules?: unknown[]; store?: StateStore; failOpen?: boolean; spentInDb?: (where: { createdAt: { gte: Date } }) => string } = {}) {
  const clock = { now: Date.parse("2026-03-14T12:00:00Z") };
  const state = options.store ?? createMemoryStore({ now: () => clock.now });
  const budgets = (options.budgets ?? []).map((b) => ({
    teamId: null,
    apiKeyId: null,
    endUser: null,
    hard: true,
    alertThresholds: [50, 80, 100],
    timezone: "UTC",
    webhookUrl: null,
    createdAt: new Date("2026-01-01T00:00:00Z"),
    ...b,
    limitUsd: { toFixed: () => b.limitUsd },
  }));
  const listeners: Array<() => void> = [];
  const shutdown: Array<() => Promise<void>> = [];
  const aggregates: unknown[] = [];
  const db = {
    budget: { findMany: async () => budgets },
    rateLimit: { findMany: async () => options.rules ?? [] },
    setting: { findUnique: async () => null },
    call: {
      aggregate: async ({ where }: { where: { createdAt: { gte: Date } } }) => {
        aggregates.push(where);
        const spent = options.spentInDb?.(where) ?? "0";
        return { _sum: { costUsd: { toFixed: () => spent } } };
      },
    },
  };
  const raised: Array<{ budget: string; spent: bigint; exhausted: boolean }> = [];
  const alerter: Alerter = {
    check: (applied, spent, o) => void raised.push({ budget: applied.rule.id, spent, exhausted: o?.exhausted ?? false }),
    idle: async () => {},
    close: async () => {},
  };
  const logs = new LogCapture();
  const rt = {
    env: { SWITCHYARD_LIMITS_FAIL_OPEN: options.failOpen ?? false },
    log: logs.logger,
    state,
    db: { prisma: db },
    snapshot: { onChange: (fn: () => void) => void listeners.push(fn) },
    calls: { flush: async () => {} },
    onShutdown: (fn: () => Promise<void>) => void shutdown.push(fn),
  } as unknown as Runtime;
  const admission = createAdmission(rt, { now: () => clock.now, alerter });
  let seq = 0;
  const call = (request: Partial<ChatRequest> = {}, key: AuthContext = KEY): CallContext => ({
    key,
    endpoint: "chat.completions",
    canonical: { model: "p/m", messages: [{ role: "user", content: "hello there" }], ...request },
    plan: PLAN,
    headers: new Headers(),
    callId: `call${++seq}`,
  });
  return {
    admission,
    state,
    clock,
    call,
    raised,
    aggregates,
    budgets,
    logs,
    changeConfig: async () => {
      for (const l of listeners) l();
      await admission.reload();
    },
    stop: async () => {
      for (const fn of shutdown) await fn();
    },
  };
}

const usage = (input: number, output: number) => ({ input, cachedInput: 0, cacheWrite: 0, output, reasoning: 0 });
const counterKey = async (state: StateStore, id: string, start: string) => state.readCounter(`budget:${id}:-:${Date.parse(start)}`);

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("admission without budgets or limits", () => {
  it("admits without touching the counter store or pricing the call", async () => {
    const broken = new Proxy({} as StateStore, {
      get: () => () => Promise.reject(new Error("store must not be used")),
    });
    const { admission, call } = setup({ store: broken });
    const mispriced = { ...PLAN, targets: [{ ...target, model: { ...MODEL, prices: { input: "1e40", output: "1e40" } } as CatalogModel }] };
    const ticket = await admission.admit({ ...call(), plan: mispriced });
    expect(ticket.headers).toEqual({});
    await ticket.settle("123", usage(1, 1));
  });
});

describe("budgets", () => {
  const daily = (limitUsd: string, extra: Partial<BudgetRow> = {}): BudgetRow => ({ id: "b1", orgId: "org1", scope: "api_key", apiKeyId: "key1", period: "daily", limitUsd, ...extra });

  it("reserves the most the call can cost and settles to the actual cost", async () => {
    const { admission, state, call } = setup({ budgets: [daily("1")] });
    const c = call({ max_tokens: 100 });
    const ticket = await admission.admit(c);
    const held = await counterKey(state, "b1", "2026-03-14T00:00:00Z");
    // Prompt: o200k count × 5/4 at $1/M; output: 100 tokens at $2/M.
    expect(held.reserved).toBeGreaterThanOrEqual(100n * 20_000n);
    expect(held.reserved).toBeLessThan(100n * 20_000n + 50n * 10_000n);
    expect(c.canonical.max_completion_tokens).toBeUndefined();
    await ticket.settle("0.0001234", usage(10, 20));
    expect(await counterKey(state, "b1", "2026-03-14T00:00:00Z")).toEqual({ spent: 1_234_000n, reserved: 0n, seeded: true });
    // Settling twice, or releasing afterwards, changes nothing.
    await ticket.settle("1", usage(1, 1));
    await ticket.release();
    expect((await counterKey(state, "b1", "2026-03-14T00:00:00Z")).spent).toBe(1_234_000n);
  });

  it("releases the reservation untouched when the call fails", async () => {
    const { admission, state, call } = setup({ budgets: [daily("1")] });
    const ticket = await admission.admit(call());
    await ticket.release();
    expect(await counterKey(state, "b1", "2026-03-14T00:00:00Z")).toEqual({ spent: 0n, reserved: 0n, seeded: true });
  });

  it("shrinks the reservation to what is left and caps the output so the call cannot overshoot", async () => {
    // $0.0005 left: the prompt fits, 1,000 output tokens ($0.002) do not.
    const { admission, state, call } = setup({ budgets: [daily("0.0005")] });
    const c = call({ max_tokens: 1_000, n: 2 });
    const ticket = await admission.admit(c);
    const cap = c.canonical.max_completion_tokens!;
    expect(cap).toBeGreaterThan(0);
    expect(cap).toBeLessThan(1_000);
    expect(ticket.headers["x-switchyard-budget-max-tokens"]).toBe(String(cap));
    const held = await counterKey(state, "b1", "2026-03-14T00:00:00Z");
    expect(held.reserved).toBe(parseDecimal("0.0005"));
    // The worst case at the cap (the reserved prompt + 2 choices × cap) fits in the reservation; one more token would not.
    const prompt = BigInt(Math.ceil((estimatePromptTokens(c.canonical.messages) * 5) / 4));
    const worst = (perChoice: number) => prompt * 10_000n + BigInt(2 * perChoice) * 20_000n;
    expect(worst(cap)).toBeLessThanOrEqual(held.reserved);
    expect(worst(cap + 1)).toBeGreaterThan(held.reserved);
  });

  it("refuses with budget_exceeded naming the budget, limit, spend and reset time", async () => {
    const { admission, call, clock, raised } = setup({ budgets: [daily("0.01", { scope: "team", teamId: "team1", apiKeyId: null })] });
    const first = await admission.admit(call({ max_tokens: 10 }));
    await first.settle("0.01", usage(10, 10));
    clock.now = Date.parse("2026-03-14T23:59:00Z");
    const error = await refusal(admission.admit(call({ max_tokens: 10 })));
    expect(error.status).toBe(429);
    expect(error.code).toBe("budget_exceeded");
    expect(error.message).toContain("the daily budget of team team1 (budget b1)");
    expect(error.message).toContain("limit of $0.01");
    expect(error.message).toContain("$0.01 spent");
    expect(error.message).toContain("resets at 2026-03-15T00:00:00.000Z");
    expect(error.options.headers).toMatchObject({
      "retry-after": "60",
      "x-switchyard-budget-id": "b1",
      "x-switchyard-budget-scope": "team",
      "x-switchyard-budget-limit-usd": "0.01",
      "x-switchyard-budget-spent-usd": "0.01",
      "x-switchyard-budget-reset": "2026-03-15T00:00:00.000Z",
    });
    expect(raised.at(-1)).toEqual({ budget: "b1", spent: parseDecimal("0.01"), exhausted: true });
  });

  it("asks to retry in a second when only calls in flight hold the rest", async () => {
    const { admission, call } = setup({ budgets: [daily("0.001")] });
    // Takes all that is left (its output capped to fit).
    await admission.admit(call({ max_tokens: 1_000 }));
    const error = await refusal(admission.admit(call({ max_tokens: 1_000 })));
    expect(error.code).toBe("budget_exceeded");
    expect(error.message).toContain("reserved by calls in progress");
    expect(error.options.headers!["retry-after"]).toBe("1");
  });

  it("refuses when what is left does not cover the prompt", async () => {
    const { admission, call } = setup({ budgets: [daily("0.000001")] });
    const error = await refusal(admission.admit(call()));
    expect(error.code).toBe("budget_exceeded");
    expect(error.message).toContain("does not cover this request's prompt");
  });

  it("seeds a missing counter from the call log (a restart), once", async () => {
    const { admission, call, aggregates } = setup({ budgets: [daily("1")], spentInDb: () => "0.9999999" });
    const error = await refusal(admission.admit(call()));
    expect(error.message).toContain("$0.9999999 spent");
    await refusal(admission.admit(call()));
    expect(aggregates).toHaveLength(1);
    expect(aggregates[0]).toMatchObject({ orgId: "org1", apiKeyId: "key1", createdAt: { gte: new Date("2026-03-14T00:00:00Z"), lt: new Date("2026-03-15T00:00:00Z") } });
  });

  it("starts a new period at midnight and at month end, seeding each from the log", async () => {
    const spentBefore = (where: { createdAt: { gte: Date } }) => (where.createdAt.gte < new Date("2026-03-15T00:00:00Z") ? "1" : "0");
    const daySetup = setup({ budgets: [daily("1")], spentInDb: spentBefore });
    daySetup.clock.now = Date.parse("2026-03-14T23:59:59.999Z");
    expect((await refusal(daySetup.admission.admit(daySetup.call()))).message).toContain("resets at 2026-03-15T00:00:00.000Z");
    daySetup.clock.now = Date.parse("2026-03-15T00:00:00.000Z");
    await (await daySetup.admission.admit(daySetup.call())).release();

    const { admission, call, clock } = setup({ budgets: [{ id: "m1", orgId: "org1", scope: "organization", period: "monthly", limitUsd: "5" }] });
    clock.now = Date.parse("2026-03-31T23:59:59.999Z");
    await (await admission.admit(call())).settle("5", usage(1, 1));
    const error = await refusal(admission.admit(call()));
    expect(error.message).toContain("monthly budget of the organization");
    expect(error.message).toContain("resets at 2026-04-01T00:00:00.000Z");
    clock.now = Date.parse("2026-04-01T00:00:00.000Z");
    await (await admission.admit(call())).release();
  });

  it("counts soft budgets and raises their alerts, never refusing", async () => {
    const { admission, call, raised } = setup({ budgets: [daily("0.001", { hard: false })] });
    for (let i = 0; i < 3; i++) await (await admission.admit(call({ max_tokens: 1_000_000 }))).settle("0.0006", usage(1, 1));
    expect(raised.map((r) => r.spent)).toEqual([600_000n * 10n, 1_200_000n * 10n, 1_800_000n * 10n]);
    expect(raised.every((r) => !r.exhausted)).toBe(true);
  });

  it("caps end users one by one with a per-end-user budget", async () => {
    const { admission, call } = setup({ budgets: [{ id: "u1", orgId: "org1", scope: "end_user", period: "daily", limitUsd: "0.0002" }] });
    await (await admission.admit(call({ user: "alice", max_tokens: 5 }))).settle("0.0002", usage(1, 1));
    expect((await refusal(admission.admit(call({ user: "alice", max_tokens: 5 })))).message).toContain("end user 'alice'");
    await (await admission.admit(call({ user: "bob", max_tokens: 5 }))).release();
    // No user tag: end-user budgets do not apply.
    expect((await admission.admit(call({ max_tokens: 5 }))).headers).toEqual({});
  });

  it("picks up budget changes when the config version changes", async () => {
    const { admission, call, budgets, changeConfig } = setup();
    expect((await admission.admit(call())).headers).toEqual({});
    budgets.push({ ...daily("0"), teamId: null, endUser: null, hard: true, alertThresholds: [], timezone: "UTC", webhookUrl: null, createdAt: new Date(0), limitUsd: { toFixed: () => "0" } } as never);
    await changeConfig();
    expect((await refusal(admission.admit(call()))).code).toBe("budget_exceeded");
  });
});

describe("counter store failures", () => {
  const failing = () => {
    const store = createMemoryStore();
    return Object.assign(store, { reserve: () => Promise.reject(new Error("ECONNREFUSED")) });
  };
  const budgets: BudgetRow[] = [{ id: "b1", orgId: "org1", scope: "organization", period: "daily", limitUsd: "1" }];

  it("fails closed with 503 by default", async () => {
    const { admission, call } = setup({ budgets, store: failing() });
    const error = await refusal(admission.admit(call()));
    expect(error.status).toBe(503);
    expect(error.code).toBe("limits_unavailable");
    expect(error.options.headers!["retry-after"]).toBe("1");
  });

  it("admits unchecked when configured to fail open", async () => {
    const { admission, call, logs } = setup({ budgets, store: failing(), failOpen: true });
    expect((await admission.admit(call())).headers).toEqual({});
    expect(logs.text()).toContain("admitting calls unchecked");
  });

  it("retries a settlement the store refused, so no spend goes missing", async () => {
    const store = createMemoryStore();
    const settle = store.settle.bind(store);
    let down = true;
    Object.assign(store, { settle: (r: Parameters<StateStore["settle"]>[0]) => (down ? Promise.reject(new Error("down")) : settle(r)) });
    const { admission, call, stop } = setup({ budgets, store });
    const ticket = await admission.admit(call());
    await ticket.settle("0.25", usage(1, 1));
    down = false;
    await stop(); // shutdown retries what is left
    expect((await store.readCounter(`budget:b1:-:${Date.parse("2026-03-14T00:00:00Z")}`)).spent).toBe(parseDecimal("0.25"));
  });
});

describe("rate limits", () => {
  it("admits the key's RPM, then refuses with rate_limit_exceeded, Retry-After and x-ratelimit headers", async () => {
    const { admission, call } = setup();
    const key = { ...KEY, rpmLimit: 2 };
    const first = await admission.admit(call({}, key));
    expect(first.headers).toMatchObject({ "x-ratelimit-limit-requests": "2", "x-ratelimit-remaining-requests": "1" });
    expect(first.headers["x-ratelimit-reset-requests"]).toMatch(/^\d+m[\d.]+s$|^[\d.]+s$/);
    await admission.admit(call({}, key));
    const error = await refusal(admission.admit(call({}, key)));
    expect(error.status).toBe(429);
    expect(error.code).toBe("rate_limit_exceeded");
    expect(error.message).toContain("API key key1: 2 requests per minute");
    expect(Number(error.options.headers!["retry-after"])).toBeGreaterThan(0);
    expect(error.options.headers!["x-ratelimit-remaining-requests"]).toBe("0");
  });

  it("counts tokens: the estimate at admission, the actual usage at settlement", async () => {
    const { admission, call, state } = setup();
    const key = { ...KEY, tpmLimit: 100 };
    const ticket = await admission.admit(call({ max_tokens: 40 }, key));
    const counted = Number(ticket.headers["x-ratelimit-limit-tokens"]) - Number(ticket.headers["x-ratelimit-remaining-tokens"]);
    expect(counted).toBeGreaterThanOrEqual(40);
    await ticket.settle("0", usage(10, 5));
    const probe = await state.hitWindows({ windowMs: 60_000, windows: [{ key: "rl:key:key1:t", limit: 100, amount: 0 }] });
    expect(probe.windows[0]!.count).toBeCloseTo(15, 5);
    const released = await admission.admit(call({ max_tokens: 60 }, key));
    await released.release();
    const after = await state.hitWindows({ windowMs: 60_000, windows: [{ key: "rl:key:key1:t", limit: 100, amount: 0 }] });
    expect(after.windows[0]!.count).toBeCloseTo(15, 5);
    expect((await refusal(admission.admit(call({ max_tokens: 90 }, key)))).message).toContain("100 tokens per minute");
  });

  it("applies team and model rules, and releases the budget reservation when a limit refuses", async () => {
    const rules = [
      { id: "r1", orgId: "org1", teamId: "team1", model: null, rpmLimit: 5, tpmLimit: null },
      { id: "r2", orgId: "org1", teamId: null, model: "m", rpmLimit: 1, tpmLimit: null },
      { id: "r3", orgId: "org1", teamId: "other", model: null, rpmLimit: 0, tpmLimit: null },
    ];
    const { admission, call, state } = setup({ rules, budgets: [{ id: "b1", orgId: "org1", scope: "organization", period: "daily", limitUsd: "1" }] });
    await (await admission.admit(call())).release();
    const error = await refusal(admission.admit(call()));
    expect(error.message).toContain("model m: 1 requests per minute");
    expect((await state.readCounter(`budget:b1:-:${Date.parse("2026-03-14T00:00:00Z")}`)).reserved).toBe(0n);
  });
});
