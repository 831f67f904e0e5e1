/**
 * Call-log durability against a real database (reliability case 21): PGlite always, Postgres when DATABASE_URL is
 * set. The writer runs with its real insert (rows + rollups in one statement).
 */
import { readdirSync } from "node:fs";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { openPglite } from "../db/client";
import { startSimulator } from "../providers/simulator";
import { waitUntil } from "../state/store.contract";
import { LogCapture, seedSimulatorProviders, startTestServer, tempDir } from "../testing/harness";
import { createCallLogWriter, type CallRecord } from "./call-log";
import { applyBudgets, loadLedgerConfig, spendInWindow } from "./budgets";
import { RETENTION_DAYS_KEY, RETENTION_WATERMARK_KEY, insertCalls, startRetention } from "./rollups";
import { openLedgerTestDb, type LedgerTestDb } from "./test-db";

const record = (i: number, extra: Partial<CallRecord> = {}): CallRecord => ({
  id: `call_${i}`,
  requestId: `req_${i}`,
  createdAt: new Date(Date.UTC(2026, 2, 14, 10, i % 60)),
  orgId: "org1",
  teamId: "team1",
  apiKeyId: "key1",
  surface: "openai",
  endpoint: "chat.completions",
  providerKind: "openai",
  model: "gpt-4o-mini",
  status: 200,
  upstreamId: "chatcmpl-same",
  inputTokens: 10,
  outputTokens: 5,
  costUsd: "0.0000015",
  latencyMs: 100,
  ...extra,
});

async function totals(db: LedgerTestDb["prisma"]) {
  const [calls, hourly, daily] = await Promise.all([
    db.call.count(),
    db.rollupHourly.aggregate({ _sum: { calls: true, costUsd: true } }),
    db.rollupDaily.aggregate({ _sum: { calls: true, costUsd: true } }),
  ]);
  return { calls, hourly: hourly._sum.calls ?? 0, daily: daily._sum.calls ?? 0, cost: Number(daily._sum.costUsd ?? 0) };
}

describe("call log against a real database", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  const spillDir = () => {
    const d = tempDir();
    cleanups.push(() => d.remove());
    return d.path;
  };

  it("keeps both rows of calls that share an upstream id, and stores and rolls up a replayed id once", async () => {
    const db = await openLedgerTestDb();
    cleanups.push(() => db.dispose());
    expect(await insertCalls(db.prisma, [record(1), record(2), record(3, { status: 500, cacheOutcome: "hit" })])).toBe(3);
    expect(await insertCalls(db.prisma, [record(1), record(2), record(4)])).toBe(1);
    expect(await db.prisma.call.count({ where: { upstreamId: "chatcmpl-same" } })).toBe(4);
    expect(await totals(db.prisma)).toEqual({ calls: 4, hourly: 4, daily: 4, cost: 0.000006 });
    const day = await db.prisma.rollupDaily.findFirstOrThrow();
    expect(day).toMatchObject({ orgId: "org1", teamId: "team1", apiKeyId: "key1", providerKind: "openai", model: "gpt-4o-mini", errors: 1, cacheHits: 1 });
    expect(day.latencyMsSum).toBe(400n);
  });

  it("loses nothing when the database goes away during flushes, and recovers by itself", async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    let db = await openLedgerTestDb({ pgliteDir: dir.path });
    cleanups.push(() => db.dispose());
    let down = false;
    const admin = db.url ? new URL(db.url) : null;
    const dbName = admin?.pathname.slice(1);
    const sql = async (text: string) => {
      const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await client.connect();
      await client.query(text);
      await client.end();
    };
    const outage = {
      async start() {
        down = true;
        if (dbName) {
          // Postgres: refuse new connections and cut the pool's existing ones.
          await sql(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS false`);
          await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName}'`);
        } else {
          // PGlite: the database is closed; it comes back by reopening the same directory.
          await db.close();
        }
      },
      async end() {
        if (dbName) await sql(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS true`);
        else db = Object.assign(await openPglite(dir.path), { url: undefined, dispose: async () => {} }) as LedgerTestDb;
        down = false;
      },
    };
    if (dbName) cleanups.push(() => sql(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS true`));
    const logs = new LogCapture();
    const writer = createCallLogWriter({
      db: db.prisma,
      insert: (rows) => (down && !dbName ? Promise.reject(new Error("database closed")) : insertCalls(db.prisma, rows)),
      log: logs.logger,
      spillDir: spillDir(),
      batchSize: 50,
      flushIntervalMs: 10,
      maxBackoffMs: 50,
    });
    for (let i = 0; i < 120; i++) writer.write(record(i));
    await writer.flush();
    await outage.start();
    for (let i = 120; i < 400; i++) writer.write(record(i));
    await writer.flush();
    expect(writer.pending()).toBeGreaterThan(0);
    await waitUntil(() => logs.text().includes("call log: write failed"));
    await outage.end();
    for (let i = 400; i < 500; i++) writer.write(record(i));
    await waitUntil(() => writer.pending() === 0, 20_000);
    await writer.close();
    expect(await totals(db.prisma)).toMatchObject({ calls: 500, hourly: 500, daily: 500 });
    expect(logs.text()).toContain("call log: database writes recovered");
    if (!dbName) await db.close();
  });

  it("spills to disk when the queue overflows during an outage, and replays it (once) when the database is back", async () => {
    const db = await openLedgerTestDb();
    cleanups.push(() => db.dispose());
    const dir = spillDir();
    let down = true;
    const insert = (rows: CallRecord[]) => (down ? Promise.reject(new Error("connection refused")) : insertCalls(db.prisma, rows));
    const first = createCallLogWriter({ db: db.prisma, insert, log: new LogCapture().logger, spillDir: dir, maxQueue: 20, batchSize: 10, flushIntervalMs: 5, maxBackoffMs: 10 });
    for (let i = 0; i < 100; i++) first.write(record(i));
    // Some rows reach the database before the outage is over? No: all are queued or spilled.
    await first.close();
    expect(readdirSync(dir).length).toBeGreaterThan(0);
    down = false;
    // Rows 0..9 also reached the database another way (e.g. a replay raced a flush): they must not double.
    await insertCalls(db.prisma, Array.from({ length: 10 }, (_, i) => record(i)));
    const next = createCallLogWriter({ db: db.prisma, insert, log: new LogCapture().logger, spillDir: dir });
    await waitUntil(async () => readdirSync(dir).length === 0, 20_000);
    await next.close();
    expect(await totals(db.prisma)).toMatchObject({ calls: 100, hourly: 100, daily: 100 });
  });

  it("deletes raw rows past retention while rollups keep the totals, and budgets still see the whole spend", async () => {
    const db = await openLedgerTestDb();
    cleanups.push(() => db.dispose());
    const now = Date.parse("2026-03-14T12:34:56Z");
    const day = 86_400_000;
    const at = (ms: number, i: number) => record(i, { createdAt: new Date(ms), costUsd: "0.001" });
    await insertCalls(db.prisma, [
      ...Array.from({ length: 10 }, (_, i) => at(now - 40 * day + i * 60_000, i)),
      ...Array.from({ length: 5 }, (_, i) => at(now - 2 * day, 100 + i)),
      ...Array.from({ length: 3 }, (_, i) => at(now - 60_000, 200 + i)),
    ]);
    await db.prisma.setting.create({ data: { key: RETENTION_DAYS_KEY, value: 30 } });
    const log = new LogCapture();
    const retention = startRetention({ db: db.prisma, log: log.logger, now: () => now, intervalMs: 3_600_000 });
    cleanups.push(() => retention.stop());
    await retention.runOnce();
    expect(await db.prisma.call.count()).toBe(8);
    expect((await db.prisma.rollupDaily.aggregate({ _sum: { calls: true } }))._sum.calls).toBe(18);
    const watermark = await db.prisma.setting.findUniqueOrThrow({ where: { key: RETENTION_WATERMARK_KEY } });
    expect(watermark.value).toBe("2026-02-12T12:00:00.000Z");
    expect(log.text()).toContain("old rows deleted");

    await db.prisma.organization.create({ data: { id: "org1", name: "Org", slug: "org1" } });
    await db.prisma.team.create({ data: { id: "team1", orgId: "org1", name: "Team", slug: "team1" } });
    await db.prisma.budget.createMany({
      data: [
        { id: "life", orgId: "org1", scope: "api_key", apiKeyId: "key1", period: "lifetime", limitUsd: "1", createdAt: new Date(now - 100 * day) },
        { id: "month", orgId: "org1", scope: "team", teamId: "team1", period: "monthly", limitUsd: "1" },
      ],
    });
    const config = await loadLedgerConfig(db.prisma, log.logger);
    const applied = applyBudgets(config, { orgId: "org1", teamId: "team1", apiKeyId: "key1", endUser: null }, now);
    const spend = Object.fromEntries(await Promise.all(applied.map(async (b) => [b.rule.id, await spendInWindow(db.prisma, b)] as const)));
    // Lifetime: 10 rows from the rollups before the watermark, 8 raw rows after it. March so far: 8 rows.
    expect(spend).toEqual({ life: 18n * 10_000_000n, month: 8n * 10_000_000n });
  });
});


