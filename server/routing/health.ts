/**
 * Live health per target (provider account + model): EWMA and percentile latency (time to first token and total),
 * success / failure / 429 counts over a sliding window, calls in flight, a circuit breaker and the Retry-After
 * cool-down. State lives in the StateStore (memory, or Redis so every instance shares it) under keys derived from
 * the provider's id; each instance keeps a local view, refreshed in the background every `refreshMs` and updated
 * at once by its own outcomes, so planning never waits on the store after the first look at a target.
 *
 * Circuit breaker: closed → open when the window holds ≥ `failureThreshold` failures (5xx, overload, timeout,
 * connection) at a failure rate ≥ `failureRate`; open → half-open after `cooldownMs`, when exactly one caller (a
 * store lock) may probe; the probe's success closes it with a fresh window (a new generation of counters), its
 * failure reopens it for twice the previous cool-down (up to `maxCooldownMs`).
 *
 * The store is a helper, not a dependency: when it fails, health falls back to the local view and calls go on.
 */
import type { StateStore } from "../state/store";

export interface BreakerOptions {
  failureThreshold: number;
  failureRate: number;
  cooldownMs: number;
  maxCooldownMs: number;
  /** How long a probe holds the half-open lock (a probe that never reports frees it after this). */
  probeTimeoutMs: number;
}

export interface HealthOptions {
  /** Sliding window of the counters. */
  windowMs: number;
  /** Calls needed in the window before rates mean anything (degradation, latency judgements). */
  minSamples: number;
  /** Weight of a new latency sample in the EWMA. */
  alpha: number;
  /** Latency samples kept per target for percentiles (newest first, within the window). */
  maxSamples: number;
  /** How stale the local view of another instance's updates may get. */
  refreshMs: number;
  breaker: BreakerOptions;
  now: () => number;
}

export const DEFAULT_HEALTH_OPTIONS: HealthOptions = {
  windowMs: 60_000,
  minSamples: 5,
  alpha: 0.3,
  maxSamples: 100,
  refreshMs: 1_000,
  breaker: { failureThreshold: 5, failureRate: 0.5, cooldownMs: 15_000, maxCooldownMs: 300_000, probeTimeoutMs: 30_000 },
  now: Date.now,
};

export interface LatencyStats {
  ewmaMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  samples: number;
}

export type BreakerState = "closed" | "open" | "half_open";

/** One target's health as routing sees it. */
export interface TargetHealth {
  /** Outcomes in the sliding window (weighted, so fractional). */
  calls: number;
  failures: number;
  rateLimited: number;
  /** failures / calls (0 without calls). */
  errorRate: number;
  rateLimitRate: number;
  ttft: LatencyStats;
  total: LatencyStats;
  inFlight: number;
  breaker: BreakerState;
  /** When an open breaker half-opens (ms epoch). */
  openUntil: number | null;
  /** Until when a 429's Retry-After asked us to stay away (ms epoch). */
  coolingUntil: number | null;
}

/** A target nobody has called yet. */
export const UNKNOWN_HEALTH: TargetHealth = Object.freeze({
  calls: 0,
  failures: 0,
  rateLimited: 0,
  errorRate: 0,
  rateLimitRate: 0,
  ttft: { ewmaMs: null, p50Ms: null, p95Ms: null, samples: 0 },
  total: { ewmaMs: null, p50Ms: null, p95Ms: null, samples: 0 },
  inFlight: 0,
  breaker: "closed",
  openUntil: null,
  coolingUntil: null,
});

/** Failure kinds that count against the breaker (the target is unwell, not the request or its quota). */
export const BREAKER_KINDS: ReadonlySet<string> = new Set(["server_error", "overloaded", "timeout", "connection"]);

type Metric = "ok" | "fail" | "rl";

interface Series {
  ewma: number | null;
  /** [at, ms], newest first. */
  samples: Array<[number, number]>;
}

interface Latency {
  ttft: Series;
  total: Series;
}

interface Breaker {
  until: number;
  cooldownMs: number;
}

interface Raw {
  gen: number;
  /** slot index → counts. */
  slots: Map<number, Record<Metric, number>>;
  latency: Latency;
  inFlight: number;
  breaker: Breaker | null;
  coolUntil: number | null;
}

interface Entry {
  raw: Raw;
  fetchedAt: number;
  refreshing: Promise<void> | null;
  /** When this instance last changed the view (a fetch started before it may miss that change). */
  mutatedAt: number;
}

