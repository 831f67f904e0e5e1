/**
 * The only module that reads process.env. Every variable is validated with zod and documented in the README.
 */
import path from "node:path";
import { z } from "zod";

const bool = z
  .enum(["1", "0", "true", "false", "yes", "no", ""])
  .transform((v) => v === "1" || v === "true" || v === "yes");

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  /** Public URL printed at start and used for absolute links; defaults to http://localhost:PORT. */
  SWITCHYARD_PUBLIC_URL: z.url().optional(),
  SWITCHYARD_DATA_DIR: z.string().min(1).default(".switchyard"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  /** 32 bytes as 64 hex chars or base64; encrypts provider keys (AES-256-GCM). */
  SWITCHYARD_SECRET: z.string().min(1).optional(),
  /** Version tag of SWITCHYARD_SECRET, stored with each ciphertext so keys can be rotated. */
  SWITCHYARD_SECRET_VERSION: z.coerce.number().int().min(1).default(1),
  /** Bearer token for GET /api/metrics; unset = open (bind HOST to a private interface). */
  SWITCHYARD_METRICS_TOKEN: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** How long SIGTERM waits for in-flight requests before closing connections. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  SWITCHYARD_MIGRATIONS_DIR: z.string().min(1).optional(),
  /** Largest request body the gateway reads (bytes); larger bodies get a 413 before being buffered. */
  SWITCHYARD_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(32 * 1024 * 1024),
  /** A declarative config file (YAML or JSON) applied at every start; a bad file refuses start. */
  SWITCHYARD_CONFIG: z.string().min(1).optional(),
  /** Skip Next.js (API only): useful for tests and headless gateway deployments. */
  SWITCHYARD_NO_UI: bool.default(false),
});

export type Env = z.infer<typeof schema> & { dataDir: string; migrationsDir: string };

/** Thrown for an invalid environment; main.ts prints `message` as one line and exits. */
export class EnvError extends Error {
  override name = "EnvError";
}

/** Parses an environment (process.env by default). Pure apart from the default argument. */
export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new EnvError(`invalid environment: ${issues}`);
  }
  const cwd = process.cwd();
  return {
    ...parsed.data,
    dataDir: path.resolve(/*turbopackIgnore: true*/ cwd, parsed.data.SWITCHYARD_DATA_DIR),
    migrationsDir: path.resolve(/*turbopackIgnore: true*/ cwd, parsed.data.SWITCHYARD_MIGRATIONS_DIR ?? "prisma/migrations"),
  };
}

/**
 * The raw environment, for a config file that names the variables holding provider keys (`apiKeyEnv`). Kept here
 * so this stays the only module that touches process.env.
 */
export function rawEnv(): Record<string, string | undefined> {
  return { ...process.env };
}
