/**
 * How call-log batches reach the database: ONE statement inserts the batch and folds exactly the rows it inserted
 * into the hourly and daily rollups, so the rollups are updated in the same transaction and a replayed batch (after
 * an outage, from a spill file) never counts a row twice — rows whose id already exists are skipped by the insert
 * and therefore absent from its RETURNING set.
 *
 * The batch travels as one JSON parameter (json_populate_recordset), so a batch has no bind-parameter limit and
 * Postgres parses it in one pass. Rollup rows are inserted in key order so concurrent instances lock them in the same
 * order (no deadlock between two writers).
 *
 * Tables for dashboards (other code queries them; both share the dimensions and measures):
 * - RollupHourly(hour: UTC hour start) and RollupDaily(day: UTC date), one row per
 *   (time, orgId, teamId, apiKeyId, policy, providerId, providerKind, model); "" stands for "none".
 * - measures: calls, errors (status ≥ 400), cacheHits (hit | semantic-hit), inputTokens, cachedInputTokens,
 *   cacheWriteTokens, outputTokens, reasoningTokens, costUsd, baselineCostUsd, savings{Routing,Cache,PromptCache,
 *   Batch,Caps,Compression}Usd, latencyMsSum (average latency = latencyMsSum / calls).
 */
import type { Db } from "../db/client";
import type { Logger } from "../obs/log";
import type { CallRecord } from "./call-log";

/** Every Call column the writer fills, in table order. Columns added later keep their database defaults. */
const CALL_COLUMNS = [
  "id", "requestId", "createdAt", "orgId", "teamId", "apiKeyId", "endUser", "surface", "endpoint", "requestedModel",
  "policy", "providerId", "providerKind", "model", "upstreamId", "status", "errorClass", "inputTokens",
  "cachedInputTokens", "cacheWriteTokens", "outputTokens", "reasoningTokens", "costUsd", "baselineCostUsd",
  "savingsRoutingUsd", "savingsCacheUsd", "savingsPromptCacheUsd", "savingsBatchUsd", "savingsCapsUsd", "ttftMs",
  "latencyMs", "cacheOutcome", "streamed", "partial", "estimated", "batch", "route", "attempts", "requestBody",
  "responseBody", "savingsCompressionUsd",
] as const;

const DIMENSIONS = ["orgId", "teamId", "apiKeyId", "policy", "providerId", "providerKind", "model"] as const;
const COUNTS = ["calls", "errors", "cacheHits"] as const;
const TOKENS = ["inputTokens", "cachedInputTokens", "cacheWriteTokens", "outputTokens", "reasoningTokens"] as const;
const MONEY = [
  "costUsd", "baselineCostUsd", "savingsRoutingUsd", "savingsCacheUsd", "savingsPromptCacheUsd", "savingsBatchUsd", "savingsCapsUsd",
  "savingsCompressionUsd",
] as const;
const MEASURES = [...COUNTS, ...TOKENS, ...MONEY, "latencyMsSum"] as const;

const q = (name: string) => `"${name}"`;
const list = (names: readonly string[], prefix = "") => names.map((n) => prefix + q(n)).join(", ");

function rollupInsert(table: "RollupHourly" | "RollupDaily", time: "hour" | "day", select: string): string {
  const keys = [time, ...DIMENSIONS];
  return `INSERT INTO ${q(table)} AS r (${list(["id", ...keys, ...MEASURES])})
    ${select}
    ON CONFLICT (${list(keys)}) DO UPDATE SET ${MEASURES.map((m) => `${q(m)} = r.${q(m)} + EXCLUDED.${q(m)}`).join(", ")}`;
}

const dimensionExprs = DIMENSIONS.map((d) => (d === "orgId" ? q(d) : `coalesce(${q(d)}, '') AS ${q(d)}`)).join(", ");

