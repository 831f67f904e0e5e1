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
  /**
   * When the counter store behind budgets and rate limits (Redis) cannot be reached: refuse calls with 503
   * (default, fail closed) or, when set, admit them without budget and rate-limit checks (fail open).
   */
  SWITCHYARD_LIMITS_FAIL_OPEN: bool.default(false),
  /**
   * Upstream timeouts (ms), for every provider call: connect (DNS+TCP+TLS), first byte (request sent until response
   * headers; a non-streamed completion sends its headers only when done, so keep it generous), idle (longest
   * silence between two stream chunks) and total (the whole exchange). A policy's latency budget is tighter where set.
   */
  SWITCHYARD_UPSTREAM_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  SWITCHYARD_UPSTREAM_FIRST_BYTE_TIMEOUT_MS: z.coerce.number().int().min(100).default(300_000),
  SWITCHYARD_UPSTREAM_IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).default(120_000),
  SWITCHYARD_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).default(600_000),
  /** Skip Next.js (API only): useful for tests and headless gateway deployments. */
  SWITCHYARD_NO_UI: bool.default(false),
  /** First admin created at start when no user exists (instead of the /setup page); both or neither. */
  SWITCHYARD_ADMIN_EMAIL: z.email().max(320).optional().or(z.literal("").transform(() => undefined)),
  SWITCHYARD_ADMIN_PASSWORD: z.string().min(12, "must have at least 12 characters").max(1024).optional().or(z.literal("").transform(() => undefined)),
  /** How long a dashboard session lasts after signing in (hours). */
  SWITCHYARD_SESSION_HOURS: z.coerce.number().min(0.05).max(24 * 30).default(12),
  /** GitHub sign-in (OAuth app): shown on the sign-in page when both are set. Existing users only, by email. */
  SWITCHYARD_GITHUB_CLIENT_ID: z.string().min(1).optional(),
  SWITCHYARD_GITHUB_CLIENT_SECRET: z.string().min(1).optional(),
  /** OpenID Connect sign-in (Okta, Entra ID, Keycloak, Google…): issuer URL, client id and secret enable it. */
  SWITCHYARD_OIDC_ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  SWITCHYARD_OIDC_CLIENT_ID: z.string().min(1).optional(),
  SWITCHYARD_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** Label of the OIDC button ("Sign in with <name>"). */
  SWITCHYARD_OIDC_NAME: z.string().min(1).max(64).default("SSO"),
  /** Accept OIDC emails without `email_verified: true` (for identity providers that never send the claim). */
  SWITCHYARD_OIDC_TRUST_EMAIL: bool.default(false),
}).superRefine((env, ctx) => {
  // Half a pair is a typo, not a choice: refuse it rather than silently leave a sign-in method off.
  const pairs = [
    ["SWITCHYARD_ADMIN_EMAIL", "SWITCHYARD_ADMIN_PASSWORD"],
    ["SWITCHYARD_GITHUB_CLIENT_ID", "SWITCHYARD_GITHUB_CLIENT_SECRET"],
    ["SWITCHYARD_OIDC_ISSUER", "SWITCHYARD_OIDC_CLIENT_ID"],
    ["SWITCHYARD_OIDC_ISSUER", "SWITCHYARD_OIDC_CLIENT_SECRET"],
  ] as const;
  for (const [a, b] of pairs) {
    if ((env[a] === undefined) !== (env[b] === undefined)) {
      const missing = env[a] === undefined ? a : b;
      ctx.addIssue({ code: "custom", path: [missing], message: `must be set together with ${missing === a ? b : a}` });
    }
  }
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

/**
 * next-auth 4 takes its own URL from process.env only (NEXTAUTH_URL, else AUTH_TRUST_HOST + the request's
 * forwarded host). Switchyard computes that origin itself for each request (server/auth/origin.ts) and hands it
 * to next-auth as the forwarded host, so next-auth must be told to use it. An explicit NEXTAUTH_URL still wins.
 */
export function enableNextAuthHostDetection(): void {
  if (!process.env.NEXTAUTH_URL) process.env.AUTH_TRUST_HOST = "1";
}
