/**
 * One interface for shared counters and small values: in memory by default, Redis when REDIS_URL is set.
 * Every implementation passes the same contract suite (store.contract.ts).
 */
export interface StateStore {
  readonly kind: "memory" | "redis";
  get(key: string): Promise<string | null>;
  /** Sets a value; `ttlMs` makes it expire. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets only when absent; returns whether it was set (locks, idempotency). */
  setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean>;
  del(key: string): Promise<void>;
  /** Atomically adds `by` to an integer counter (created at 0); `ttlMs` applies when the counter is created. */
  incrBy(key: string, by: number, ttlMs?: number): Promise<number>;
  /**
   * Spend counters with reservations (budgets). Reserves on every counter at once, or on none: the grant is
   * `amount` shrunk to what the tightest limited counter has left, refused when that is ≤ 0 or below `minimum`.
   * Each reservation is held under `id` until settled, or until `holdMs` passes (a crashed caller's hold lapses).
   * A counter that was never seeded answers `unseeded` (nothing reserved): the caller seeds it and retries.
   */
  reserve(request: ReserveRequest): Promise<ReserveOutcome>;
  /**
   * Ends reservation `id` on every counter and adds `amount` (the actual cost, ≥ 0; 0 releases) to their spend,
   * seeded or not. Returns each counter's spend afterwards. Settling an unknown or lapsed id only adds the spend.
   */
  settle(request: SettleRequest): Promise<bigint[]>;
  /** Seeds a counter's spend once (from the durable log); returns false when it was already seeded. */
  seedCounter(key: string, spent: bigint, ttlMs?: number): Promise<boolean>;
  /** A counter's state (lapsed reservations dropped); zeros and `seeded: false` when it does not exist. */
  readCounter(key: string): Promise<CounterState>;
  /**
   * Sliding-window rate limits (the previous window's count weighted by how much of it still overlaps, plus the
   * current one's): admits only when every window has room for its `amount`, then counts it in all of them.
   */
  hitWindows(request: WindowRequest): Promise<WindowOutcome>;
  /** Adds `amount` (may be negative; counts never drop below 0) to each window without checking its limit. */
  addWindows(request: { windowMs: number; windows: Array<{ key: string; amount: number }> }): Promise<void>;
  /** Throws when the backend is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Money counters are bigint units of 10^-10 USD (see server/catalog/money.ts). */
export interface ReserveRequest {
  counters: Array<{
    key: string;
    /** null: tracked (spend, reservations) but never refuses (soft budgets). */
    limit: bigint | null;
    /** Expiry of the counter (its period's end plus a margin); none for lifetime counters. */
    ttlMs?: number;
  }>;
  amount: bigint;
  minimum: bigint;
  id: string;
  holdMs: number;
}

export type ReserveOutcome =
  | { status: "granted"; granted: bigint }
  | { status: "exceeded"; index: number; spent: bigint; reserved: bigint }
  | { status: "unseeded"; index: number };

export interface SettleRequest {
  counters: Array<{ key: string; ttlMs?: number }>;
  id: string;
  amount: bigint;
}

export interface CounterState {
  spent: bigint;
  reserved: bigint;
  seeded: boolean;
}

export interface WindowRequest {
  windowMs: number;
  windows: Array<{ key: string; limit: number; amount: number }>;
}

export interface WindowOutcome {
  allowed: boolean;
  /** The first window without room, when refused. */
  deniedIndex: number | null;
  /** When refused: how long until the refused window has room for its amount (ms). */
  retryAfterMs: number;
  /** Per window: the weighted count (after this hit when allowed) and the time until it is back to zero. */
  windows: Array<{ count: number; resetMs: number }>;
}

/** How long a sliding window's per-slot counter must live: its own window and the next, which still weighs it. */
export function windowSlotTtlMs(windowMs: number): number {
  return windowMs * 2 + 1_000;
}

/**
 * The sliding-window arithmetic shared by every store (Redis runs the same steps in Lua): `prev` and `cur` are the
 * counts of the previous and current fixed slots, `elapsed` the time into the current slot.
 */
export function slidingWindow(prev: number, cur: number, elapsed: number, windowMs: number) {
  const count = prev * ((windowMs - elapsed) / windowMs) + cur;
  const resetMs = cur > 0 ? 2 * windowMs - elapsed : prev > 0 ? windowMs - elapsed : 0;
  /** Time until `amount` more fits under `limit`. */
  const retryAfter = (limit: number, amount: number): number => {
    if (count + amount <= limit) return 0;
    if (cur + amount <= limit) return Math.ceil(((count + amount - limit) / prev) * windowMs);
    // Not before the next slot; there, this slot's count decays from full weight.
    const rest = windowMs - elapsed;
    return cur > 0 ? Math.min(rest + Math.ceil(((cur + amount - limit) / cur) * windowMs), rest + windowMs) : rest;
  };
  return { count, resetMs, retryAfter };
}
