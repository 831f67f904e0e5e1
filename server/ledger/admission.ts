/**
 * Admission for the data plane (server/gateway/hooks.ts `Admission`): budgets, then rate limits, before any
 * upstream call or cache lookup.
 *
 * Budgets (budgets.ts): every budget that applies to the call (organization, team, API key, end-user tag) has a
 * spend counter per period on the StateStore. Before the call, the most it can cost (estimate.ts) is reserved on all
 * of them in one atomic step; when less than that is left but at least the prompt and one output token fit, the
 * reservation shrinks to what is left AND the request's output cap (`max_completion_tokens`) is lowered so that the
 * call cannot cost more than was reserved (reported in `x-switchyard-budget-max-tokens`). That is the decision for
 * "less left than the estimate": the call proceeds, capped, so concurrent calls can never overshoot a hard limit
 * (up to the prompt estimate's margin for tokenizer differences, see estimate.ts). With less than the prompt left,
 * the call is refused: 429 `budget_exceeded` naming the budget, its limit, its spend and when it resets.
 * The reservation settles to the actual cost afterwards (streams when they end) or is released on failure; a hold
 * whose call never settles (a crashed instance) lapses after `holdMs`. Soft budgets never refuse; they are counted
 * for their alerts (alerts.ts). A call no budget applies to is never priced here, so a mispriced model cannot block it.
 * A missing counter (a restart, a new period) is seeded from the call log before its first reservation.
 *
 * Rate limits (rate-limits.ts): sliding one-minute windows for requests and tokens, checked and counted atomically
 * across instances; `x-ratelimit-*` headers on every admitted call, 429 `rate_limit_exceeded` with Retry-After.
 *
 * When the counter store (or the database, to seed a counter) fails, the call is refused with 503 — unless
 * SWITCHYARD_LIMITS_FAIL_OPEN is set, which admits it unchecked. There is no silent per-instance fallback.
 */
import { decimalToString, parseDecimal } from "../catalog/money";
import { AppError } from "../gateway/errors";
import type { Admission, AdmissionTicket, CallContext } from "../gateway/hooks";
import { estimatePromptTokens } from "../gateway/tokens";
import type { ChatRequest, NormalizedUsage } from "../providers/types";
import type { Runtime } from "../runtime";
import type { WindowOutcome } from "../state/store";
import { createAlerter, type Alerter } from "./alerts";
import { applyBudgets, describeBudget, loadLedgerConfig, spendInWindow, type AppliedBudget, type BudgetRule, type LedgerConfig } from "./budgets";
import { formatUsd } from "./cost";
import { estimateMaxCost, type CostEstimate } from "./estimate";
import type { PeriodWindow } from "./periods";
import { RATE_WINDOW_MS, applyRateLimits, rateLimitHeaders, type AppliedLimit } from "./rate-limits";
import { startRetention } from "./rollups";

/** How long a reservation holds without being settled: longer than any call may take (transport total 10 min). */
export const DEFAULT_HOLD_MS = 15 * 60_000;
/** Settlements that failed (store down) are retried this often, at most this many kept. */
const SETTLE_RETRY_MS = 1_000;
const SETTLE_RETRY_MAX = 10_000;

export interface LedgerAdmission extends Admission {
  /** Reloads budgets and rate-limit rules now (also done on every config change). */
  reload(): Promise<void>;
}

export interface AdmissionOptions {
  now?: () => number;
  holdMs?: number;
  /** Default: SWITCHYARD_LIMITS_FAIL_OPEN. */
  failOpen?: boolean;
  alerter?: Alerter;
}

interface Reservation {
  id: string;
  budgets: AppliedBudget[];
  /** The output cap the reservation imposed on the request, if it had to. */
  cap: number | null;
}

interface Settlement {
  id: string;
  budgets: AppliedBudget[];
  amount: bigint;
}

const FREE: AdmissionTicket = { headers: {}, settle: async () => {}, release: async () => {} };

/**
 * The ledger's Admission. Loads budgets and rate-limit rules now and on every config change; also runs the raw
 * call-log retention sweep (rollups.ts) for as long as the runtime lives.
 */
