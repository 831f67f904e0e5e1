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
  /** Throws when the backend is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
