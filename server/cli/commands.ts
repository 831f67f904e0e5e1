/**
 * The `switchyard` admin CLI: argument parsing and commands. I/O is injected (main.ts passes the process's), so
 * usage errors are testable without a database. Output contract: results on stdout (for `keys create`, exactly
 * the key), everything for humans on stderr; exit 0 ok, 1 runtime error, 2 usage error.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { PROVIDER_KINDS, ROLES, formatIssues, parseConfigFile, providerName, teamSlug, userSpec } from "@/lib/config-file";
import { hashPassword, MIN_PASSWORD_LENGTH } from "../auth/password";
import { StartupError, type Database } from "../db/client";
import { applyMigrations } from "../db/migrate";
import { readMigrations } from "../db/migrations-dir";
import { createDatabase } from "../db/open";
import { loadEnv, type Env } from "../env";
import { bumpConfigVersion } from "../gateway/snapshot";
import { hashApiKey } from "../keys/api-keys";
import { createApiKey, revokeApiKey } from "../keys/service";
import { createLogger, scrubSecrets } from "../obs/log";
import { resolveMasterKey } from "../secrets/master-key";
import { createSecretBox, type SecretBox } from "../secrets/secret-box";
import { ConfigFileError, SECTIONS, applyConfig, readConfigFile, type ApplySummary } from "./apply";
import { ensureDefaultTenant } from "../tenant";

export interface CliIo {
  /** The process environment: database settings, and the variables --key-env / --password-env / the file name. */
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stdin is a terminal (then the password is prompted for, without echo). */
  stdinIsTTY: boolean;
  /** Everything piped on stdin. */
  readStdin(): Promise<string>;
  /** Reads one line from the terminal without echoing it. */
  promptHidden(prompt: string): Promise<string>;
}

/** Wrong command, option or value: exit 2 with a pointer to `switchyard help`. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A runtime failure with a message fit for one line on stderr: exit 1. */
export class CliError extends Error {
  override name = "CliError";
}

export const HELP = `Usage: switchyard <command> [options]

Commands:
  apply -f FILE [--dry-run]
      Apply a YAML or JSON config file (teams, providers, models, policies, cache rules, budgets, users)
      in one transaction; nothing changes if any entry is invalid. --dry-run reports without changing.
  keys create --name NAME [--team SLUG] [--models a,b] [--expires ISO-8601] [--allow-store] [--deferrable]
      Create an API key. The key is printed once on stdout; details go to stderr. --deferrable sends every
      non-streaming chat request of the key to the batch tier (202 with a batch id, batch prices).
  keys list
      List API keys: id, prefix, name, team, created, expires, disabled, revoked.
  keys disable ID_OR_PREFIX | keys enable ID_OR_PREFIX
      Pause an API key (its requests get 401) or resume it.
  keys revoke ID_OR_PREFIX
      Revoke an API key by id, prefix (sy-XXXXXX) or the full key; final.
  users create --email EMAIL --role admin|developer|finance [--team SLUG] [--name NAME] [--password-env VAR]
      Create a user. The password is read from stdin (prompted on a terminal) unless --password-env
      names an environment variable holding it.
  providers list
      List providers: name, kind, base URL, last 4 characters of the key.
  providers add --name NAME --kind KIND [--base-url URL] [--key-env VAR] [--allow-private]
      Add a provider; its key is read from the environment variable VAR and stored encrypted.
  migrate
      Apply pending database migrations (every command does this first).
  help
      Show this help.

Environment: DATABASE_URL (Postgres) or SWITCHYARD_DATA_DIR (embedded database, default .switchyard);
SWITCHYARD_SECRET (the master secret that encrypts provider keys; must match the server's).
Exit codes: 0 ok, 1 error, 2 usage error.
`;