export function createAdmission(rt: Runtime, options: AdmissionOptions = {}): LedgerAdmission {
  const { log, state } = rt;
  const db = rt.db.prisma;
  const now = options.now ?? Date.now;
  const holdMs = options.holdMs ?? DEFAULT_HOLD_MS;
  const failOpen = options.failOpen ?? rt.env.SWITCHYARD_LIMITS_FAIL_OPEN;
  const alerts = options.alerter ?? createAlerter({ db, log, now });

  let config: LedgerConfig | null = null;
  // Keyed by rule object: a reload brings new objects, so an edited budget never reuses a stale window.
  const periodWindows = new WeakMap<BudgetRule, PeriodWindow>();
  let requested = 0;
  let applied = 0;
  const reload = async () => {
    const generation = ++requested;
    const next = await loadLedgerConfig(db, log);
    // A slower, older load must not replace a newer one.
    if (generation > applied) {
      applied = generation;
      config = next;
    }
  };
  // While a reload runs, admissions wait for it: once this instance has seen a config change, no call is admitted
  // under the budgets from before it (a reload is one query).
  let pending: Promise<void> | null = null;
  const startReload = () => {
    const task = reload().catch((error) => log.error({ err: error }, "budgets and rate limits could not be (re)loaded; keeping the previous ones"));
    pending = task;
    void task.finally(() => {
      if (pending === task) pending = null;
    });
  };
  startReload();
  rt.snapshot.onChange(startReload);
  const currentConfig = async (): Promise<LedgerConfig> => {
    if (pending) await pending;
    if (!config) await reload();
    return config!;
  };

  const seeding = new Map<string, Promise<void>>();
  /** Seeds a counter from the database, once per key at a time in this process. */
  const seed = (budget: AppliedBudget): Promise<void> => {
    let task = seeding.get(budget.key);
    if (!task) {
      task = (async () => {
        // This instance's finished calls go to the database first, so the sum includes them.
        await rt.calls.flush();
        const spent = await spendInWindow(db, budget);
        await state.seedCounter(budget.key, spent, budget.ttlMs);
      })().finally(() => seeding.delete(budget.key));
      seeding.set(budget.key, task);
    }
    return task;
  };

  const reserve = async (call: CallContext, budgets: AppliedBudget[], promptTokens: () => number, at: number): Promise<Reservation> => {
    const estimate = budgets.some((b) => b.rule.hard)
      ? estimateMaxCost(call.canonical, call.plan.targets.map((t) => t.model), promptTokens())
      : null;
    const counters = budgets.map((b) => ({ key: b.key, limit: b.rule.hard ? b.rule.limit : null, ttlMs: b.ttlMs }));
    for (let attempt = 0; ; attempt++) {
      const outcome = await state.reserve({
        counters,
        amount: estimate?.amount ?? 0n,
        minimum: estimate?.minimum ?? 0n,
        id: call.callId,
        holdMs,
      });
      if (outcome.status === "granted") {
        const cap = estimate?.capFor(outcome.granted) ?? null;
        if (cap !== null) capOutput(call.canonical, cap);
        return { id: call.callId, budgets, cap };
      }
      if (outcome.status === "unseeded") {
        if (attempt >= 3) throw new Error(`budget counter ${budgets[outcome.index]!.key} could not be seeded`);
        await seed(budgets[outcome.index]!);
        continue;
      }
      const budget = budgets[outcome.index]!;
      const exhausted = isExhausted(budget, outcome.spent, estimate);
      if (exhausted) alerts.check(budget, outcome.spent, { exhausted: true });
      throw budgetExceeded(budget, outcome.spent, outcome.reserved, estimate, exhausted, at);
    }
  };

  // Settlements the store refused (it was down): retried until they land, so no spend goes missing.
  const retries: Settlement[] = [];
  const settleNow = async (s: Settlement) => {
    const spent = await state.settle({ counters: s.budgets.map((b) => ({ key: b.key, ttlMs: b.ttlMs })), id: s.id, amount: s.amount });
    s.budgets.forEach((b, i) => alerts.check(b, spent[i]!));
  };
  const settleBudgets = async (s: Settlement) => {
    try {
      await settleNow(s);
    } catch (error) {
      if (retries.length >= SETTLE_RETRY_MAX) {
        const dropped = retries.shift()!;
        log.error({ call: dropped.id }, "budget settlement dropped after the retry queue filled; the counter under-counts until it is reseeded");
      }
      retries.push(s);
      log.warn({ err: error, call: s.id }, "budget settlement failed; will retry");
    }
  };
  let retrying = false;
  const retryTimer = setInterval(async () => {
    if (retrying || retries.length === 0) return;
    retrying = true;
    try {
      while (retries.length > 0) {
        await settleNow(retries[0]!);
        retries.shift();
      }
    } catch {
      // still down; next tick
    } finally {
      retrying = false;
    }
  }, SETTLE_RETRY_MS);
  retryTimer.unref();

  const retention = startRetention({ db, log, now });
  rt.onShutdown(async () => {
    clearInterval(retryTimer);
    retention.stop();
    for (const s of retries.splice(0)) await settleNow(s).catch(() => {});
    await alerts.close();
  });

  const ticket = (reservation: Reservation | null, limits: AppliedLimit[], windows: WindowOutcome | null): AdmissionTicket => {
    const tokenLimits = limits.filter((l) => l.kind === "tokens");
    const counted = tokenLimits[0]?.amount ?? 0;
    const headers = windows ? rateLimitHeaders(limits, windows.windows) : {};
    let done = false;
    const finish = async (amount: bigint, tokens: number | null) => {
      if (done) return;
      done = true;
      if (reservation) await settleBudgets({ id: reservation.id, budgets: reservation.budgets, amount });
      // Token windows move from the admission's estimate to the actual usage (or give the estimate back).
      const delta = (tokens ?? 0) - counted;
      if (tokenLimits.length > 0 && delta !== 0) {
        await state
          .addWindows({ windowMs: RATE_WINDOW_MS, windows: tokenLimits.map((l) => ({ key: l.key, amount: delta })) })
          .catch((error) => log.warn({ err: error }, "token rate-limit adjustment failed"));
      }
    };
    return {
      headers,
      settle: (costUsd: string, usage: NormalizedUsage) => finish(parseCost(costUsd, log), usage.input + usage.output),
      release: () => finish(0n, null),
    };
  };

  let lastFailOpenLog = 0;
  const admitChecked = async (call: CallContext): Promise<AdmissionTicket> => {
    const at = now();
    const cfg = await currentConfig();
    const { key, canonical } = call;
    const budgets = applyBudgets(cfg, { orgId: key.orgId, teamId: key.teamId, apiKeyId: key.apiKeyId, endUser: canonical.user ?? null }, at, periodWindows);
    let prompt: number | null = null;
    const promptTokens = () => (prompt ??= estimatePromptTokens(canonical.messages, canonical.tools));
    const limits = applyRateLimits(cfg, key, call.plan, () => promptTokens() + requestedOutput(canonical));
    if (budgets.length === 0 && limits.length === 0) return FREE;

    const reservation = budgets.length > 0 ? await reserve(call, budgets, promptTokens, at) : null;
    let windows: WindowOutcome | null = null;
    try {
      if (limits.length > 0) {
        windows = await state.hitWindows({ windowMs: RATE_WINDOW_MS, windows: limits.map((l) => ({ key: l.key, limit: l.limit, amount: l.amount })) });
        if (!windows.allowed) throw rateLimited(limits, windows);
      }
    } catch (error) {
      if (reservation) await settleBudgets({ id: reservation.id, budgets: reservation.budgets, amount: 0n });
      throw error;
    }
    const admitted = ticket(reservation, limits, windows);
    if (reservation?.cap != null) admitted.headers["x-switchyard-budget-max-tokens"] = String(canonical.max_completion_tokens);
    return admitted;
  };

  return {
    reload,
    async admit(call) {
      try {
        return await admitChecked(call);
      } catch (error) {
        if (error instanceof AppError) throw error;
        if (failOpen) {
          if (now() - lastFailOpenLog > 10_000) {
            lastFailOpenLog = now();
            log.error({ err: error }, "budgets and rate limits unavailable; admitting calls unchecked (SWITCHYARD_LIMITS_FAIL_OPEN)");
          }
          return FREE;
        }
        log.error({ err: error }, "budgets and rate limits unavailable; refusing calls (fail closed)");
        throw new AppError(503, "limits_unavailable", "Budgets and rate limits cannot be checked right now; retry shortly", {
          headers: { "retry-after": "1" },
        });
      }
    },
  };
}

