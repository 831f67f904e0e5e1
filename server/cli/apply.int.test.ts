import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyPassword } from "../auth/password";
import { StartupError, openPglite, type Database } from "../db/client";
import { applyMigrations } from "../db/migrate";
import { readMigrations } from "../db/migrations-dir";
import { readConfigVersion } from "../gateway/snapshot";
import { createApiKey } from "../keys/service";
import { LogCapture, tempDir } from "../testing/harness";
import type { Resolver } from "../providers/ssrf";
import { createSecretBox, type SecretBox } from "../secrets/secret-box";
import { ConfigFileError, applyConfig, applyConfigFile, readConfigFile, type ApplySummary } from "./apply";
import { ensureDefaultTenant } from "../tenant";

const migrations = readMigrations(path.resolve("prisma/migrations"));

/** Every public name resolves to a public address; "internal.example" to a private one (no DNS in tests). */
const resolve: Resolver = async (host) => [{ address: host === "internal.example" ? "10.1.2.3" : "93.184.216.34", family: 4 }];

const OPENAI_KEY = "sk-test-openai-0123456789abcdef";
const PASSWORD = "correct horse battery staple";
const env = { OPENAI_KEY, ADA_PASSWORD: PASSWORD };

const file = {
  teams: [{ slug: "research", name: "Research" }],
  providers: [
    { name: "openai-main", kind: "openai", apiKeyEnv: "OPENAI_KEY" },
    { name: "sim", kind: "simulator", baseUrl: "http://127.0.0.1:4010", allowPrivate: true, config: { protocol: "anthropic" } },
  ],
  models: [
    { provider: "openai-main", model: "gpt-4o-mini", inputPrice: 0.1, outputPrice: "0.4" },
    { provider: "sim", model: "house-model", inputPrice: 0, outputPrice: 0 },
  ],
  policies: [
    {
      name: "support-bot",
      team: "research",
      targets: [
        { provider: "sim", model: "house-model" },
        { provider: "openai-main", model: "gpt-4o-mini" },
      ],
    },
  ],
  cacheRules: [{ name: "support", policy: "support-bot", semantic: true, ttlSeconds: 600 }],
  budgets: [
    { scope: "organization", period: "monthly", limitUsd: 1000 },
    { scope: "team", team: "research", period: "daily", limitUsd: "12.5", hard: false },
  ],
  users: [{ email: "ada@example.com", role: "admin", team: "research", passwordEnv: "ADA_PASSWORD" }],
};

const counts = (summary: ApplySummary) =>
  Object.fromEntries(Object.entries(summary.sections).map(([name, s]) => [name, [s.created, s.updated, s.unchanged]]));

async function errorOf(promise: Promise<unknown>): Promise<ConfigFileError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigFileError);
  return error as ConfigFileError;
}

