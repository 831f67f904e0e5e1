/**
 * A closed-loop HTTP load generator with sub-millisecond latency: `concurrency` loops, each sending its next request
 * as soon as the previous one has been read to the end, over one undici Pool with a keep-alive connection per loop.
 * autocannon is not used because its latency histogram keeps whole milliseconds, too coarse for an added latency
 * measured in tenths of a millisecond; here every sample is a process.hrtime.bigint() difference.
 */
import { Pool } from "undici";

export interface LoadSpec {
  /** Target origin, e.g. http://127.0.0.1:4010 (loopback only: this is a benchmark of local processes). */
  origin: string;
  path: string;
  headers: Record<string, string>;
  /** JSON request body, sent as is on every request. */
  body: string;
  /** Whether the answer is an SSE stream; a stream counts as correct only when it ends with `data: [DONE]`. */
  stream: boolean;
  concurrency: number;
  /** Requests sent and thrown away first (connections opened, JIT warm on both sides). */
  warmupMs: number;
  durationMs: number;
  /** Hard bound on measured requests, whatever the duration. */
  maxRequests?: number;
  /** Cumulative CPU time (ms) of the server under test, read around the measured window; null when unknown. */
  serverCpuMs?: () => number | null;
}

export interface LoadResult {
  requests: number;
  elapsedMs: number;
  rps: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Time to the first body byte (p50), the latency a streaming client feels first. */
  ttfbP50Ms: number;
  /** CPU the server under test spent per measured request (null when `serverCpuMs` was not given or unknown). */
  serverCpuMsPerRequest: number | null;
  /** CPU this load generator spent per measured request. */
  clientCpuMsPerRequest: number;
}

/** Thrown on the first failed request: a benchmark that counts error responses as fast answers would mislead. */
export class LoadError extends Error {
  override name = "LoadError";
}

const DEFAULT_MAX_REQUESTS = 5_000_000;
/** A request that hangs this long fails the run instead of stalling it. */
const REQUEST_TIMEOUT_MS = 30_000;

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return withPool(spec, async (pool) => {
    await runPhase(pool, spec, spec.warmupMs, Number.MAX_SAFE_INTEGER, null);
    const samples = { total: [] as number[], ttfb: [] as number[] };
    const serverBefore = spec.serverCpuMs?.() ?? null;
    const clientBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    await runPhase(pool, spec, spec.durationMs, spec.maxRequests ?? DEFAULT_MAX_REQUESTS, samples);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    const client = process.cpuUsage(clientBefore);
    const serverAfter = serverBefore === null ? null : (spec.serverCpuMs?.() ?? null);
    const result = summarize(samples.total, samples.ttfb, elapsedMs);
    result.clientCpuMsPerRequest = (client.user + client.system) / 1000 / result.requests;
    if (serverBefore !== null && serverAfter !== null) result.serverCpuMsPerRequest = (serverAfter - serverBefore) / result.requests;
    return result;
  });
}

/** Only the warm-up part of `spec` (`warmupMs`), nothing measured: brings a freshly started server up to speed. */
export async function warmUp(spec: LoadSpec): Promise<void> {
  await withPool(spec, (pool) => runPhase(pool, spec, spec.warmupMs, Number.MAX_SAFE_INTEGER, null));
}

async function withPool<T>(spec: LoadSpec, fn: (pool: Pool) => Promise<T>): Promise<T> {
  if (!/^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(spec.origin)) {
    throw new LoadError(`refusing to load ${spec.origin}: only loopback origins are benchmarked`);
  }
  const pool = new Pool(spec.origin, {
    connections: spec.concurrency,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  try {
    return await fn(pool);
  } finally {
    await pool.close();
  }
}

/** Runs `concurrency` loops until the deadline (requests in flight then are completed and counted). */
async function runPhase(
  pool: Pool,
  spec: LoadSpec,
  durationMs: number,
  maxRequests: number,
  samples: { total: number[]; ttfb: number[] } | null,
): Promise<void> {
  const deadline = process.hrtime.bigint() + BigInt(Math.round(durationMs * 1e6));
  let started = 0;
  let failed = false;
  const loop = async () => {
    while (!failed && started < maxRequests && process.hrtime.bigint() < deadline) {
      started += 1;
      try {
        const sample = await once(pool, spec);
        samples?.total.push(sample.totalMs);
        samples?.ttfb.push(sample.ttfbMs);
      } catch (error) {
        failed = true; // the other loops stop after their current request
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, loop));
}

async function once(pool: Pool, spec: LoadSpec): Promise<{ totalMs: number; ttfbMs: number }> {
  const t0 = process.hrtime.bigint();
  let ttfb = 0n;
  let text = "";
  let status: number;
  try {
    const res = await pool.request({ path: spec.path, method: "POST", headers: spec.headers, body: spec.body });
    status = res.statusCode;
    for await (const chunk of res.body) {
      if (ttfb === 0n) ttfb = process.hrtime.bigint() - t0;
      // Keep the whole (small) JSON answer, or only the tail of a stream, where [DONE] must be.
      text = spec.stream ? (text + (chunk as Buffer).toString("latin1")).slice(-256) : text + (chunk as Buffer).toString("utf8");
    }
  } catch (error) {
    throw new LoadError(`${spec.origin}${spec.path}: request failed: ${(error as Error).message}`);
  }
  const total = process.hrtime.bigint() - t0;
  const ok = status === 200 && (spec.stream ? /data: \[DONE\]\s*$/.test(text) : text.includes('"choices"'));
  if (!ok) throw new LoadError(`${spec.origin}${spec.path}: unexpected answer (HTTP ${status}): ${text.slice(0, 300)}`);
  return { totalMs: Number(total) / 1e6, ttfbMs: Number(ttfb === 0n ? total : ttfb) / 1e6 };
}

/** Latency statistics by nearest rank; throws when nothing was measured. */
export function summarize(totalMs: number[], ttfbMs: number[], elapsedMs: number): LoadResult {
  if (totalMs.length === 0) throw new LoadError("no request completed in the measured window");
  const sorted = Float64Array.from(totalMs).sort();
  const sortedTtfb = Float64Array.from(ttfbMs).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    requests: sorted.length,
    elapsedMs,
    rps: (sorted.length * 1000) / elapsedMs,
    meanMs: sum / sorted.length,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1]!,
    ttfbP50Ms: sortedTtfb.length > 0 ? percentile(sortedTtfb, 50) : Number.NaN,
    serverCpuMsPerRequest: null,
    clientCpuMsPerRequest: Number.NaN,
  };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}