describe.skipIf(!process.env.DATABASE_URL)("the gateway while Postgres is down", () => {
  it("keeps answering keys it knows, and writes every call's row once the database is back", { timeout: 60_000 }, async () => {
    const sim = await startSimulator();
    const app = await startTestServer();
    const sql = async (text: string) => {
      const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await client.connect();
      await client.query(text);
      await client.end();
    };
    const dbName = new URL(app.rt.env.DATABASE_URL!).pathname.slice(1);
    try {
      const { key } = await seedSimulatorProviders(app, sim.url);
      const ask = (i: number) =>
        fetch(`${app.url}/api/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "sim-openai/sim-small", user: `outage-${i}`, messages: [{ role: "user", content: `call ${i}` }] }),
        });
      expect((await ask(0)).status).toBe(200); // the key is cached from here on
      await app.rt.calls.flush();

      await sql(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS false`);
      await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName}'`);
      const during = await Promise.all(Array.from({ length: 20 }, (_, i) => ask(i + 1)));
      expect(during.map((r) => r.status)).toEqual(Array(20).fill(200));
      await app.rt.calls.flush().catch(() => {});
      await waitUntil(() => app.logs.text().includes("call log: write failed"), 10_000);
      await sql(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS true`);

      // Nothing lost, nothing doubled: one row per call, ours as the key.
      await waitUntil(async () => {
        await app.rt.calls.flush().catch(() => {});
        return (await app.rt.db.prisma.call.count({ where: { endUser: { startsWith: "outage-" } } }).catch(() => -1)) >= 21;
      }, 30_000);
      const rows = await app.rt.db.prisma.call.findMany({ where: { endUser: { startsWith: "outage-" } }, select: { endUser: true, status: true } });
      expect(rows.map((r) => r.endUser).sort()).toEqual(Array.from({ length: 21 }, (_, i) => `outage-${i}`).sort());
      expect(rows.every((r) => r.status === 200)).toBe(true);
    } finally {
      await sql(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS true`);
      await app.dispose();
      await sim.close();
    }
  });
});
