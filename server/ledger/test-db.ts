/** A migrated, empty database for ledger tests: a fresh Postgres database when DATABASE_URL is set, else PGlite. */
import path from "node:path";
import { openPglite, openPostgres, type Database } from "../db/client";
import { applyMigrations } from "../db/migrate";
import { readMigrations } from "../db/migrations-dir";
import { createTestDatabase } from "../testing/harness";

export interface LedgerTestDb extends Database {
  /** The fresh database's URL (Postgres only). */
  url?: string;
  dispose(): Promise<void>;
}

export async function openLedgerTestDb(options: { pgliteDir?: string } = {}): Promise<LedgerTestDb> {
  const fresh = await createTestDatabase();
  const db = fresh.url ? await openPostgres(fresh.url) : await openPglite(options.pgliteDir ?? null);
  const migrations = readMigrations(path.resolve(import.meta.dirname, "../../prisma/migrations"));
  await db.withSession((session) => applyMigrations(session, migrations));
  return Object.assign(db, {
    url: fresh.url,
    async dispose() {
      await db.close();
      await fresh.drop();
    },
  });
}