export const INSERT_CALLS_SQL = `
WITH input AS (
  SELECT * FROM json_populate_recordset(NULL::"Call", $1::json)
),
inserted AS (
  INSERT INTO "Call" (${list(CALL_COLUMNS)})
  SELECT ${list(CALL_COLUMNS)} FROM input
  ON CONFLICT ("id") DO NOTHING
  RETURNING "createdAt", ${list(DIMENSIONS)}, "status", "cacheOutcome", ${list(TOKENS)}, ${list(MONEY)}, "latencyMs"
),
hours AS (
  SELECT date_trunc('hour', "createdAt", 'UTC') AS "hour", ${dimensionExprs},
    count(*)::int AS "calls",
    (count(*) FILTER (WHERE "status" >= 400))::int AS "errors",
    (count(*) FILTER (WHERE "cacheOutcome" IN ('hit', 'semantic-hit')))::int AS "cacheHits",
    ${TOKENS.map((t) => `sum(${q(t)})::bigint AS ${q(t)}`).join(", ")},
    ${MONEY.map((m) => `sum(${q(m)}) AS ${q(m)}`).join(", ")},
    coalesce(sum("latencyMs"), 0)::bigint AS "latencyMsSum"
  FROM inserted
  WHERE "orgId" IS NOT NULL
  GROUP BY 1, ${DIMENSIONS.map((_, i) => i + 2).join(", ")}
),
hourly AS (
  ${rollupInsert("RollupHourly", "hour", `SELECT gen_random_uuid()::text, "hour", ${list(DIMENSIONS)}, ${list(MEASURES)} FROM hours ORDER BY ${list(["hour", ...DIMENSIONS])}`)}
),
daily AS (
  ${rollupInsert(
    "RollupDaily",
    "day",
    `SELECT gen_random_uuid()::text, ("hour" AT TIME ZONE 'UTC')::date AS "day", ${list(DIMENSIONS)},
      ${MEASURES.map((m) => `sum(${q(m)})::${m === "calls" || m === "errors" || m === "cacheHits" ? "int" : m === "latencyMsSum" || (TOKENS as readonly string[]).includes(m) ? "bigint" : "numeric"}`).join(", ")}
    FROM hours GROUP BY 2, ${DIMENSIONS.map((_, i) => i + 3).join(", ")} ORDER BY ${list(["day", ...DIMENSIONS])}`,
  )}
)
SELECT (SELECT count(*) FROM inserted)::int AS "inserted"`;

/** A CallRecord as the JSON object json_populate_recordset reads: every column present, defaults filled in. */
function toJsonRow(r: CallRecord): Record<string, unknown> {
  return {
    id: r.id,
    requestId: r.requestId,
    createdAt: r.createdAt instanceof Date ? r.createdAt.toISOString() : r.createdAt,
    orgId: r.orgId ?? null,
    teamId: r.teamId ?? null,
    apiKeyId: r.apiKeyId ?? null,
    endUser: r.endUser ?? null,
    surface: r.surface,
    endpoint: r.endpoint,
    requestedModel: r.requestedModel ?? null,
    policy: r.policy ?? null,
    providerId: r.providerId ?? null,
    providerKind: r.providerKind ?? null,
    model: r.model ?? null,
    upstreamId: r.upstreamId ?? null,
    status: r.status,
    errorClass: r.errorClass ?? null,
    inputTokens: r.inputTokens ?? 0,
    cachedInputTokens: r.cachedInputTokens ?? 0,
    cacheWriteTokens: r.cacheWriteTokens ?? 0,
    outputTokens: r.outputTokens ?? 0,
    reasoningTokens: r.reasoningTokens ?? 0,
    costUsd: r.costUsd ?? "0",
    baselineCostUsd: r.baselineCostUsd ?? "0",
    savingsRoutingUsd: r.savingsRoutingUsd ?? "0",
    savingsCacheUsd: r.savingsCacheUsd ?? "0",
    savingsPromptCacheUsd: r.savingsPromptCacheUsd ?? "0",
    savingsBatchUsd: r.savingsBatchUsd ?? "0",
    savingsCapsUsd: r.savingsCapsUsd ?? "0",
    savingsCompressionUsd: r.savingsCompressionUsd ?? "0",
    ttftMs: r.ttftMs ?? null,
    latencyMs: r.latencyMs ?? null,
    cacheOutcome: r.cacheOutcome ?? null,
    streamed: r.streamed ?? false,
    partial: r.partial ?? false,
    estimated: r.estimated ?? false,
    batch: r.batch ?? false,
    route: r.route ?? null,
    attempts: r.attempts ?? null,
    requestBody: r.requestBody ?? null,
    responseBody: r.responseBody ?? null,
  };
}