export interface HealthTracker {
  readonly options: HealthOptions;
  /** Health of each target id, from the local view (fetched from the store first when never seen). */
  view(ids: readonly string[]): Promise<Map<string, TargetHealth>>;
  /** The local view now (no store access). */
  peek(id: string): TargetHealth;
  /** Fetches the shared state of these targets now (other instances' updates included). */
  refresh(ids: readonly string[]): Promise<void>;
  /** Counts a call in flight until the returned function runs. */
  begin(id: string): () => void;
  success(id: string, latency: { ttftMs?: number; totalMs?: number }): void;
  failure(id: string, kind: string, retryAfterMs?: number): void;
  /** For a half-open target: true for the single caller allowed to probe it. */
  acquireProbe(id: string): Promise<boolean>;
  /** Waits for pending store writes (tests, shutdown). */
  flush(): Promise<void>;
}

const emptyCounts = (): Record<Metric, number> => ({ ok: 0, fail: 0, rl: 0 });
const emptyLatency = (): Latency => ({ ttft: { ewma: null, samples: [] }, total: { ewma: null, samples: [] } });
const METRICS: Metric[] = ["ok", "fail", "rl"];
const LATENCY_TTL_MS = 10 * 60_000;
const INFLIGHT_TTL_MS = 10 * 60_000;
const STATS_REUSE_MS = 250;
const LATENCY_WRITE_MS = 50;

