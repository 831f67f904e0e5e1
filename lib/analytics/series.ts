/**
 * Pure preparation of dashboard numbers: time windows for a range picker, dense chart series (missing buckets are
 * zeros, so a quiet hour is a dip and not a gap the line skips), a linear month-end forecast, latency percentiles
 * and rates. Money stays a decimal string until a chart needs a number.
 */
import { decimalToString, divRound, parseDecimal } from "@/server/catalog/money";
import type { Range } from "@/lib/contracts/analytics";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export type Bucket = "hour" | "day";

export interface RangeWindow {
  /** Inclusive start, aligned to a bucket boundary (UTC). */
  from: Date;
  /** Exclusive end: the end of the bucket containing `now`. */
  to: Date;
  bucket: Bucket;
}

const RANGE_BUCKETS: Record<Range, { count: number; bucket: Bucket }> = {
  "24h": { count: 24, bucket: "hour" },
  "7d": { count: 7 * 24, bucket: "hour" },
  "30d": { count: 30, bucket: "day" },
  "90d": { count: 90, bucket: "day" },
};

/** The last `count` whole buckets of a range, ending with the bucket that contains `now`. */
export function rangeWindow(range: Range, now: number): RangeWindow {
  const { count, bucket } = RANGE_BUCKETS[range];
  const size = bucket === "hour" ? HOUR_MS : DAY_MS;
  const end = Math.floor(now / size) * size + size;
  return { from: new Date(end - count * size), to: new Date(end), bucket };
}

/** One bucket of measures as the rollup queries return it (money as decimal strings). */
export interface SeriesRow {
  time: Date;
  calls: number;
  errors: number;
  cacheHits: number;
  costUsd: string;
  baselineCostUsd: string;
  savingsRoutingUsd: string;
  savingsCacheUsd: string;
  savingsPromptCacheUsd: string;
  savingsBatchUsd: string;
  savingsCapsUsd: string;
  /** Absent in rows from before the compression lever existed. */
  savingsCompressionUsd?: string;
}

/** A chart point: numbers only (Recharts plots numbers); `t` is epoch ms. */
export interface SeriesPoint {
  t: number;
  calls: number;
  errors: number;
  cacheHits: number;
  cost: number;
  baseline: number;
  routing: number;
  cache: number;
  promptCache: number;
  batch: number;
  caps: number;
  compression: number;
}

const ZERO_ROW = { calls: 0, errors: 0, cacheHits: 0, cost: 0, baseline: 0, routing: 0, cache: 0, promptCache: 0, batch: 0, caps: 0, compression: 0 };

/**
 * Every bucket of the window, in order, with rows summed into their bucket (rows outside the window are ignored).
 * Several rows may fall in one bucket (one per team, key, model…); money is summed exactly before becoming a number.
 */
export function fillSeries(rows: readonly SeriesRow[], window: RangeWindow): SeriesPoint[] {
  const size = window.bucket === "hour" ? HOUR_MS : DAY_MS;
  const from = window.from.getTime();
  const count = Math.round((window.to.getTime() - from) / size);
  const sums = Array.from({ length: count }, () => ({
    calls: 0, errors: 0, cacheHits: 0,
    money: [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n] as bigint[],
  }));
  for (const row of rows) {
    const index = Math.floor((row.time.getTime() - from) / size);
    const slot = sums[index];
    if (!slot) continue;
    slot.calls += row.calls;
    slot.errors += row.errors;
    slot.cacheHits += row.cacheHits;
    const money = [row.costUsd, row.baselineCostUsd, row.savingsRoutingUsd, row.savingsCacheUsd, row.savingsPromptCacheUsd, row.savingsBatchUsd, row.savingsCapsUsd, row.savingsCompressionUsd ?? "0"];
    money.forEach((value, i) => (slot.money[i]! += parseDecimal(value)));
  }
  return sums.map((slot, i) => {
    const [cost, baseline, routing, cache, promptCache, batch, caps, compression] = slot.money.map((units) => Number(decimalToString(units)));
    return { ...ZERO_ROW, t: from + i * size, calls: slot.calls, errors: slot.errors, cacheHits: slot.cacheHits, cost: cost!, baseline: baseline!, routing: routing!, cache: cache!, promptCache: promptCache!, batch: batch!, caps: caps!, compression: compression! };
  });
}

/** UTC bounds of the calendar month containing `now`, or of "YYYY-MM". */
export function monthBounds(month: string | number): { start: Date; end: Date } {
  let year: number;
  let index: number;
  if (typeof month === "number") {
    const d = new Date(month);
    year = d.getUTCFullYear();
    index = d.getUTCMonth();
  } else {
    year = Number(month.slice(0, 4));
    index = Number(month.slice(5, 7)) - 1;
  }
  return { start: new Date(Date.UTC(year, index, 1)), end: new Date(Date.UTC(year, index + 1, 1)) };
}

/** "YYYY-MM" of a UTC instant. */
export function monthKey(date: Date): string {
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, "0")}`;
}

/**
 * Linear forecast of the month's spend: month-to-date spend extended at its average rate so far to the end of the
 * month. Exact decimal arithmetic; before any time has elapsed the forecast is the spend itself.
 */
export function forecastMonthEnd(monthToDateUsd: string, now: number): string {
  const { start, end } = monthBounds(now);
  const elapsed = BigInt(Math.max(0, now - start.getTime()));
  const total = BigInt(end.getTime() - start.getTime());
  const spent = parseDecimal(monthToDateUsd);
  if (elapsed === 0n) return decimalToString(spent);
  return decimalToString(divRound(spent * total, elapsed));
}

/** The p-th percentile (0–100) of values by nearest rank, or null without values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** part / whole as a fraction in [0, 1], or null when there is nothing to divide. */
export function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}
