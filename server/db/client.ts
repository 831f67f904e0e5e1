/**
 * Database factory: Postgres through @prisma/adapter-pg when DATABASE_URL is set, otherwise an embedded
 * PGlite persisted under the data directory. Both return the same Prisma client type plus a raw SQL session
 * for migrations and health checks.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "./generated/client";
import type { SqlSession } from "./migrate";

export type Db = PrismaClient;

export interface Database {
  kind: "postgres" | "pglite";
  prisma: PrismaClient;
  /** Runs `fn` on one dedicated session (for advisory locks and transactions), then releases it. */
  withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  /** Cheap liveness query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown when the process cannot start; main.ts prints the message as one line. */
export class StartupError extends Error {
  override name = "StartupError";
}

/** postgres://user:secret@host:5432/db → postgres://user@host:5432/db (never print a password). */
export function describeDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = "";
    return `${u.protocol}//${u.username ? `${u.username}@` : ""}${u.host}${u.pathname}`;
  } catch {
    return "(unparseable URL)";
  }
}

export async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 5_000, max: 10 });
  pool.on("error", () => {}); // idle-client errors surface on the next query instead of crashing
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    const reason = (error as { code?: string; message?: string }).code ?? (error as Error).message;
    throw new StartupError(`cannot connect to the database in DATABASE_URL (${describeDatabaseUrl(url)}): ${reason}`);
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    kind: "postgres",
    prisma,
    async withSession(fn) {
      const client = await pool.connect();
      try {
        return await fn({
          query: async (sql, params) => (await client.query(sql, params as unknown[])).rows,
          exec: async (sql) => void (await client.query(sql)),
        });
      } finally {
        client.release();
      }
    },
    async ping() {
      await pool.query("SELECT 1");
    },
    async close() {
      await prisma.$disconnect().catch(() => {});
      await pool.end().catch(() => {});
    },
  };
}

/**
 * PGlite is one process's database: a lock file in the data directory refuses a second process
 * (two writers would corrupt it) and is removed on close.
 */
export async function openPglite(dataDir: string | null): Promise<Database> {
  let lockFile: string | null = null;
  let client: PGlite;
  if (dataDir) {
    const open = openDirs();
    if (open.has(dataDir)) throw new StartupError(`the embedded database in ${dataDir} is already open in this process`);
    mkdirSync(dataDir, { recursive: true });
    lockFile = path.join(dataDir, "pglite.lock");
    if (existsSync(lockFile)) {
      const pid = Number(readFileSync(lockFile, "utf8").trim());
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new StartupError(
          `the embedded database in ${dataDir} is in use by process ${pid}; stop it, or set DATABASE_URL to share Postgres between instances`,
        );
      }
    }
    writeFileSync(lockFile, String(process.pid));
    client = new PGlite(path.join(dataDir, "pgdata"));
    open.add(dataDir);
  } else {
    client = new PGlite();
  }
  await client.waitReady;
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(client) });
  return {
    kind: "pglite",
    prisma,
    async withSession(fn) {
      return fn({
        query: async (sql, params) => (await client.query(sql, params as unknown[])).rows as never,
        exec: async (sql) => void (await client.exec(sql)),
      });
    },
    async ping() {
      await client.query("SELECT 1");
    },
    async close() {
      await prisma.$disconnect().catch(() => {});
      await client.close().catch(() => {});
      if (lockFile) rmSync(lockFile, { force: true });
      if (dataDir) openDirs().delete(dataDir);
    },
  };
}

const OPEN_DIRS = Symbol.for("switchyard.pglite.openDirs");

/** Data directories open in this process, on globalThis so a second copy of this module sees them too. */
function openDirs(): Set<string> {
  const g = globalThis as typeof globalThis & { [OPEN_DIRS]?: Set<string> };
  return (g[OPEN_DIRS] ??= new Set());
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