/** Runs one CLI invocation; returns the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await dispatch([...argv], io);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`switchyard: ${error.message}\nRun "switchyard help" for usage.\n`);
      return 2;
    }
    if (error instanceof ConfigFileError) {
      const [title, ...lines] = error.message.split("\n");
      io.stderr(`switchyard: ${title}\n${lines.map((line) => `  ${line}\n`).join("")}`);
      return 1;
    }
    const message = error instanceof Error ? error.message : String(error);
    // Prisma and driver messages span lines; the contract is one line, and never a secret.
    io.stderr(`switchyard: ${scrubSecrets(message).replace(/\s*\n\s*/g, " ").trim()}\n`);
    return 1;
  }
}

async function dispatch(argv: string[], io: CliIo): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError("missing command");
  if (command === "help" || command === "--help" || command === "-h" || rest.includes("--help")) {
    io.stdout(HELP);
    return;
  }
  switch (command) {
    case "apply":
      return applyCommand(rest, io);
    case "migrate":
      parse(rest, {});
      return withDatabase(io, async ({ applied, migrations }) => {
        io.stderr(
          applied.length > 0
            ? `switchyard: applied ${applied.length} migration(s): ${applied.join(", ")}\n`
            : `switchyard: database is up to date (${migrations} migration(s) applied)\n`,
        );
      });
    case "keys":
    case "users":
    case "providers": {
      const [sub, ...args] = rest;
      const handler = SUBCOMMANDS[command][sub ?? ""];
      if (!handler) {
        const known = Object.keys(SUBCOMMANDS[command]).join(", ");
        throw new UsageError(sub ? `unknown command "${command} ${sub}" (expected ${known})` : `"${command}" needs a subcommand: ${known}`);
      }
      return handler(args, io);
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

type Handler = (args: string[], io: CliIo) => Promise<void>;

const SUBCOMMANDS: Record<"keys" | "users" | "providers", Record<string, Handler>> = {
  keys: { create: keysCreate, list: keysList, revoke: keysRevoke, disable: keysSetDisabled(true), enable: keysSetDisabled(false) },
  users: { create: usersCreate },
  providers: { list: providersList, add: providersAdd },
};

type Options = NonNullable<ParseArgsConfig["options"]>;

/** parseArgs in strict mode, with its errors turned into usage errors. */
function parse<O extends Options>(args: string[], options: O, positionals = 0) {
  let result;
  try {
    result = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split("\n")[0]!);
  }
  if (result.positionals.length > positionals) throw new UsageError(`unexpected argument "${result.positionals[positionals]}"`);
  return result;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new UsageError(`${flag} is required`);
  return value;
}

interface Session {
  db: Database;
  env: Env;
  orgId: string;
  applied: string[];
  migrations: number;
}

/** Opens the database as the server does, applies migrations, ensures the default tenant, runs `fn`, closes. */
async function withDatabase(io: CliIo, fn: (session: Session) => Promise<void>): Promise<void> {
  // An EnvError, like any other failure here, is printed by runCli as one line.
  const env = loadEnv(io.env);
  const files = readMigrations(env.migrationsDir);
  if (files.length === 0) throw new CliError(`no migrations found in ${env.migrationsDir} (set SWITCHYARD_MIGRATIONS_DIR)`);
  let db: Database;
  try {
    db = await createDatabase(env);
  } catch (error) {
    if (error instanceof StartupError && /in use by process/.test(error.message)) {
      const held = error.message.replace(/; stop it.*$/, "");
      throw new CliError(`${held}: is a Switchyard server running? Stop it to use the CLI, or run both on Postgres (DATABASE_URL)`);
    }
    throw error;
  }
  try {
    const applied = await db.withSession((session) => applyMigrations(session, files));
    const { orgId } = await ensureDefaultTenant(db.prisma);
    await fn({ db, env, orgId, applied, migrations: files.length });
  } finally {
    await db.close();
  }
}

/** The secret box the server would use. Never generates a secret that would differ from the servers' one. */
function openSecrets(session: Session, io: CliIo): SecretBox {
  const { env, db } = session;
  // resolveMasterKey would generate a fresh secret here; on a shared Postgres that would not be the servers'.
  if (!env.SWITCHYARD_SECRET && db.kind === "postgres" && !existsSync(path.join(env.dataDir, "secret.key"))) {
    throw new CliError("SWITCHYARD_SECRET is not set: set it to the master secret your servers use");
  }
  const log = createLogger({
    level: "warn",
    destination: { write: (line: string) => io.stderr(`switchyard: ${(JSON.parse(line) as { msg: string }).msg}\n`) },
  });
  const key = resolveMasterKey({ secret: env.SWITCHYARD_SECRET, dataDir: env.dataDir, log, shared: db.kind === "postgres" });
  return createSecretBox(new Map([[env.SWITCHYARD_SECRET_VERSION, key]]), env.SWITCHYARD_SECRET_VERSION);
}

async function teamBySlug(session: Session, slug: string): Promise<{ id: string; slug: string }> {
  const team = await session.db.prisma.team.findUnique({
    where: { orgId_slug: { orgId: session.orgId, slug } },
    select: { id: true, slug: true },
  });
  if (!team) throw new CliError(`no team "${slug}"`);
  return team;
}

/** Records a CLI change (actor unknown: whoever has shell access) and makes running gateways reload. */
async function recordChange(session: Session, action: string, entity: string, entityId: string, after: Record<string, unknown>) {
  await session.db.prisma.auditLog.create({
    data: { orgId: session.orgId, actorId: null, action, entity, entityId, after: after as never },
  });
  await bumpConfigVersion(session.db.prisma);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}

function when(date: Date | null): string {
  return date ? date.toISOString().replace(/\.\d{3}Z$/, "Z") : "-";
}

// ---------------------------------------------------------------------------------------------------------------
// apply

async function applyCommand(args: string[], io: CliIo): Promise<void> {
  const { values } = parse(args, { file: { type: "string", short: "f" }, "dry-run": { type: "boolean" } });
  const file = required(values.file, "-f FILE");
  let document: unknown;
  try {
    document = readConfigFile(path.resolve(file));
  } catch (error) {
    if (error instanceof ConfigFileError) throw new ConfigFileError(error.issues, file);
    const code = (error as NodeJS.ErrnoException).code;
    if (code) throw new CliError(`cannot read ${file}: ${code}`);
    throw error;
  }
  // Report a malformed file before touching the database (which a running server may hold).
  const checked = parseConfigFile(document);
  if (!checked.ok) throw new ConfigFileError(checked.issues, file);
  await withDatabase(io, async (session) => {
    let summary: ApplySummary;
    try {
      summary = await applyConfig(session.db.prisma, openSecrets(session, io), document, io.env, { dryRun: values["dry-run"] ?? false });
    } catch (error) {
      if (error instanceof ConfigFileError) throw new ConfigFileError(error.issues, file);
      throw error;
    }
    for (const warning of summary.warnings) io.stderr(`switchyard: warning: ${warning.path}: ${warning.message}\n`);
    const rows = [["SECTION", "CREATED", "UPDATED", "UNCHANGED"]];
    for (const section of SECTIONS) {
      const s = summary.sections[section];
      rows.push([section, String(s.created), String(s.updated), String(s.unchanged)]);
    }
    io.stdout(table(rows));
    io.stderr(
      summary.dryRun
        ? `switchyard: dry run: ${summary.changes} change(s) would be made; nothing was changed\n`
        : `switchyard: applied ${file}: ${summary.changes} change(s)\n`,
    );
  });
}

// ---------------------------------------------------------------------------------------------------------------
// keys

async function keysCreate(args: string[], io: CliIo): Promise<void> {
  const { values } = parse(args, {
    name: { type: "string" },
    team: { type: "string" },
    models: { type: "string" },
    expires: { type: "string" },
    "allow-store": { type: "boolean" },
    deferrable: { type: "boolean" },
  });
  const name = required(values.name, "--name").trim();
  if (name.length === 0 || name.length > 128) throw new UsageError("--name must be 1 to 128 characters");
  const slug = values.team ?? "default";
  if (!teamSlug.safeParse(slug).success) throw new UsageError(`--team must be a team slug`);
  const models = (values.models ?? "").split(",").map((m) => m.trim()).filter(Boolean);
  let expiresAt: Date | null = null;
  if (values.expires !== undefined) {
    expiresAt = new Date(values.expires);
    if (!/^\d{4}-\d{2}-\d{2}/.test(values.expires) || Number.isNaN(expiresAt.getTime())) {
      throw new UsageError("--expires must be an ISO-8601 date or time, e.g. 2026-12-31 or 2026-12-31T23:59:00Z");
    }
    if (expiresAt.getTime() <= Date.now()) throw new UsageError("--expires must be in the future");
  }
  await withDatabase(io, async (session) => {
    const team = await teamBySlug(session, slug);
    const { key, record } = await createApiKey(session.db.prisma, {
      orgId: session.orgId,
      teamId: team.id,
      name,
      allowedModels: models,
      allowStore: values["allow-store"] ?? false,
      deferrable: values.deferrable ?? false,
      expiresAt,
    });
    await recordChange(session, "cli.keys.create", "apiKey", record.id, {
      name,
      prefix: record.prefix,
      teamId: team.id,
      allowedModels: models,
      deferrable: values.deferrable ?? false,
      expiresAt: expiresAt?.toISOString() ?? null,
    });
    io.stdout(`${key}\n`);
    io.stderr(
      `switchyard: created API key "${name}" (id ${record.id}, prefix ${record.prefix}, team ${team.slug}` +
        `${models.length ? `, models ${models.join(",")}` : ""}${expiresAt ? `, expires ${when(expiresAt)}` : ""}` +
        `${values.deferrable ? ", deferrable: its non-streaming chat requests go to the batch tier" : ""}).\n` +
        `switchyard: store the key now: it is not shown again.\n`,
    );
  });
}

async function keysList(args: string[], io: CliIo): Promise<void> {
  parse(args, {});
  await withDatabase(io, async (session) => {
    const keys = await session.db.prisma.apiKey.findMany({
      where: { orgId: session.orgId },
      orderBy: { createdAt: "asc" },
      select: { id: true, prefix: true, name: true, createdAt: true, expiresAt: true, revokedAt: true, disabledAt: true, team: { select: { slug: true } } },
    });
    const rows = [["ID", "PREFIX", "NAME", "TEAM", "CREATED", "EXPIRES", "DISABLED", "REVOKED"]];
    for (const k of keys) rows.push([k.id, k.prefix, k.name, k.team.slug, when(k.createdAt), when(k.expiresAt), when(k.disabledAt), when(k.revokedAt)]);
    io.stdout(table(rows));
  });
}

/** The one key `ref` names (id, prefix or the key itself) in the CLI's organization. */
async function keyByRef(session: Session, ref: string, verb: string) {
  const matches = await session.db.prisma.apiKey.findMany({
    where: { orgId: session.orgId, OR: [{ id: ref }, { prefix: ref }, { hash: hashApiKey(ref) }] },
    select: { id: true, prefix: true, name: true, revokedAt: true, disabledAt: true },
  });
  if (matches.length === 0) throw new CliError(`no API key has the id or prefix "${ref}"`);
  if (matches.length > 1) throw new CliError(`"${ref}" matches ${matches.length} keys (${matches.map((k) => k.id).join(", ")}); ${verb} by id`);
  return matches[0]!;
}

async function keysRevoke(args: string[], io: CliIo): Promise<void> {
  const { positionals } = parse(args, {}, 1);
  const ref = required(positionals[0], "ID_OR_PREFIX");
  await withDatabase(io, async (session) => {
    const key = await keyByRef(session, ref, "revoke");
    if (key.revokedAt) {
      io.stderr(`switchyard: API key ${key.prefix} ("${key.name}") was already revoked at ${when(key.revokedAt)}\n`);
      return;
    }
    await revokeApiKey(session.db.prisma, key.id);
    await recordChange(session, "cli.keys.revoke", "apiKey", key.id, { prefix: key.prefix, revoked: true });
    io.stderr(`switchyard: revoked API key ${key.prefix} ("${key.name}", id ${key.id})\n`);
  });
}

/** `keys disable` / `keys enable`: pause a key (401 until enabled) or resume it; a revoked key stays revoked. */
function keysSetDisabled(disabled: boolean) {
  const verb = disabled ? "disable" : "enable";
  return async (args: string[], io: CliIo): Promise<void> => {
    const { positionals } = parse(args, {}, 1);
    const ref = required(positionals[0], "ID_OR_PREFIX");
    await withDatabase(io, async (session) => {
      const key = await keyByRef(session, ref, verb);
      if (key.revokedAt) throw new CliError(`API key ${key.prefix} ("${key.name}") was revoked at ${when(key.revokedAt)}; create a new one`);
      if ((key.disabledAt !== null) === disabled) {
        io.stderr(`switchyard: API key ${key.prefix} ("${key.name}") is already ${disabled ? "disabled" : "enabled"}\n`);
        return;
      }
      await session.db.prisma.apiKey.update({ where: { id: key.id }, data: { disabledAt: disabled ? new Date() : null } });
      await recordChange(session, `cli.keys.${verb}`, "apiKey", key.id, { prefix: key.prefix, disabled });
      io.stderr(`switchyard: ${verb}d API key ${key.prefix} ("${key.name}", id ${key.id})\n`);
    });
  };
}

// ---------------------------------------------------------------------------------------------------------------
// users

async function usersCreate(args: string[], io: CliIo): Promise<void> {
  const { values } = parse(args, {
    email: { type: "string" },
    role: { type: "string" },
    team: { type: "string" },
    name: { type: "string" },
    "password-env": { type: "string" },
  });
  const email = required(values.email, "--email").trim();
  if (!userSpec.shape.email.safeParse(email).success) throw new UsageError("--email must be an email address");
  const role = required(values.role, "--role");
  if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(", ")}`);
  if (values.team !== undefined && !teamSlug.safeParse(values.team).success) throw new UsageError("--team must be a team slug");
  const name = values.name?.trim() || null;

  let password: string;
  const passwordEnv = values["password-env"];
  if (passwordEnv !== undefined) {
    const value = io.env[passwordEnv];
    if (!value) throw new CliError(`environment variable ${passwordEnv} is not set`);
    password = value;
  } else if (io.stdinIsTTY) {
    password = await io.promptHidden("Password: ");
    if ((await io.promptHidden("Repeat password: ")) !== password) throw new CliError("the passwords do not match");
  } else {
    password = (await io.readStdin()).replace(/\r?\n$/, "");
  }
  if (password.length < MIN_PASSWORD_LENGTH) throw new CliError(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);

  await withDatabase(io, async (session) => {
    const team = values.team ? await teamBySlug(session, values.team) : null;
    if (await session.db.prisma.user.findUnique({ where: { email }, select: { id: true } })) {
      throw new CliError(`a user with the email ${email} already exists`);
    }
    const user = await session.db.prisma.user.create({
      data: { orgId: session.orgId, email, name, role: role as (typeof ROLES)[number], teamId: team?.id ?? null, passwordHash: await hashPassword(password) },
      select: { id: true },
    });
    await recordChange(session, "cli.users.create", "user", user.id, { email, name, role, teamId: team?.id ?? null });
    io.stderr(`switchyard: created ${role} ${email} (id ${user.id}${team ? `, team ${team.slug}` : ""})\n`);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// providers

async function providersList(args: string[], io: CliIo): Promise<void> {
  parse(args, {});
  await withDatabase(io, async (session) => {
    const providers = await session.db.prisma.provider.findMany({
      where: { orgId: session.orgId },
      orderBy: { name: "asc" },
      select: { name: true, kind: true, baseUrl: true, keyLast4: true, enabled: true },
    });
    const rows = [["NAME", "KIND", "BASE URL", "KEY", "ENABLED"]];
    for (const p of providers) rows.push([p.name, p.kind, p.baseUrl, p.keyLast4 ? `…${p.keyLast4}` : "-", p.enabled ? "yes" : "no"]);
    io.stdout(table(rows));
  });
}

/** The flags of `providers add`, by the config-file field they fill. */
const PROVIDER_FLAGS: Record<string, string> = {
  name: "--name",
  kind: "--kind",
  baseUrl: "--base-url",
  apiKeyEnv: "--key-env",
  allowPrivate: "--allow-private",
};

async function providersAdd(args: string[], io: CliIo): Promise<void> {
  const { values } = parse(args, {
    name: { type: "string" },
    kind: { type: "string" },
    "base-url": { type: "string" },
    "key-env": { type: "string" },
    "allow-private": { type: "boolean" },
  });
  const name = required(values.name, "--name");
  if (!providerName.safeParse(name).success) throw new UsageError("--name must be letters, digits, '.', '_' or '-'");
  const kind = required(values.kind, "--kind");
  if (!(PROVIDER_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--kind must be one of ${PROVIDER_KINDS.join(", ")}`);
  const spec = {
    name,
    kind,
    ...(values["base-url"] !== undefined ? { baseUrl: values["base-url"] } : {}),
    ...(values["key-env"] !== undefined ? { apiKeyEnv: values["key-env"] } : {}),
    allowPrivate: values["allow-private"] ?? false,
  };
  await withDatabase(io, async (session) => {
    const existing = await session.db.prisma.provider.findUnique({ where: { orgId_name: { orgId: session.orgId, name } }, select: { id: true } });
    if (existing) throw new CliError(`a provider named "${name}" already exists; change it with "switchyard apply" or in the dashboard`);
    // The same path as a config file: settings, SSRF check, key encryption, audit row and config-version bump.
    let summary: ApplySummary;
    try {
      summary = await applyConfig(session.db.prisma, openSecrets(session, io), { providers: [spec] }, io.env, { action: "cli.providers.add" });
    } catch (error) {
      if (!(error instanceof ConfigFileError)) throw error;
      const lines = error.issues.map((issue) => {
        const field = issue.path.replace(/^providers\[0\]\.?/, "");
        return { path: PROVIDER_FLAGS[field] ?? field, message: issue.message };
      });
      throw new CliError(`provider not added: ${formatIssues(lines).replace(/\n/g, "; ")}`);
    }
    for (const warning of summary.warnings) io.stderr(`switchyard: warning: ${warning.message}\n`);
    const stored = await session.db.prisma.provider.findUniqueOrThrow({
      where: { orgId_name: { orgId: session.orgId, name } },
      select: { baseUrl: true, keyLast4: true },
    });
    io.stderr(`switchyard: added provider ${name} (${kind}, ${stored.baseUrl}${stored.keyLast4 ? `, key …${stored.keyLast4}` : ""})\n`);
  });
}