describe("applyConfig on a migrated embedded database", () => {
  let database: Database;
  let secrets: SecretBox;
  const apply = (input: unknown, vars: Record<string, string | undefined> = env, dryRun = false) =>
    applyConfig(database.prisma, secrets, input, vars, { resolve, dryRun });

  beforeEach(async () => {
    database = await openPglite(null);
    await database.withSession((session) => applyMigrations(session, migrations));
    secrets = createSecretBox(new Map([[1, randomBytes(32)]]), 1);
  });
  afterEach(async () => {
    await database.close();
  });

  it("creates every section, then reports everything unchanged on a second apply", async () => {
    const first = await apply(file);
    expect(counts(first)).toEqual({
      teams: [1, 0, 0],
      providers: [2, 0, 0],
      models: [2, 0, 0],
      policies: [1, 0, 0],
      cacheRules: [1, 0, 0],
      budgets: [2, 0, 0],
      users: [1, 0, 0],
    });
    expect(first.changes).toBe(10);
    const version = await readConfigVersion(database.prisma);
    const audits = await database.prisma.auditLog.count();

    const second = await apply(file);
    expect(second.changes).toBe(0);
    expect(counts(second)).toEqual({
      teams: [0, 0, 1],
      providers: [0, 0, 2],
      models: [0, 0, 2],
      policies: [0, 0, 1],
      cacheRules: [0, 0, 1],
      budgets: [0, 0, 2],
      users: [0, 0, 1],
    });
    // A no-op writes no audit rows and does not make every gateway reload.
    expect(await database.prisma.auditLog.count()).toBe(audits);
    expect(await readConfigVersion(database.prisma)).toBe(version);

    const prisma = database.prisma;
    const team = await prisma.team.findFirstOrThrow({ where: { slug: "research" } });
    const policy = await prisma.policy.findFirstOrThrow({ where: { name: "support-bot" } });
    expect(policy).toMatchObject({ teamId: team.id, version: 1 });
    expect(await prisma.policyVersion.findMany({ select: { version: true } })).toEqual([{ version: 1 }]);
    const rule = await prisma.cacheRule.findFirstOrThrow({ where: { name: "support" } });
    expect(rule).toMatchObject({ policyId: policy.id, semantic: true, exact: true, ttlSeconds: 600, threshold: 0.92 });
    const budget = await prisma.budget.findFirstOrThrow({ where: { scope: "team" } });
    expect(budget).toMatchObject({ teamId: team.id, period: "daily", hard: false, alertThresholds: [50, 80, 100] });
    expect(budget.limitUsd.toFixed()).toBe("12.5");
    const sim = await prisma.provider.findFirstOrThrow({ where: { name: "sim" } });
    expect(sim).toMatchObject({ encryptedKey: null, keyLast4: null, allowPrivate: true, config: { protocol: "anthropic" } });
    const custom = await prisma.modelOverride.findFirstOrThrow({ where: { modelId: "house-model" } });
    expect(custom).toMatchObject({ providerId: sim.id, custom: true });
    const known = await prisma.modelOverride.findFirstOrThrow({ where: { modelId: "gpt-4o-mini" } });
    expect(known.custom).toBe(false);
    expect(known.inputPrice!.toFixed()).toBe("0.1");
  });

  it("stores provider keys encrypted and rotates them when the variable changes", async () => {
    await apply(file);
    const row = await database.prisma.provider.findFirstOrThrow({ where: { name: "openai-main" } });
    expect(row.encryptedKey).not.toBeNull();
    expect(row.encryptedKey).not.toContain(OPENAI_KEY);
    expect(row.encryptedKey).not.toContain("0123456789abcdef");
    expect(secrets.decrypt(row.encryptedKey!)).toBe(OPENAI_KEY);
    expect(row.keyLast4).toBe("cdef");
    expect(row.baseUrl).toBe("https://api.openai.com/v1"); // the kind's default endpoint

    const rotated = "sk-test-openai-rotated-99998888";
    const summary = await apply(file, { ...env, OPENAI_KEY: rotated });
    expect(summary.sections.providers).toEqual({ created: 0, updated: 1, unchanged: 1 });
    const after = await database.prisma.provider.findFirstOrThrow({ where: { name: "openai-main" } });
    expect(secrets.decrypt(after.encryptedKey!)).toBe(rotated);
    const audits = await database.prisma.auditLog.findMany({ where: { entity: "provider", entityId: row.id } });
    const audit = audits.find((a) => a.before !== null)!;
    expect(audit.after).toMatchObject({ keyLast4: "8888", secretChanged: true });
  });

  it("keeps a stored key when the file names no variable", async () => {
    await apply(file);
    const withoutKey = { ...file, providers: [{ name: "openai-main", kind: "openai" }, file.providers[1]] };
    const summary = await apply(withoutKey, { ADA_PASSWORD: PASSWORD });
    expect(summary.sections.providers).toEqual({ created: 0, updated: 0, unchanged: 2 });
    const row = await database.prisma.provider.findFirstOrThrow({ where: { name: "openai-main" } });
    expect(secrets.decrypt(row.encryptedKey!)).toBe(OPENAI_KEY);
    expect(summary.warnings).toEqual([]);
  });

  it("warns about a provider that needs a key and has none", async () => {
    const summary = await apply({ providers: [{ name: "groq", kind: "groq" }] }, {});
    expect(summary.warnings).toEqual([{ path: "providers[0]", message: expect.stringMatching(/groq needs an API key/) }]);
  });

  it("writes one audit row per change, with actor null and no secret in it", async () => {
    const summary = await apply(file);
    const rows = await database.prisma.auditLog.findMany();
    expect(rows).toHaveLength(summary.changes);
    expect(new Set(rows.map((r) => r.action))).toEqual(new Set(["config.apply"]));
    expect(rows.every((r) => r.actorId === null && r.entityId !== null && r.before === null)).toBe(true);
    expect(rows.map((r) => r.entity).sort()).toEqual(
      ["budget", "budget", "cacheRule", "modelOverride", "modelOverride", "policy", "provider", "provider", "team", "user"].sort(),
    );
    const text = JSON.stringify(rows);
    expect(text).not.toContain(OPENAI_KEY);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain("scrypt$");

    await apply({ teams: [{ slug: "research", name: "Research & Development" }] });
    const update = (await database.prisma.auditLog.findMany({ where: { entity: "team" } })).find((a) => a.before !== null)!;
    expect(update.before).toEqual({ slug: "research", name: "Research" });
    expect(update.after).toEqual({ slug: "research", name: "Research & Development" });
  });

  it("changes nothing when a reference is wrong, and lists every bad reference", async () => {
    const before = await readConfigVersion(database.prisma);
    const bad = {
      ...file,
      policies: [{ ...file.policies[0], targets: [{ provider: "nowhere", model: "x" }] }],
      cacheRules: [{ name: "support", team: "ghost-team" }],
      users: [{ email: "bob@example.com", role: "finance", team: "no-such-team" }],
    };
    const error = await errorOf(apply(bad));
    expect(error.issues).toEqual([
      { path: "policies[0].targets[0].provider", message: 'unknown provider "nowhere"' },
      { path: "cacheRules[0].team", message: 'unknown team "ghost-team"' },
      { path: "users[0].team", message: 'unknown team "no-such-team"' },
    ]);
    const prisma = database.prisma;
    expect(await prisma.team.count({ where: { slug: "research" } })).toBe(0);
    expect(await prisma.provider.count()).toBe(0);
    expect(await prisma.user.count()).toBe(0);
    expect(await prisma.auditLog.count()).toBe(0);
    expect(await readConfigVersion(prisma)).toBe(before);
  });

  it("rolls back a dry run after doing the writes", async () => {
    const summary = await apply(file, env, true);
    expect(summary).toMatchObject({ dryRun: true, changes: 10 });
    expect(await database.prisma.team.count({ where: { slug: "research" } })).toBe(0);
    expect(await database.prisma.provider.count()).toBe(0);
    expect(await database.prisma.policyVersion.count()).toBe(0);
    expect(await database.prisma.auditLog.count()).toBe(0);
  });

  it("refuses base URLs the SSRF guard refuses, with a hint for private endpoints", async () => {
    const error = await errorOf(
      apply({
        providers: [
          { name: "lan", kind: "vllm", baseUrl: "http://10.0.0.5:8000/v1" },
          { name: "meta", kind: "openai-compatible", baseUrl: "http://169.254.169.254/latest", allowPrivate: true },
          { name: "rebound", kind: "openai-compatible", baseUrl: "https://internal.example/v1" },
          { name: "ollama", kind: "ollama" },
          { name: "azure", kind: "azure-openai" },
        ],
      }),
    );
    expect(error.issues.map((i) => i.path)).toEqual([
      "providers[0].baseUrl",
      "providers[1].baseUrl",
      "providers[2].baseUrl",
      "providers[3].baseUrl",
      "providers[4].baseUrl",
    ]);
    expect(error.issues[0]!.message).toMatch(/^refused: 10\.0\.0\.5 is a private address; set allowPrivate: true/);
    expect(error.issues[1]!.message).toMatch(/metadata/);
    expect(error.issues[2]!.message).toMatch(/internal\.example resolves to a refused address/);
    expect(error.issues[3]!.message).toMatch(/^refused \(the default http:\/\/localhost:11434\/v1\): .*allowPrivate/);
    expect(error.issues[4]!.message).toMatch(/required for kind azure-openai/);
    expect(await database.prisma.provider.count()).toBe(0);

    // The same private endpoint is accepted once the admin opts in.
    const ok = await apply({ providers: [{ name: "lan", kind: "vllm", baseUrl: "http://10.0.0.5:8000/v1", allowPrivate: true }] });
    expect(ok.sections.providers.created).toBe(1);
    // Dropping the opt-in from the file revokes it: the stored URL is checked again and refused.
    const revoked = await errorOf(apply({ providers: [{ name: "lan", kind: "vllm", baseUrl: "http://10.0.0.5:8000/v1" }] }));
    expect(revoked.issues[0]!.path).toBe("providers[0].baseUrl");
  });

  it("reports unset variables and invalid provider settings at their paths", async () => {
    const error = await errorOf(
      apply(
        {
          providers: [{ name: "o", kind: "openai", apiKeyEnv: "MISSING_KEY", config: { headers: { Authorization: "x" }, colour: "red" } }],
          users: [
            { email: "a@example.com", role: "admin", passwordEnv: "MISSING_PASSWORD" },
            { email: "b@example.com", role: "admin", passwordEnv: "SHORT" },
          ],
        },
        { SHORT: "short" },
      ),
    );
    expect(error.issues).toEqual([
      { path: "providers[0].config.headers", message: expect.stringMatching(/credential or framing headers/) },
      { path: "providers[0].config.colour", message: "unknown field" },
      { path: "providers[0].apiKeyEnv", message: "environment variable MISSING_KEY is not set" },
      { path: "users[0].passwordEnv", message: "environment variable MISSING_PASSWORD is not set" },
      { path: "users[1].passwordEnv", message: expect.stringMatching(/shorter than 12 characters/) },
    ]);
  });

  it("requires prices for a custom model and catalog ids for provider-less overrides", async () => {
    const error = await errorOf(
      apply({
        providers: [file.providers[1]],
        models: [
          { provider: "sim", model: "made-up", inputPrice: 1 },
          { model: "no-such-model-anywhere", inputPrice: 1 },
          { provider: "ghost", model: "x" },
        ],
      }),
    );
    expect(error.issues).toEqual([
      { path: "models[0].outputPrice", message: expect.stringMatching(/custom model/) },
      { path: "models[1].model", message: expect.stringMatching(/not in the catalog/) },
      { path: "models[2].provider", message: 'unknown provider "ghost"' },
    ]);
  });

  it("bumps the policy version only when the document changes", async () => {
    await apply(file);
    const described = { ...file, policies: [{ ...file.policies[0], description: "first sim, then OpenAI" }] };
    expect((await apply(described)).sections.policies).toEqual({ created: 0, updated: 1, unchanged: 0 });
    expect((await database.prisma.policy.findFirstOrThrow()).version).toBe(1);

    const reordered = { ...file, policies: [{ ...described.policies[0], targets: [...file.policies[0]!.targets].reverse() }] };
    const before = await readConfigVersion(database.prisma);
    expect((await apply(reordered)).sections.policies).toEqual({ created: 0, updated: 1, unchanged: 0 });
    const policy = await database.prisma.policy.findFirstOrThrow();
    expect(policy.version).toBe(2);
    expect((policy.document as { targets: Array<{ provider: string }> }).targets[0]!.provider).toBe("openai-main");
    const versions = await database.prisma.policyVersion.findMany({ orderBy: { version: "asc" } });
    expect(versions.map((v) => [v.version, v.createdBy])).toEqual([
      [1, null],
      [2, null],
    ]);
    expect(await readConfigVersion(database.prisma)).not.toBe(before);
    expect((await apply(reordered)).changes).toBe(0);
  });

  it("hashes user passwords and replaces them only when the variable changes", async () => {
    await apply(file);
    const user = await database.prisma.user.findUniqueOrThrow({ where: { email: "ada@example.com" } });
    expect(user.role).toBe("admin");
    expect(await verifyPassword(PASSWORD, user.passwordHash!)).toBe(true);
    expect((await apply(file)).sections.users.unchanged).toBe(1);
    const changed = await apply(file, { ...env, ADA_PASSWORD: "a different long password" });
    expect(changed.sections.users.updated).toBe(1);
    const after = await database.prisma.user.findUniqueOrThrow({ where: { email: "ada@example.com" } });
    expect(await verifyPassword("a different long password", after.passwordHash!)).toBe(true);
  });

  it("applies the documented example file", async () => {
    const example = readConfigFile(path.resolve("server/cli/switchyard.example.yaml"));
    const vars = { OPENAI_API_KEY: "sk-example-openai-1111", ANTHROPIC_API_KEY: "sk-ant-example-2222", SWITCHYARD_ADMIN_PASSWORD: PASSWORD };
    const summary = await apply(example, vars);
    expect(summary.warnings).toEqual([]);
    expect(counts(summary)).toEqual({
      teams: [1, 0, 0],
      providers: [3, 0, 0],
      models: [2, 0, 0],
      policies: [1, 0, 0],
      cacheRules: [1, 0, 0],
      budgets: [2, 0, 0],
      users: [2, 0, 0],
    });
    expect((await apply(example, vars)).changes).toBe(0);
  });

  it("resolves an api_key budget by the key's prefix", async () => {
    const { orgId, teamId } = await ensureDefaultTenant(database.prisma);
    const prefix = (await createApiKey(database.prisma, { orgId, teamId, name: "batch jobs" })).record.prefix;
    const summary = await apply({ budgets: [{ scope: "api_key", apiKey: prefix, period: "monthly", limitUsd: 5 }] });
    expect(summary.sections.budgets.created).toBe(1);
    const key = await database.prisma.apiKey.findFirstOrThrow({ where: { prefix } });
    expect(await database.prisma.budget.findFirstOrThrow()).toMatchObject({ scope: "api_key", apiKeyId: key.id });
    const error = await errorOf(apply({ budgets: [{ scope: "api_key", apiKey: "sy-nothere", period: "monthly", limitUsd: 5 }] }));
    expect(error.issues).toEqual([{ path: "budgets[0].apiKey", message: 'no API key has the prefix "sy-nothere"' }]);
  });
});

