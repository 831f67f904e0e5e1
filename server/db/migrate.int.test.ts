import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openPglite, openPostgres, type Database } from "./client";
import { MigrationStateError, applyMigrations, migrationStatus } from "./migrate";
import { readMigrations, type MigrationFile } from "./migrations-dir";
import { createTestDatabase, tempDir, type TestDatabase } from "../testing/harness";

const real = readMigrations(path.resolve("prisma/migrations"));

/** Runs each case on PGlite, and on Postgres too when DATABASE_URL is set. */
const backends: Array<[string, () => Promise<{ db: Database; pgdb?: TestDatabase }>]> = [
  ["pglite", async () => ({ db: await openPglite(null) })],
];
if (process.env.DATABASE_URL) {
  backends.push([
    "postgres",
    async () => {
      const pgdb = await createTestDatabase();
      return { db: await openPostgres(pgdb.url!), pgdb };
    },
  ]);
}

describe.each(backends)("migrations on %s", (_name, open) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  const setup = async () => {
    const { db, pgdb } = await open();
    cleanups.push(async () => {
      await db.close();
      await pgdb?.drop();
    });
    return db;
  };

  it("applies the real migrations once and records them like prisma migrate", async () => {
    const db = await setup();
    expect(await db.withSession((s) => applyMigrations(s, real))).toEqual(real.map((m) => m.name));
    expect(await db.withSession((s) => applyMigrations(s, real))).toEqual([]);
    const rows = await db.withSession((s) =>
      s.query<{ migration_name: string; checksum: string; applied_steps_count: number }>(
        `SELECT migration_name, checksum, applied_steps_count FROM "_prisma_migrations"`,
      ),
    );
    expect(rows).toEqual(real.map((m) => ({ migration_name: m.name, checksum: m.checksum, applied_steps_count: 1 })));
    expect(await db.withSession((s) => migrationStatus(s, real))).toEqual({ applied: real.map((m) => m.name), pending: [] });
    // The schema is usable through Prisma.
    const org = await db.prisma.organization.create({ data: { name: "Acme", slug: "acme" } });
    expect(org.createdAt).toBeInstanceOf(Date);
  });

  it("rolls back a failing migration completely and records nothing", async () => {
    const db = await setup();
    const bad: MigrationFile[] = [
      { name: "20990101000000_ok", sql: "CREATE TABLE t_ok (id int);", checksum: "c1" },
      { name: "20990102000000_bad", sql: "CREATE TABLE t_half (id int); SELECT * FROM no_such_table;", checksum: "c2" },
    ];
    await expect(db.withSession((s) => applyMigrations(s, bad))).rejects.toThrow(/20990102000000_bad failed and was rolled back/);
    const tables = await db.withSession((s) =>
      s.query<{ t: string | null }>(`SELECT to_regclass('t_half')::text AS t UNION ALL SELECT to_regclass('t_ok')::text`),
    );
    expect(tables.map((r) => r.t)).toEqual([null, "t_ok"]);
    const status = await db.withSession((s) => migrationStatus(s, bad));
    expect(status).toEqual({ applied: ["20990101000000_ok"], pending: ["20990102000000_bad"] });
  });

  it("refuses to start on a half-applied history and changes nothing", async () => {
    const db = await setup();
    await db.withSession((s) => applyMigrations(s, real));
    await db.withSession((s) =>
      s.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ('x', 'y', '20990101000000_next', now(), 0)`,
      ),
    );
    const next = [...real, { name: "20990101000000_next", sql: "DROP TABLE \"Call\";", checksum: "y" }];
    await expect(db.withSession((s) => applyMigrations(s, next))).rejects.toThrow(MigrationStateError);
    const still = await db.withSession((s) => s.query<{ t: string | null }>(`SELECT to_regclass('"Call"')::text AS t`));
    expect(still[0]!.t).toBe('"Call"');
  });
});

describe.skipIf(!process.env.DATABASE_URL)("concurrent starters on one Postgres", () => {
  it("apply each migration exactly once (advisory lock)", async () => {
    const pgdb = await createTestDatabase();
    const dbs = await Promise.all([openPostgres(pgdb.url!), openPostgres(pgdb.url!), openPostgres(pgdb.url!)]);
    try {
      const results = await Promise.all(dbs.map((db) => db.withSession((s) => applyMigrations(s, real))));
      expect(results.flat().sort()).toEqual(real.map((m) => m.name).sort());
      const rows = await dbs[0]!.withSession((s) => s.query(`SELECT 1 FROM "_prisma_migrations"`));
      expect(rows).toHaveLength(real.length);
    } finally {
      for (const db of dbs) await db.close();
      await pgdb.drop();
    }
  });
});

describe("embedded database directory", () => {
  it("persists across restarts and refuses a second opener in the same process", async () => {
    const dir = tempDir();
    try {
      const first = await openPglite(dir.path);
      await first.withSession((s) => applyMigrations(s, real));
      await first.prisma.organization.create({ data: { name: "Kept", slug: "kept" } });
      await expect(openPglite(dir.path)).rejects.toThrow(/already open/);
      await first.close();
      const second = await openPglite(dir.path);
      expect(await second.prisma.organization.findUnique({ where: { slug: "kept" } })).not.toBeNull();
      await second.close();
    } finally {
      dir.remove();
    }
  });

  it("refuses a directory locked by another live process", async () => {
    const dir = tempDir();
    try {
      mkdirSync(dir.path, { recursive: true });
      writeFileSync(path.join(dir.path, "pglite.lock"), String(process.ppid));
      await expect(openPglite(dir.path)).rejects.toThrow(/in use by process/);
    } finally {
      dir.remove();
    }
  });
});
