/**
 * Test harness for integration tests: an isolated environment per test file (temporary data directory, and a
 * fresh Postgres database when DATABASE_URL is set), and a real Switchyard HTTP server on a random port.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import { loadEnv, type Env } from "../env";
import { createLogger, type Logger } from "../obs/log";
import { startSwitchyard, type Switchyard } from "../start";
import type { RuntimeOptions } from "../runtime";

/** Captures log lines in memory so tests can assert on them (and on what they must never contain). */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger: Logger;
  constructor(level = "debug") {
    const lines = this.lines;
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        callback();
      },
    });
    this.logger = createLogger({ level, destination: stream });
  }
  text(): string {
    return this.lines.join("\n");
  }
}

export interface TestDatabase {
  /** The URL of the fresh database, or undefined on the embedded default. */
  url?: string;
  drop(): Promise<void>;
}

/** A fresh Postgres database when DATABASE_URL is set (dropped afterwards); nothing on the embedded default. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base) return { drop: async () => {} };
  const name = `sy_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export function tempDir(prefix = "switchyard-test-"): { path: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { path: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An Env for tests: random port, loopback, a fixed secret, no UI, plus overrides. */
export function testEnv(overrides: Record<string, string | undefined> = {}): Env {
  return loadEnv({
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "debug",
    SWITCHYARD_SECRET: "0".repeat(63) + "1",
    SWITCHYARD_NO_UI: "1",
    SHUTDOWN_TIMEOUT_MS: "5000",
    REDIS_URL: process.env.REDIS_URL,
    ...overrides,
  });
}

export interface TestServer extends Switchyard {
  logs: LogCapture;
  /** Stops the server and removes everything the test created. */
  dispose(): Promise<void>;
}

/** Starts a real server on a random port with its own database. */
export async function startTestServer(overrides: Record<string, string | undefined> = {}, options: Pick<RuntimeOptions, "resolve"> = {}): Promise<TestServer> {
  const db = await createTestDatabase();
  const dir = tempDir();
  const logs = new LogCapture();
  const env = testEnv({ DATABASE_URL: db.url, SWITCHYARD_DATA_DIR: dir.path, ...overrides });
  const app = await startSwitchyard(env, { log: logs.logger, ui: false, seedDemo: false, ...options });
  let disposed = false;
  return Object.assign(app, {
    logs,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await app.stop().catch(() => {});
      await db.drop();
      dir.remove();
      assertNoSecretsLogged(logs, env.SWITCHYARD_SECRET);
    },
  });
}

/**
 * The provider key seedSimulatorProviders stores (encrypted) for every simulated provider. Shaped like an Azure
 * OpenAI key (32 hex digits), which the log scrubber cannot recognise: the secret scan after every integration suite
 * (assertNoSecretsLogged) then proves the key never reaches a log call, not merely that the backstop hid it.
 */
export const SEEDED_PROVIDER_KEY = "5e1f0c9a7d3b42e68c0a9f1d2b7e4c63";

/** A whole Switchyard API key (`sy-` and its random body); the 9-character display prefix alone is not a secret. */
const FULL_API_KEY = /\bsy-[A-Za-z0-9_-]{24,}/;

/**
 * Reliability case 25, for every integration suite: once a test server has stopped, nothing it logged at debug
 * level holds a secret — the master secret, the seeded provider key, or a whole API key (any test's, valid or not).
 */
export function assertNoSecretsLogged(logs: LogCapture, masterSecret: string | undefined): void {
  const secrets: Array<[string, (line: string) => boolean]> = [
    ["the master secret", (line) => !!masterSecret && line.includes(masterSecret)],
    ["the seeded provider key", (line) => line.includes(SEEDED_PROVIDER_KEY)],
    ["a whole API key", (line) => FULL_API_KEY.test(line)],
  ];
  for (const line of logs.lines) {
    for (const [what, found] of secrets) {
      if (found(line)) throw new Error(`The server logged ${what}: ${line.slice(0, 300).replaceAll(masterSecret || "\u0000", "<secret>")}`);
    }
  }
}

/** Registers simulator-backed providers (one per wire protocol) and returns an API key for the default team. */
export async function seedSimulatorProviders(app: Switchyard, simulatorUrl: string) {
  const { createApiKey } = await import("../keys/service");
  const { ensureDefaultTenant } = await import("../tenant");
  const { bumpConfigVersion } = await import("../gateway/snapshot");
  const db = app.rt.db.prisma;
  const tenant = await ensureDefaultTenant(db);
  const providers = [
    { name: "sim-openai", protocol: "openai", baseUrl: `${simulatorUrl}/openai/v1` },
    { name: "sim-anthropic", protocol: "anthropic", baseUrl: `${simulatorUrl}/anthropic/v1` },
    { name: "sim-gemini", protocol: "gemini", baseUrl: `${simulatorUrl}/gemini/v1beta` },
  ];
  for (const p of providers) {
    await db.provider.create({
      data: {
        orgId: tenant.orgId,
        name: p.name,
        kind: "simulator",
        baseUrl: p.baseUrl,
        allowPrivate: true, // the simulator listens on loopback
        config: { protocol: p.protocol },
        encryptedKey: app.rt.secrets.encrypt(SEEDED_PROVIDER_KEY),
        keyLast4: SEEDED_PROVIDER_KEY.slice(-4),
      },
    });
  }
  await bumpConfigVersion(db);
  await app.rt.snapshot.refresh();
  const { key } = await createApiKey(db, { ...tenant, name: "integration" });
  return { key, tenant };
}