describe("applyConfigFile (SWITCHYARD_CONFIG at start)", () => {
  let database: Database;
  const dir = tempDir();
  beforeEach(async () => {
    database = await openPglite(null);
    await database.withSession((session) => applyMigrations(session, migrations));
  });
  afterEach(async () => {
    await database.close();
  });
  afterAll(() => dir.remove());

  const deps = (log = new LogCapture()) => ({
    db: database,
    secrets: createSecretBox(new Map([[1, randomBytes(32)]]), 1),
    log: log.logger,
    vars: {},
  });

  it("refuses start with each error's path and reason", async () => {
    const file = path.join(dir.path, "bad.yaml");
    writeFileSync(file, "teams:\n  - slug: Bad Slug\n    name: x\nproviders:\n  - name: p\n    kind: nope\n");
    const error = await applyConfigFile(deps(), file).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(StartupError);
    expect(error!.message).toContain(`config file ${file}`);
    expect(error!.message).toMatch(/\nteams\[0\]\.slug: must be lowercase/);
    expect(error!.message).toMatch(/\nproviders\[0\]\.kind: must be one of openai/);
    expect(await database.prisma.team.count()).toBe(0);
  });

  it("refuses start on a YAML syntax error with its line", async () => {
    const file = path.join(dir.path, "broken.yaml");
    writeFileSync(file, "teams:\n  - slug: a\n   name: b\n");
    await expect(applyConfigFile(deps(), file)).rejects.toThrow(/line 3, column \d+: /);
    await expect(applyConfigFile(deps(), path.join(dir.path, "missing.yaml"))).rejects.toThrow(/cannot read the config file .*ENOENT/);
  });

  it("applies a valid JSON file and logs the summary", async () => {
    const file = path.join(dir.path, "good.json");
    writeFileSync(file, JSON.stringify({ teams: [{ slug: "ops", name: "Ops" }] }));
    const log = new LogCapture();
    const summary = await applyConfigFile(deps(log), file);
    expect(summary.sections.teams.created).toBe(1);
    expect(log.text()).toMatch(/"msg":"config file applied"/);
  });
});
