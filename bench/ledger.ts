/**
 * Call-log write benchmark: `npm run -s bench:ledger [-- --rows N] [--batch N] [--quick]` (batch: the writer's default).
 *
 * Needs DATABASE_URL (a Postgres server). Creates a scratch database there, applies the migrations, and pushes
 * realistic rows (varied teams, keys, models, hours; nested attempts and route) through the real call-log writer —
 * batched inserts that also maintain the hourly and daily rollups — keeping its queue busy but bounded, as sustained
 * traffic would. The clock stops when the writer has closed (every row committed). Prints ONE JSON object on
 * stdout: rows_per_s (target ≥ 5,000), rows, seconds, batch_size, and whether the stored rows and rollups add up.
 * The scratch database is dropped afterwards.
 */
import os from "node:os";
import path from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { parseArgs } from "node:util";
import pg from "pg";
import { openPostgres } from "../server/db/client";
import { applyMigrations } from "../server/db/migrate";
import { readMigrations } from "../server/db/migrations-dir";
import { loadEnv } from "../server/env";
import { DEFAULT_BATCH_SIZE, createCallLogWriter, type CallRecord } from "../server/ledger/call-log";
import { createLogger } from "../server/obs/log";

const ROOT = path.resolve(import.meta.dirname, "..");
const TARGET_ROWS_PER_S = 5_000;

function settings(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: { rows: { type: "string" }, batch: { type: "string" }, quick: { type: "boolean", default: false } },
  });
  const int = (value: string | undefined, fallback: number, flag: string) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer`);
    return n;
  };
  return { rows: int(values.rows, values.quick ? 5_000 : 200_000, "rows"), batch: int(values.batch, DEFAULT_BATCH_SIZE, "batch"), quick: values.quick };
}

const MODELS = [
  ["openai", "gpt-4o-mini", "0.15", "0.6"],
  ["openai", "gpt-4o", "2.5", "10"],
  ["anthropic", "claude-sonnet-4-20250514", "3", "15"],
  ["gemini", "gemini-2.5-flash", "0.3", "2.5"],
] as const;

/** Row `i` of a realistic mix: 20 teams, 200 keys, 4 models, a day of hours, a few errors and cache hits. */
function row(i: number, base: number): CallRecord {
  const [kind, model] = MODELS[i % MODELS.length]!;
  const input = 200 + (i % 1_800);
  const output = 20 + (i % 400);
  const status = i % 50 === 0 ? 502 : 200;
  return {
    id: `bench_${base}_${i}`,
    requestId: `req_${base}_${i}`,
    createdAt: new Date(base + (i % 86_400) * 1_000),
    orgId: "org_bench",
    teamId: `team_${i % 20}`,
    apiKeyId: `key_${i % 200}`,
    endUser: i % 3 === 0 ? `user_${i % 1_000}` : null,
    surface: "openai",
    endpoint: "chat.completions",
    requestedModel: i % 2 ? "support-bot" : model,
    policy: i % 2 ? "support-bot" : null,
    providerId: `prov_${kind}`,
    providerKind: kind,
    model,
    upstreamId: `chatcmpl-${i}`,
    status,
    errorClass: status === 200 ? null : "upstream_error",
    inputTokens: input,
    cachedInputTokens: i % 4 === 0 ? 128 : 0,
    outputTokens: output,
    reasoningTokens: 0,
    costUsd: (input * 0.00000015 + output * 0.0000006).toFixed(10),
    baselineCostUsd: (input * 0.0000025 + output * 0.00001).toFixed(10),
    savingsRoutingUsd: "0.0001",
    ttftMs: 150 + (i % 300),
    latencyMs: 400 + (i % 2_000),
    cacheOutcome: i % 10 === 0 ? "hit" : "miss",
    streamed: i % 2 === 0,
    route: { requested: "support-bot", policy: "support-bot", target: `${kind}/${model}` },
    attempts: [{ provider: kind, model, status: status === 200 ? 200 : 502, latencyMs: 380 }],
  };
}

async function main() {
  const { rows, batch, quick } = settings(process.argv.slice(2));
  const env = loadEnv();
  if (!env.DATABASE_URL) {
    process.stderr.write("bench:ledger needs DATABASE_URL (a Postgres server; a scratch database is created there)\n");
    process.exit(2);
  }
  const name = `sy_bench_ledger_${Date.now().toString(36)}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(env.DATABASE_URL);
  url.pathname = `/${name}`;
  const spillDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-bench-ledger-"));
  const db = await openPostgres(url.toString());
  try {
    await db.withSession((session) => applyMigrations(session, readMigrations(path.join(ROOT, "prisma", "migrations"))));
    const log = createLogger({ level: "warn", destination: process.stderr });
    const writer = createCallLogWriter({ db: db.prisma, log, spillDir, batchSize: batch, maxQueue: rows + batch, flushIntervalMs: 20 });
    const base = Date.UTC(2026, 0, 1);
    process.stderr.write(`bench:ledger: writing ${rows} rows in batches of ${batch}${quick ? " (quick)" : ""}\n`);

    const started = performance.now();
    for (let i = 0; i < rows; i++) {
      writer.write(row(i, base));
      // Sustained, bounded: the producer waits while a few batches are already queued.
      if (writer.pending() >= batch * 4) await writer.flush();
    }
    await writer.close();
    const seconds = (performance.now() - started) / 1_000;

    const [stored, daily, hourly] = await Promise.all([
      db.prisma.call.count(),
      db.prisma.rollupDaily.aggregate({ _sum: { calls: true } }),
      db.prisma.rollupHourly.aggregate({ _sum: { calls: true } }),
    ]);
    const report = {
      rows_per_s: Math.round(rows / seconds),
      rows,
      seconds: Number(seconds.toFixed(3)),
      batch_size: batch,
      target_rows_per_s: TARGET_ROWS_PER_S,
      meets_target: rows / seconds >= TARGET_ROWS_PER_S,
      rows_stored: stored,
      rollup_daily_calls: daily._sum.calls ?? 0,
      rollup_hourly_calls: hourly._sum.calls ?? 0,
      verified: stored === rows && daily._sum.calls === rows && hourly._sum.calls === rows,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
    if (!report.verified) process.exitCode = 1;
  } finally {
    await db.close();
    rmSync(spillDir, { recursive: true, force: true });
    await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
  }
}

main().catch((error) => {
  process.stderr.write(`bench:ledger failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