/** Lowers the request's output cap; `max_completion_tokens` wins over `max_tokens` in every adapter. */
function capOutput(request: ChatRequest, cap: number) {
  const current = request.max_completion_tokens ?? request.max_tokens ?? null;
  if (current === null || cap < current) request.max_completion_tokens = cap;
}

/** Output tokens a request reserves against token limits: its cap for all choices, or 0 when it sets none. */
function requestedOutput(request: ChatRequest): number {
  const cap = request.max_completion_tokens ?? request.max_tokens ?? 0;
  return cap * Math.max(1, request.n ?? 1);
}

function parseCost(costUsd: string, log: Runtime["log"]): bigint {
  try {
    const amount = parseDecimal(costUsd);
    return amount > 0n ? amount : 0n;
  } catch {
    log.error({ costUsd }, "unparseable call cost; settled as 0");
    return 0n;
  }
}

/** Refused even with no call in flight: the budget stays shut until it resets (or its limit is raised). */
function isExhausted(budget: AppliedBudget, spent: bigint, estimate: CostEstimate | null): boolean {
  const left = budget.rule.limit - spent;
  return left <= 0n || left < (estimate?.minimum ?? 0n);
}

function budgetExceeded(
  budget: AppliedBudget,
  spent: bigint,
  reserved: bigint,
  estimate: CostEstimate | null,
  exhausted: boolean,
  at: number,
): AppError {
  const { rule, window } = budget;
  const left = rule.limit - spent - reserved;
  let message = `Budget exceeded: ${describeBudget(budget)} has a limit of ${usd(rule.limit)} and ${usd(spent)} spent`;
  if (reserved > 0n) message += ` (plus ${usd(reserved)} reserved by calls in progress)`;
  if (left > 0n && estimate) message += `; the ${usd(left)} left does not cover this request's prompt (up to ${usd(estimate.minimum)})`;
  message += window.end ? `; it resets at ${window.end.toISOString()} (${rule.timezone} ${rule.period} period).` : "; it is a lifetime budget and does not reset.";
  const headers: Record<string, string> = {
    "x-switchyard-budget-id": rule.id,
    "x-switchyard-budget-scope": rule.scope,
    "x-switchyard-budget-limit-usd": decimalToString(rule.limit),
    "x-switchyard-budget-spent-usd": decimalToString(spent),
  };
  if (window.end) headers["x-switchyard-budget-reset"] = window.end.toISOString();
  // Only reservations in flight stand in the way: they settle within a call's duration.
  if (!exhausted) headers["retry-after"] = "1";
  else if (window.end) headers["retry-after"] = String(Math.max(1, Math.ceil((window.end.getTime() - at) / 1000)));
  return new AppError(429, "budget_exceeded", message, { headers });
}

/** Exact dollars: "$1.00", "$0.01", "$0.9999999" (never rounded: finance compares these with the call log). */
function usd(units: bigint): string {
  // Whole cents print with two decimals; anything finer keeps every digit.
  return units % 100_000_000n === 0n ? formatUsd(units, { decimals: 2 }) : `$${decimalToString(units)}`;
}

function rateLimited(limits: AppliedLimit[], outcome: WindowOutcome): AppError {
  const limit = limits[outcome.deniedIndex!]!;
  const seconds = Math.max(1, Math.ceil(outcome.retryAfterMs / 1000));
  const tooBig = limit.kind === "tokens" && limit.amount > limit.limit ? `; this request alone counts about ${limit.amount} tokens` : "";
  return new AppError(
    429,
    "rate_limit_exceeded",
    `Rate limit reached for ${limit.owner}: ${limit.limit} ${limit.kind} per minute${tooBig}. Retry in ${seconds}s.`,
    { headers: { ...rateLimitHeaders(limits, outcome.windows), "retry-after": String(seconds) } },
  );
}
