import path from "node:path";
import type { Env } from "../env";
import { openPglite, openPostgres, type Database } from "./client";

/** DATABASE_URL set → Postgres; unset → PGlite under `<data dir>/pgdata` (or in memory when ephemeral). */
export function createDatabase(env: Env, options: { ephemeral?: boolean } = {}): Promise<Database> {
  if (env.DATABASE_URL) return openPostgres(env.DATABASE_URL);
  return openPglite(options.ephemeral ? null : path.resolve(env.dataDir));
}
