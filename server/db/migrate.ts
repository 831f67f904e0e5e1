/**
 * Applies prisma/migrations at start and before tests, on Postgres and PGlite, without the schema-engine
 * binary. Records each migration in `_prisma_migrations` exactly as `prisma migrate deploy` does (same table,
 * same SHA-256 checksum), so a machine with the Prisma CLI sees the same history.
 *
 * Safety: a session advisory lock serializes concurrent starters; each migration runs in one transaction
 * together with its history row, so a failure changes nothing; a history this code did not write cleanly
 * (unfinished or failed rows, edited files, migrations unknown to this version) refuses to start.
 */
import type { MigrationFile } from "./migrations-dir";

/** The minimum a migration needs from a connection: one session, plain SQL. */
export interface SqlSession {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements (no parameters). */
  exec(sql: string): Promise<void>;
}

/** Thrown when the recorded migration history cannot be trusted; the process must not start. */
export class MigrationStateError extends Error {
  override name = "MigrationStateError";
}

/** Arbitrary constant shared by every Switchyard process (the same value `prisma migrate` uses). */
const ADVISORY_LOCK_ID = 72707369;

const HISTORY_DDL = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | string | null;
  rolled_back_at: Date | string | null;
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

async function readHistory(db: SqlSession): Promise<HistoryRow[]> {
  const exists = await db.query<{ present: boolean }>(
    `SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS present`,
  );
  if (!exists[0]?.present) return [];
  return db.query<HistoryRow>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
  );
}

/** Compares the recorded history with the files; throws MigrationStateError when they cannot be reconciled. */
export function checkHistory(history: HistoryRow[], files: MigrationFile[]): MigrationStatus {
  const byName = new Map(files.map((f) => [f.name, f]));
  const applied: string[] = [];
  for (const row of history) {
    if (row.rolled_back_at) continue; // rolled back by an operator: Prisma ignores these rows too
    if (!row.finished_at) {
      throw new MigrationStateError(
        `migration ${row.migration_name} was started but never finished (a failed or interrupted migrate). ` +
          `The database was left as it is; inspect it, then mark the row rolled back or finished before starting again.`,
      );
    }
    const file = byName.get(row.migration_name);
    if (!file) {
      throw new MigrationStateError(
        `the database has migration ${row.migration_name}, which this version of Switchyard does not know (is it older than the database?)`,
      );
    }
    if (file.checksum !== row.checksum) {
      throw new MigrationStateError(
        `migration ${row.migration_name} was edited after it was applied (checksum differs); restore the file or add a new migration`,
      );
    }
    applied.push(row.migration_name);
  }
  const done = new Set(applied);
  return { applied, pending: files.filter((f) => !done.has(f.name)).map((f) => f.name) };
}

/** Reads the status without changing anything (used by the readiness check). */
export async function migrationStatus(db: SqlSession, files: MigrationFile[]): Promise<MigrationStatus> {
  return checkHistory(await readHistory(db), files);
}

/** Applies pending migrations; returns the names applied. Safe to call from several processes at once. */
export async function applyMigrations(
  db: SqlSession,
  files: MigrationFile[],
  onApplied: (name: string) => void = () => {},
): Promise<string[]> {
  await db.query(`SELECT pg_advisory_lock(${ADVISORY_LOCK_ID})`);
  try {
    await db.exec(HISTORY_DDL);
    const { pending } = checkHistory(await readHistory(db), files);
    const byName = new Map(files.map((f) => [f.name, f]));
    for (const name of pending) {
      const file = byName.get(name)!;
      await db.exec("BEGIN");
      try {
        await db.exec(file.sql);
        await db.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, now(), $3, now(), 1)`,
          [crypto.randomUUID(), file.checksum, name],
        );
        await db.exec("COMMIT");
      } catch (error) {
        await db.exec("ROLLBACK");
        const reason = error instanceof Error ? error.message : String(error);
        throw new MigrationStateError(`migration ${name} failed and was rolled back: ${reason}`);
      }
      onApplied(name);
    }
    return pending;
  } finally {
    await db.query(`SELECT pg_advisory_unlock(${ADVISORY_LOCK_ID})`);
  }
}