export function createHealthTracker(store: StateStore, overrides: Partial<HealthOptions> = {}): HealthTracker {
  const options: HealthOptions = {
    ...DEFAULT_HEALTH_OPTIONS,
    ...overrides,
    breaker: { ...DEFAULT_HEALTH_OPTIONS.breaker, ...overrides.breaker },
  };
  const { windowMs, now } = options;
  const entries = new Map<string, Entry>();
  const pending = new Set<Promise<unknown>>();

  const key = (id: string, part: string) => `routing:health:${id}:${part}`;
  const slotOf = (at: number) => Math.floor(at / windowMs);
  const slotTtl = windowMs * 2 + 1_000;

  /** Fire-and-forget store write; health never fails a call. */
  const write = (op: () => Promise<unknown>) => {
    const p = op().catch(() => {});
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  const fetchRaw = async (id: string): Promise<Raw> => {
    const gen = Number((await store.get(key(id, "gen"))) ?? 0);
    const slot = slotOf(now());
    const [cur, prev, latency, inFlight, breaker, cool] = await Promise.all([
      Promise.all(METRICS.map((m) => store.get(key(id, `${gen}:${m}:${slot}`)))),
      Promise.all(METRICS.map((m) => store.get(key(id, `${gen}:${m}:${slot - 1}`)))),
      store.get(key(id, "latency")),
      store.get(key(id, "inflight")),
      store.get(key(id, "breaker")),
      store.get(key(id, "cool")),
    ]);
    const counts = (values: Array<string | null>) =>
      Object.fromEntries(METRICS.map((m, i) => [m, Number(values[i] ?? 0)])) as Record<Metric, number>;
    return {
      gen,
      slots: new Map([
        [slot, counts(cur)],
        [slot - 1, counts(prev)],
      ]),
      latency: parseJson<Latency>(latency) ?? emptyLatency(),
      inFlight: Math.max(0, Number(inFlight ?? 0)),
      breaker: parseJson<Breaker>(breaker),
      coolUntil: cool === null ? null : Number(cool),
    };
  };

  const refresh = (id: string, entry: Entry): Promise<void> => {
    const startedAt = performance.now();
    entry.refreshing ??= fetchRaw(id)
      .then((raw) => {
        // Our own writes may still be in flight: keep what this instance changed since the fetch began.
        entry.raw = entry.mutatedAt >= startedAt ? merge(raw, entry.raw) : raw;
        entry.fetchedAt = now();
      })
      .catch(() => {
        entry.fetchedAt = now(); // store down: keep the local view, try again later
      })
      .finally(() => {
        entry.refreshing = null;
      });
    return entry.refreshing;
  };

  const entryFor = (id: string): Entry => {
    let entry = entries.get(id);
    if (!entry) {
      entry = {
        raw: { gen: 0, slots: new Map(), latency: emptyLatency(), inFlight: 0, breaker: null, coolUntil: null },
        fetchedAt: Number.NEGATIVE_INFINITY,
        refreshing: null,
        mutatedAt: Number.NEGATIVE_INFINITY,
      };
      entries.set(id, entry);
      if (entries.size > 10_000) entries.delete(entries.keys().next().value!);
    }
    return entry;
  };

  const windowCounts = (raw: Raw, at: number): Record<Metric, number> => {
    const slot = slotOf(at);
    const weight = 1 - (at - slot * windowMs) / windowMs;
    const cur = raw.slots.get(slot) ?? emptyCounts();
    const prev = raw.slots.get(slot - 1) ?? emptyCounts();
    return Object.fromEntries(METRICS.map((m) => [m, cur[m] + prev[m] * weight])) as Record<Metric, number>;
  };

  const breakerState = (raw: Raw, at: number): BreakerState =>
    raw.breaker === null ? "closed" : at < raw.breaker.until ? "open" : "half_open";

  // Percentiles sort the window's samples, and planning reads them on every call while every call adds a sample. So
  // percentiles are reused for up to STATS_REUSE_MS (samples also leave the window by time) while fewer than a tenth
  // of the samples they were computed from have been added since: with fewer than ten samples, every new one counts.
  // The EWMA is always current.
  const versions = new WeakMap<Series, number>();
  const statsMemo = new WeakMap<Series, { version: number; at: number; stats: LatencyStats }>();
  const stats = (series: Series, at: number): LatencyStats => {
    const version = versions.get(series) ?? 0;
    const memo = statsMemo.get(series);
    if (memo && at - memo.at >= 0 && at - memo.at < STATS_REUSE_MS) {
      const lag = version - memo.version;
      if (lag === 0 || lag < Math.floor(memo.stats.samples / 10)) {
        return memo.stats.ewmaMs === series.ewma ? memo.stats : { ...memo.stats, ewmaMs: series.ewma };
      }
    }
    const computed = computeStats(series, at);
    statsMemo.set(series, { version, at, stats: computed });
    return computed;
  };
  const computeStats = (series: Series, at: number): LatencyStats => {
    const values = series.samples.filter(([t]) => at - t <= windowMs).map(([, v]) => v);
    if (values.length === 0) return { ewmaMs: series.ewma, p50Ms: null, p95Ms: null, samples: 0 };
    values.sort((a, b) => a - b);
    return { ewmaMs: series.ewma, p50Ms: quantile(values, 0.5), p95Ms: quantile(values, 0.95), samples: values.length };
  };

  const snapshot = (raw: Raw): TargetHealth => {
    const at = now();
    const c = windowCounts(raw, at);
    const calls = c.ok + c.fail + c.rl;
    const state = breakerState(raw, at);
    return {
      calls,
      failures: c.fail,
      rateLimited: c.rl,
      errorRate: calls > 0 ? c.fail / calls : 0,
      rateLimitRate: calls > 0 ? c.rl / calls : 0,
      ttft: stats(raw.latency.ttft, at),
      total: stats(raw.latency.total, at),
      inFlight: raw.inFlight,
      breaker: state,
      openUntil: raw.breaker?.until ?? null,
      coolingUntil: raw.coolUntil !== null && raw.coolUntil > at ? raw.coolUntil : null,
    };
  };

  const count = (id: string, raw: Raw, metric: Metric) => {
    const slot = slotOf(now());
    const counts = raw.slots.get(slot) ?? emptyCounts();
    counts[metric] += 1;
    raw.slots.set(slot, counts);
    for (const old of raw.slots.keys()) if (old < slot - 1) raw.slots.delete(old);
    const gen = raw.gen;
    write(() => store.incrBy(key(id, `${gen}:${metric}:${slot}`), 1, slotTtl));
  };

  const setBreaker = (id: string, raw: Raw, breaker: Breaker | null) => {
    raw.breaker = breaker;
    if (breaker) {
      write(() => store.set(key(id, "breaker"), JSON.stringify(breaker), breaker.until - now() + options.breaker.maxCooldownMs));
    } else {
      write(() => store.del(key(id, "breaker")));
      write(() => store.del(key(id, "probe")));
    }
  };

  const observe = (series: Series, value: number, at: number) => {
    series.ewma = series.ewma === null ? value : options.alpha * value + (1 - options.alpha) * series.ewma;
    const oldest = series.samples.at(-1);
    if (oldest !== undefined && at - oldest[0] > windowMs) series.samples = series.samples.filter(([t]) => at - t <= windowMs);
    series.samples.unshift([at, value]);
    if (series.samples.length > options.maxSamples) series.samples.length = options.maxSamples;
    versions.set(series, (versions.get(series) ?? 0) + 1);
  };

  // The latency view is written to the store at most once per LATENCY_WRITE_MS per target (a JSON of ~200 samples
  // on every call would cost more than the call's routing); other instances read it on their next refresh anyway.
  const latencyDirty = new Set<string>();
  let latencyTimer: NodeJS.Timeout | null = null;
  const writeLatencies = () => {
    if (latencyTimer) clearTimeout(latencyTimer);
    latencyTimer = null;
    for (const id of latencyDirty) {
      const text = JSON.stringify(entryFor(id).raw.latency);
      write(() => store.set(key(id, "latency"), text, LATENCY_TTL_MS));
    }
    latencyDirty.clear();
  };
  const scheduleLatencyWrite = (id: string) => {
    latencyDirty.add(id);
    if (latencyTimer === null) {
      latencyTimer = setTimeout(writeLatencies, LATENCY_WRITE_MS);
      latencyTimer.unref();
    }
  };

  return {
    options,
    async view(ids) {
      const out = new Map<string, TargetHealth>();
      const waits: Promise<void>[] = [];
      for (const id of ids) {
        const entry = entryFor(id);
        if (entry.fetchedAt === Number.NEGATIVE_INFINITY) waits.push(refresh(id, entry));
        else if (now() - entry.fetchedAt >= options.refreshMs) void refresh(id, entry);
      }
      await Promise.all(waits);
      for (const id of ids) out.set(id, snapshot(entryFor(id).raw));
      return out;
    },
    peek: (id) => snapshot(entryFor(id).raw),
    async refresh(ids) {
      await Promise.all(ids.map((id) => refresh(id, entryFor(id))));
    },
    begin(id) {
      const entry = entryFor(id);
      entry.mutatedAt = performance.now();
      entry.raw.inFlight += 1;
      write(() => store.incrBy(key(id, "inflight"), 1, INFLIGHT_TTL_MS));
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        const raw = entryFor(id).raw; // a refresh may have replaced the view since
        raw.inFlight = Math.max(0, raw.inFlight - 1);
        write(() => store.incrBy(key(id, "inflight"), -1, INFLIGHT_TTL_MS));
      };
    },
    success(id, latency) {
      const entry = entryFor(id);
      entry.mutatedAt = performance.now();
      const raw = entry.raw;
      const at = now();
      count(id, raw, "ok");
      if (latency.ttftMs !== undefined) observe(raw.latency.ttft, latency.ttftMs, at);
      if (latency.totalMs !== undefined) observe(raw.latency.total, latency.totalMs, at);
      scheduleLatencyWrite(id);
      if (raw.breaker !== null) {
        // A probe (or a call that raced the breaker opening) succeeded: close with a fresh window.
        setBreaker(id, raw, null);
        raw.gen += 1;
        raw.slots.clear();
        write(() => store.incrBy(key(id, "gen"), 1));
      }
    },
    failure(id, kind, retryAfterMs) {
      const entry = entryFor(id);
      entry.mutatedAt = performance.now();
      const raw = entry.raw;
      const at = now();
      if (kind === "rate_limited") {
        count(id, raw, "rl");
        if (retryAfterMs !== undefined && retryAfterMs > 0) {
          raw.coolUntil = Math.max(raw.coolUntil ?? 0, at + retryAfterMs);
          const until = raw.coolUntil;
          write(() => store.set(key(id, "cool"), String(until), retryAfterMs));
        }
        return;
      }
      if (!BREAKER_KINDS.has(kind)) return;
      count(id, raw, "fail");
      const state = breakerState(raw, at);
      const b = options.breaker;
      if (state === "half_open") {
        const cooldownMs = Math.min(b.maxCooldownMs, (raw.breaker?.cooldownMs ?? b.cooldownMs) * 2);
        setBreaker(id, raw, { until: at + cooldownMs, cooldownMs });
        write(() => store.del(key(id, "probe")));
      } else if (state === "closed") {
        const c = windowCounts(raw, at);
        const calls = c.ok + c.fail + c.rl;
        if (c.fail >= b.failureThreshold && c.fail / calls >= b.failureRate) {
          setBreaker(id, raw, { until: at + b.cooldownMs, cooldownMs: b.cooldownMs });
        }
      }
    },
    async acquireProbe(id) {
      try {
        return await store.setIfAbsent(key(id, "probe"), String(now()), options.breaker.probeTimeoutMs);
      } catch {
        return true; // store down: let this caller probe rather than never closing
      }
    },
    async flush() {
      writeLatencies();
      await Promise.all([...pending]);
    },
  };
}

/** A fetched view that may predate local changes, reconciled with the local one: the larger counts, the local state. */
function merge(remote: Raw, local: Raw): Raw {
  if (remote.gen !== local.gen) return remote.gen > local.gen ? remote : local;
  const slots = new Map(remote.slots);
  for (const [slot, counts] of local.slots) {
    const other = slots.get(slot);
    slots.set(slot, other ? { ok: Math.max(other.ok, counts.ok), fail: Math.max(other.fail, counts.fail), rl: Math.max(other.rl, counts.rl) } : { ...counts });
  }
  return {
    gen: remote.gen,
    slots,
    latency: local.latency,
    inFlight: local.inFlight,
    breaker: local.breaker,
    coolUntil: Math.max(remote.coolUntil ?? 0, local.coolUntil ?? 0) || null,
  };
}

function quantile(sorted: number[], q: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

function parseJson<T>(text: string | null): T | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}
