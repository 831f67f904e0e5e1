/**
 * The process's long-lived services, created once at start: configuration, logger, database (migrated),
 * shared state, metrics, secret box and the config snapshot. Stored on globalThis so Next's bundled route
 * handlers and the custom server share one instance (two PGlite instances on one directory would corrupt it).
 */
import { createDatabase } from "./db/open";
import type { Database } from "./db/client";
import { applyMigrations, migrationStatus } from "./db/migrate";
import { readMigrations, type MigrationFile } from "./db/migrations-dir";
import { loadEnv, type Env } from "./env";
import { createSnapshotHolder, readConfigVersion, type SnapshotHolder } from "./gateway/snapshot";
import { loadGatewayConfig, type GatewayConfig } from "./gateway/config";
import { createLogger, type Logger } from "./obs/log";
import type { Resolver } from "./providers/ssrf";
import { createMetrics, type Metrics } from "./obs/metrics";
import { resolveMasterKey } from "./secrets/master-key";
import { createSecretBox, type SecretBox } from "./secrets/secret-box";
import { createMemoryStore } from "./state/memory";
import { createRedisStore } from "./state/redis";
import type { StateStore } from "./state/store";
import { StartupError } from "./db/client";
import { seedDemo, startBuiltinSimulator } from "./demo";
import { ensureDefaultTenant } from "./tenant";
import { applyConfigFile } from "./cli/apply";
import { createCallLogWriter, type CallLogWriter } from "./ledger/call-log";
import { createBatchWorker, type BatchWorker } from "./batch/worker";
import path from "node:path";

export interface Runtime {
  env: Env;
  log: Logger;
  db: Database;
  state: StateStore;
  metrics: Metrics;
  secrets: SecretBox;
  /** The data plane's configuration (providers, catalog, policies), refreshed on change. */
  snapshot: SnapshotHolder<GatewayConfig>;
  /** Batched, durable writer of the call log. */
  calls: CallLogWriter;
  /** The batch tier's worker (server/batch): runs once the gateway handler attaches, stops at shutdown. */
  batch: BatchWorker;
  migrations: MigrationFile[];
  /** DNS resolver for provider hosts, checked by the SSRF guard at connect (tests inject one; the system's otherwise). */
  resolve?: Resolver;
  /** True once shutdown began: readiness fails and new work is refused. */
  draining: boolean;
  /** Registers work to run on shutdown before connections close (buffer flushes). */
  onShutdown(fn: () => Promise<void>): void;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  log?: Logger;
  /** Use an in-memory PGlite instead of the data directory (tests). */
  ephemeralDatabase?: boolean;
  /** Variables a config file may name for provider keys (the process environment in production). */
  vars?: Record<string, string | undefined>;
  /** Register the demo provider on a fresh install (default true; tests that set up their own providers turn it off). */
  seedDemo?: boolean;
  /** DNS resolver for provider hosts (tests: a name that re-resolves to a private address). */
  resolve?: Resolver;
}

export async function createRuntime(env: Env, options: RuntimeOptions = {}): Promise<Runtime> {
  const log = options.log ?? createLogger({ level: env.LOG_LEVEL });
  const db = await createDatabase(env, { ephemeral: options.ephemeralDatabase ?? false });
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const migrations = readMigrations(env.migrationsDir);
    if (migrations.length === 0) throw new StartupError(`no migrations found in ${env.migrationsDir}`);
    const applied = await db.withSession((session) => applyMigrations(session, migrations));
    if (applied.length > 0) log.info({ applied }, "database migrations applied");
    await ensureDefaultTenant(db.prisma);

    let state: StateStore;
    if (env.REDIS_URL) {
      try {
        state = await createRedisStore(env.REDIS_URL);
      } catch (error) {
        throw new StartupError(`cannot connect to Redis in REDIS_URL: ${(error as Error).message}`);
      }
    } else {
      state = createMemoryStore();
    }
    cleanups.push(() => state.close());

    const key = resolveMasterKey({
      secret: env.SWITCHYARD_SECRET,
      dataDir: env.dataDir,
      log,
      shared: db.kind === "postgres",
    });
    const secrets = createSecretBox(new Map([[env.SWITCHYARD_SECRET_VERSION, key]]), env.SWITCHYARD_SECRET_VERSION);
    if (env.SWITCHYARD_CONFIG) {
      await applyConfigFile({ db, secrets, log, vars: options.vars ?? {} }, env.SWITCHYARD_CONFIG);
    }
    if (options.seedDemo ?? true) await seedDemo(db, log);
    const simulator = await startBuiltinSimulator(db);
    if (simulator) cleanups.push(() => simulator.close());
    const snapshot = await createSnapshotHolder({
      load: (version) => loadGatewayConfig(db.prisma, secrets, log, version, simulator?.url ?? null),
      readVersion: () => readConfigVersion(db.prisma),
      log,
    });
    const calls = createCallLogWriter({ db: db.prisma, log, spillDir: path.join(env.dataDir, "spill") });
    const batch = createBatchWorker({ log });
    const shutdownHooks: Array<() => Promise<void>> = [];
    let closed: Promise<void> | null = null;

    const runtime: Runtime = {
      env,
      log,
      db,
      state,
      metrics: createMetrics(),
      secrets,
      snapshot,
      calls,
      batch,
      migrations,
      ...(options.resolve ? { resolve: options.resolve } : {}),
      draining: false,
      onShutdown: (fn) => void shutdownHooks.push(fn),
      close() {
        closed ??= (async () => {
          runtime.draining = true;
          snapshot.stop();
          for (const hook of shutdownHooks) {
            await hook().catch((error) => log.error({ err: error }, "shutdown hook failed"));
          }
          await calls.close();
          await simulator?.close();
          await state.close().catch(() => {});
          await db.close();
        })();
        return closed;
      },
    };
    // Registered first, so the worker stops (and hands its lease over) before the transport and call log close.
    runtime.onShutdown(() => batch.stop());
    return runtime;
  } catch (error) {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
    await db.close();
    throw error;
  }
}

/** Readiness: database reachable, migrations applied, shared state reachable. */
export async function readiness(rt: Runtime): Promise<{ ok: boolean; checks: Record<string, string> }> {
  const checks: Record<string, string> = {};
  try {
    await rt.db.ping();
    checks.database = "ok";
    const status = await rt.db.withSession((s) => migrationStatus(s, rt.migrations));
    checks.migrations = status.pending.length === 0 ? "ok" : `pending: ${status.pending.join(", ")}`;
  } catch (error) {
    checks.database ??= "unreachable";
    checks.migrations ??= error instanceof Error && error.name === "MigrationStateError" ? "inconsistent" : "unknown";
  }
  try {
    await rt.state.ping();
    checks.state = "ok";
  } catch {
    checks.state = "unreachable";
  }
  if (rt.draining) checks.process = "draining";
  const ok = Object.values(checks).every((v) => v === "ok");
  return { ok, checks };
}

const GLOBAL_KEY = Symbol.for("switchyard.runtime");
type GlobalWithRuntime = typeof globalThis & { [GLOBAL_KEY]?: Promise<Runtime> };

/** Installs the process runtime (called by server/main.ts). */
export function setRuntime(runtime: Runtime): void {
  (globalThis as GlobalWithRuntime)[GLOBAL_KEY] = Promise.resolve(runtime);
}

/** The process runtime; created on first use when the app runs under plain `next dev`/`next start`. */
export function getRuntime(): Promise<Runtime> {
  const g = globalThis as GlobalWithRuntime;
  g[GLOBAL_KEY] ??= createRuntime(loadEnv());
  return g[GLOBAL_KEY];
}