const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function wellFormed(_key: string, value: unknown): unknown {
  return typeof value === "string" ? value.replace(UNSTORABLE, "\uFFFD") : value;
}

/** Inserts a batch and updates the rollups for the rows actually inserted; returns how many were inserted. */
export async function insertCalls(db: Db, rows: readonly CallRecord[]): Promise<number> {
  if (rows.length === 0) return 0;
  const data = rows.map(toJsonRow);
  let json = JSON.stringify(data);
  // Postgres text and jsonb cannot hold U+0000 or unpaired surrogates (JSON.stringify escapes both): one such
  // string would fail the batch on every retry, so those (rare) batches are re-encoded with U+FFFD in their place.
  if (json.includes("\\u0000") || /\\ud[89a-f]/i.test(json)) json = JSON.stringify(data, wellFormed);
  const result = await db.$queryRawUnsafe<Array<{ inserted: number }>>(INSERT_CALLS_SQL, json);
  return Number(result[0]?.inserted ?? 0);
}

/** Setting: days of raw call-log rows to keep (a number); absent = keep forever. */
export const RETENTION_DAYS_KEY = "call_log_retention_days";
/** Setting: ISO instant (a UTC hour) before which raw rows may have been deleted; rollups cover what is gone. */
export const RETENTION_WATERMARK_KEY = "call_log_retention_watermark";

/**
 * Retention of raw rows: deletes Call rows older than `days` (cut at a whole UTC hour, so the hourly rollups cover
 * exactly what is gone), in chunks so no statement holds locks for long. The watermark is moved first: a budget
 * seeding its spend meanwhile reads rollups before it and raw rows after it, correct at every point of the sweep.
 */
export async function sweepRetention(db: Db, days: number, now: number, chunk = 5_000): Promise<{ cutoff: Date; deleted: number }> {
  const cutoff = new Date(Math.floor((now - days * 86_400_000) / 3_600_000) * 3_600_000);
  const current = await db.setting.findUnique({ where: { key: RETENTION_WATERMARK_KEY } });
  if (typeof current?.value !== "string" || new Date(current.value) < cutoff) {
    const value = cutoff.toISOString();
    await db.setting.upsert({ where: { key: RETENTION_WATERMARK_KEY }, create: { key: RETENTION_WATERMARK_KEY, value }, update: { value } });
  }
  let deleted = 0;
  for (;;) {
    const n = await db.$executeRawUnsafe(
      `DELETE FROM "Call" WHERE "id" IN (SELECT "id" FROM "Call" WHERE "createdAt" < $1::timestamptz LIMIT ${Math.max(1, Math.floor(chunk))})`,
      cutoff.toISOString(),
    );
    deleted += n;
    if (n === 0) break;
  }
  return { cutoff, deleted };
}

/**
 * Runs the retention sweep a minute after start and then hourly, when the `call_log_retention_days` setting holds
 * a positive number. Every instance may run it: deleting rows another instance already deleted is a no-op.
 */
export function startRetention(options: { db: Db; log: Logger; now?: () => number; intervalMs?: number }): { stop(): void; runOnce(): Promise<void> } {
  const { db, log } = options;
  const now = options.now ?? Date.now;
  let running = false;
  const runOnce = async () => {
    if (running) return;
    running = true;
    try {
      const row = await db.setting.findUnique({ where: { key: RETENTION_DAYS_KEY } });
      const days = typeof row?.value === "number" ? row.value : Number(row?.value ?? NaN);
      if (!Number.isFinite(days) || days <= 0) return;
      const { cutoff, deleted } = await sweepRetention(db, days, now());
      if (deleted > 0) log.info({ deleted, before: cutoff.toISOString() }, "call log retention: old rows deleted (rollups keep their totals)");
    } catch (error) {
      log.warn({ err: error }, "call log retention sweep failed; will retry");
    } finally {
      running = false;
    }
  };
  const interval = options.intervalMs ?? 3_600_000;
  const first = setTimeout(() => void runOnce(), Math.min(60_000, interval));
  const timer = setInterval(() => void runOnce(), interval);
  first.unref();
  timer.unref();
  return {
    runOnce,
    stop() {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
