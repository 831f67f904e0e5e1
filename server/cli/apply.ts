/**
 * Config as code: applies a declarative config file (lib/config-file.ts) to the default organization.
 *
 * Order of work: validate the file; read secrets from the environment and check provider settings and base URLs
 * (SSRF guard) outside any transaction, since DNS can be slow; then, in ONE transaction, resolve references
 * (team slugs, provider and policy names, key prefixes) and upsert every entry by its natural key. Any problem
 * throws a ConfigFileError listing every "path: reason" and changes nothing.
 *
 * Semantics: the file is the truth for the fields it manages. An absent optional field means the schema's default
 * (or null), so deleting `allowPrivate: true` from the file revokes it. Two exceptions keep secrets manageable
 * elsewhere: without `apiKeyEnv` a provider keeps its stored key, without `passwordEnv` a user keeps their
 * password. Entries missing from the file are left alone (nothing is deleted).
 *
 * Every created or updated entry writes an AuditLog row (actor null), a changed policy document writes a new
 * PolicyVersion, and any change bumps the config version so running gateways reload. Re-applying the same file
 * changes nothing and reports every entry unchanged.
 */
import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import {
  formatIssues,
  parseConfigFile,
  type ConfigFile,
  type ConfigIssue,
  type ProviderSpec,
} from "@/lib/config-file";
import { sameJson } from "@/lib/json";
import { policyDocument } from "@/lib/policy";
import { hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from "../auth/password";
import { loadCatalog } from "../catalog";
import { normalizeDecimal, type DecimalLike } from "../catalog/money";
import { StartupError, type Database, type Db } from "../db/client";
import type { Prisma } from "../db/generated/client";
import { bumpConfigVersion } from "../gateway/snapshot";
import type { Logger } from "../obs/log";
import { PROVIDERS, providerConfigSchema } from "../providers/registry";
import { checkBaseUrl, type Resolver } from "../providers/ssrf";
import type { SecretBox } from "../secrets/secret-box";
import { ensureDefaultTenant } from "../tenant";

export const SECTIONS = ["teams", "providers", "models", "policies", "cacheRules", "budgets", "users"] as const;
export type SectionName = (typeof SECTIONS)[number];

export interface SectionSummary {
  created: number;
  updated: number;
  unchanged: number;
}

export interface ApplySummary {
  dryRun: boolean;
  sections: Record<SectionName, SectionSummary>;
  /** Entries created or updated, over all sections. */
  changes: number;
  /** Not errors, but probably mistakes (a provider that needs a key has none). */
  warnings: ConfigIssue[];
}

/** The file is invalid or refers to something that does not exist; nothing was changed. */
export class ConfigFileError extends Error {
  override name = "ConfigFileError";
  constructor(
    readonly issues: ConfigIssue[],
    source = "the config file",
  ) {
    super(`${source} is invalid:\n${formatIssues(issues)}`);
  }
}

export interface ApplyOptions {
  /** Do everything, report what would change, then roll back. */
  dryRun?: boolean;
  /** DNS resolver for the SSRF check (tests inject one). */
  resolve?: Resolver;
  /** AuditLog.action of the rows written; "config.apply" by default. */
  action?: string;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Snapshot = { [key: string]: Json };

/** Thrown inside the transaction to roll a dry run back. */
class DryRunRollback extends Error {}

/**
 * Applies a parsed YAML/JSON document. `env` holds the variables that `apiKeyEnv` / `passwordEnv` name.
 * @throws ConfigFileError when the file is invalid; nothing is changed then.
 */
export async function applyConfig(
  db: Db,
  secrets: SecretBox,
  file: unknown,
  env: Record<string, string | undefined>,
  options: ApplyOptions = {},
): Promise<ApplySummary> {
  const parsed = parseConfigFile(file);
  if (!parsed.ok) throw new ConfigFileError(parsed.issues);
  const config = parsed.config;

  const providers = await prepareProviders(db, config.providers, env, options.resolve);
  const passwords = readPasswords(config, env);
  const early = [...providers.flatMap((p) => p.issues), ...passwords.issues];
  if (early.length > 0) throw new ConfigFileError(early);

  const summary: ApplySummary = {
    dryRun: options.dryRun ?? false,
    sections: Object.fromEntries(SECTIONS.map((s) => [s, { created: 0, updated: 0, unchanged: 0 }])) as ApplySummary["sections"],
    changes: 0,
    warnings: [],
  };
  try {
    await db.$transaction(
      async (tx) => {
        await writeConfig(tx, secrets, config, providers, passwords.values, summary, options.action ?? "config.apply");
        if (options.dryRun) throw new DryRunRollback();
      },
      // A large file hashes passwords and writes hundreds of rows: allow more than Prisma's 5 s default.
      { maxWait: 10_000, timeout: 120_000 },
    );
  } catch (error) {
    if (!(error instanceof DryRunRollback)) throw error;
  }
  if (!summary.dryRun && summary.changes > 0) await bumpConfigVersion(db);
  return summary;
}

interface PreparedProvider {
  spec: ProviderSpec;
  baseUrl: string;
  config: Record<string, unknown>;
  /** The key from `apiKeyEnv`; undefined = keep the stored key. */
  key: string | undefined;
  issues: ConfigIssue[];
}

/** Secrets, provider settings and base URLs, checked before the transaction (DNS must not hold it open). */
async function prepareProviders(
  db: Db,
  specs: readonly ProviderSpec[],
  env: Record<string, string | undefined>,
  resolve: Resolver | undefined,
): Promise<PreparedProvider[]> {
  const stored = new Map(
    (
      await db.provider.findMany({
        where: { org: { slug: "default" } },
        select: { name: true, baseUrl: true, allowPrivate: true },
      })
    ).map((p) => [p.name, p]),
  );
  return Promise.all(
    specs.map(async (spec, index): Promise<PreparedProvider> => {
      const at = (field: string) => `providers[${index}].${field}`;
      const issues: ConfigIssue[] = [];
      const settings = providerConfigSchema.strict().safeParse(spec.config);
      if (!settings.success) {
        for (const issue of settings.error.issues) {
          const where = (path: PropertyKey[]) => at(["config", ...path.map(String)].join("."));
          if (issue.code === "unrecognized_keys") issues.push(...issue.keys.map((key) => ({ path: where([...issue.path, key]), message: "unknown field" })));
          else issues.push({ path: where(issue.path), message: issue.message });
        }
      }
      let key: string | undefined;
      if (spec.apiKeyEnv) {
        key = env[spec.apiKeyEnv]?.trim() || undefined;
        if (!key) issues.push({ path: at("apiKeyEnv"), message: `environment variable ${spec.apiKeyEnv} is not set` });
      }
      const baseUrl = spec.baseUrl ?? PROVIDERS[spec.kind].defaultBaseUrl;
      if (!baseUrl) {
        issues.push({ path: at("baseUrl"), message: `required for kind ${spec.kind} (it has no default endpoint)` });
      } else {
        // A URL that is stored unchanged passed this check when it was saved.
        const before = stored.get(spec.name);
        if (!before || before.baseUrl !== baseUrl || before.allowPrivate !== spec.allowPrivate) {
          const check = await checkBaseUrl(baseUrl, { allowPrivate: spec.allowPrivate, resolve });
          if (!check.ok) {
            const hint = ["loopback", "private", "unique_local"].includes(check.reason)
              ? "; set allowPrivate: true for a self-hosted endpoint"
              : "";
            const which = spec.baseUrl ? "" : ` (the default ${baseUrl})`;
            issues.push({ path: at("baseUrl"), message: `refused${which}: ${check.message}${hint}` });
          }
        }
      }
      return { spec, baseUrl: baseUrl ?? "", config: settings.success ? settings.data : {}, key, issues };
    }),
  );
}

function readPasswords(config: ConfigFile, env: Record<string, string | undefined>) {
  const values = new Map<number, string>();
  const issues: ConfigIssue[] = [];
  config.users.forEach((user, index) => {
    if (!user.passwordEnv) return;
    const password = env[user.passwordEnv];
    const path = `users[${index}].passwordEnv`;
    if (!password) issues.push({ path, message: `environment variable ${user.passwordEnv} is not set` });
    else if (password.length < MIN_PASSWORD_LENGTH) {
      issues.push({ path, message: `the password in ${user.passwordEnv} is shorter than ${MIN_PASSWORD_LENGTH} characters` });
    } else values.set(index, password);
  });
  return { values, issues };
}

/** What the database holds that the file may refer to or update (one organization). */
interface Existing {
  orgId: string;
  teams: Array<{ id: string; slug: string; name: string }>;
  providers: Prisma.ProviderGetPayload<object>[];
  policies: Prisma.PolicyGetPayload<object>[];
  rulesByName: Map<string, Array<{ id: string; name: string }>>;
  budgetsByKey: Map<string, Prisma.BudgetGetPayload<object>[]>;
  keysByPrefix: Map<string, Array<{ id: string; prefix: string }>>;
  usersByEmail: Map<string, Prisma.UserGetPayload<object>>;
}

/** The state one apply threads through its sections. */
interface Run {
  tx: Prisma.TransactionClient;
  secrets: SecretBox;
  config: ConfigFile;
  existing: Existing;
  summary: ApplySummary;
  /** Ids by natural key, filled as sections are written (later sections refer to earlier ones). */
  teamIds: Map<string, string>;
  providerIds: Map<string, string>;
  policyIds: Map<string, string>;
  /** Writes one entry when it is new or differs, tallies it and audits it; returns its id. */
  reconcile(
    section: SectionName,
    entity: string,
    existing: { id: string; snapshot: Snapshot } | null,
    after: Snapshot,
    write: (id: string | null) => Promise<string>,
    secretChanged?: boolean,
  ): Promise<string>;
}

const budgetRowKey = (b: { scope: string; teamId: string | null; apiKeyId: string | null; endUser: string | null; period: string }) =>
  [b.scope, b.teamId ?? "", b.apiKeyId ?? "", b.endUser ?? "", b.period].join("\u0000");

/** Resolves references, then upserts every section in dependency order; runs inside the transaction. */
async function writeConfig(
  tx: Prisma.TransactionClient,
  secrets: SecretBox,
  config: ConfigFile,
  prepared: readonly PreparedProvider[],
  passwords: ReadonlyMap<number, string>,
  summary: ApplySummary,
  action: string,
): Promise<void> {
  const existing = await loadExisting(tx, config);
  const { orgId } = existing;
  const custom = checkReferences(config, existing);

  const run: Run = {
    tx,
    secrets,
    config,
    existing,
    summary,
    teamIds: new Map(existing.teams.map((t) => [t.slug, t.id])),
    providerIds: new Map(existing.providers.map((p) => [p.name, p.id])),
    policyIds: new Map(existing.policies.map((p) => [p.name, p.id])),
    async reconcile(section, entity, before, after, write, secretChanged = false) {
      const tally = summary.sections[section];
      if (before && !secretChanged && sameJson(before.snapshot, after)) {
        tally.unchanged += 1;
        return before.id;
      }
      const id = await write(before?.id ?? null);
      if (before) tally.updated += 1;
      else tally.created += 1;
      summary.changes += 1;
      await tx.auditLog.create({
        data: {
          orgId,
          actorId: null,
          action,
          entity,
          entityId: id,
          ...(before ? { before: before.snapshot as Prisma.InputJsonObject } : {}),
          after: (secretChanged ? { ...after, secretChanged: true } : after) as Prisma.InputJsonObject,
        },
      });
      return id;
    },
  };
  await writeTeams(run);
  await writeProviders(run, prepared);
  await writeModels(run, custom);
  await writePolicies(run);
  await writeCacheRules(run);
  await writeBudgets(run);
  await writeUsers(run, passwords);
}

async function loadExisting(tx: Prisma.TransactionClient, config: ConfigFile): Promise<Existing> {
  const { orgId } = await ensureDefaultTenant(tx);
  const keyPrefixes = config.budgets.flatMap((b) => (b.apiKey ? [b.apiKey] : []));
  return {
    orgId,
    teams: await tx.team.findMany({ where: { orgId }, select: { id: true, slug: true, name: true } }),
    providers: await tx.provider.findMany({ where: { orgId } }),
    policies: await tx.policy.findMany({ where: { orgId } }),
    rulesByName: groupBy(await tx.cacheRule.findMany({ where: { orgId }, select: { id: true, name: true } }), (r) => r.name),
    budgetsByKey: groupBy(await tx.budget.findMany({ where: { orgId } }), budgetRowKey),
    keysByPrefix: groupBy(
      keyPrefixes.length > 0
        ? await tx.apiKey.findMany({ where: { orgId, prefix: { in: keyPrefixes } }, select: { id: true, prefix: true } })
        : [],
      (k) => k.prefix,
    ),
    usersByEmail: new Map(
      (await tx.user.findMany({ where: { email: { in: config.users.map((u) => u.email) } } })).map((u) => [u.email, u]),
    ),
  };
}

/**
 * Checks every reference against the database plus the file, and throws one ConfigFileError listing them all.
 * Returns, per model entry, whether it is a custom model (unknown to the catalog).
 */
function checkReferences(config: ConfigFile, existing: Existing): boolean[] {
  const teamSlugs = new Set([...existing.teams.map((t) => t.slug), ...config.teams.map((t) => t.slug)]);
  const providerKinds = new Map<string, string>([
    ...existing.providers.map((p): [string, string] => [p.name, p.kind]),
    ...config.providers.map((p): [string, string] => [p.name, p.kind]),
  ]);
  const policyNames = new Set([...existing.policies.map((p) => p.name), ...config.policies.map((p) => p.name)]);

  const issues: ConfigIssue[] = [];
  const refer = (path: string, exists: boolean, what: string) => {
    if (!exists) issues.push({ path, message: `unknown ${what}` });
  };
  const catalog = loadCatalog();
  const catalogIds = new Set(catalog.list({ includeDisabled: true, providerId: null }).map((entry) => entry.id));
  const custom = config.models.map((m, i) => {
    if (!m.provider) {
      if (!catalogIds.has(m.model)) {
        issues.push({ path: `models[${i}].model`, message: "not in the catalog; name its provider to add a custom model" });
      }
      return false;
    }
    const kind = providerKinds.get(m.provider);
    refer(`models[${i}].provider`, kind !== undefined, `provider "${m.provider}"`);
    if (kind === undefined) return false;
    const known = catalog.get(kind, m.model) !== undefined;
    // applyOverrides skips a custom model without both prices: say so now rather than at every reload.
    for (const field of known ? [] : (["inputPrice", "outputPrice"] as const)) {
      if (m[field] === undefined) {
        issues.push({ path: `models[${i}].${field}`, message: "required for a model the catalog does not know (custom model)" });
      }
    }
    return !known;
  });
  config.policies.forEach((p, i) => {
    if (p.team) refer(`policies[${i}].team`, teamSlugs.has(p.team), `team "${p.team}"`);
    p.targets.forEach((t, j) => refer(`policies[${i}].targets[${j}].provider`, providerKinds.has(t.provider), `provider "${t.provider}"`));
    if (p.reference) refer(`policies[${i}].reference.provider`, providerKinds.has(p.reference.provider), `provider "${p.reference.provider}"`);
  });
  config.cacheRules.forEach((r, i) => {
    if (r.team) refer(`cacheRules[${i}].team`, teamSlugs.has(r.team), `team "${r.team}"`);
    if (r.policy) refer(`cacheRules[${i}].policy`, policyNames.has(r.policy), `policy "${r.policy}"`);
    const named = existing.rulesByName.get(r.name)?.length ?? 0;
    if (named > 1) {
      issues.push({ path: `cacheRules[${i}].name`, message: `${named} cache rules are named "${r.name}"; rename them in the dashboard first` });
    }
  });
  config.budgets.forEach((b, i) => {
    if (b.team) refer(`budgets[${i}].team`, teamSlugs.has(b.team), `team "${b.team}"`);
    if (b.apiKey) {
      const matches = existing.keysByPrefix.get(b.apiKey)?.length ?? 0;
      if (matches === 0) issues.push({ path: `budgets[${i}].apiKey`, message: `no API key has the prefix "${b.apiKey}"` });
      if (matches > 1) issues.push({ path: `budgets[${i}].apiKey`, message: `several API keys have the prefix "${b.apiKey}"` });
    }
  });
  config.users.forEach((u, i) => {
    if (u.team) refer(`users[${i}].team`, teamSlugs.has(u.team), `team "${u.team}"`);
    const user = existing.usersByEmail.get(u.email);
    if (user && user.orgId !== existing.orgId) issues.push({ path: `users[${i}].email`, message: "belongs to another organization" });
  });
  if (issues.length > 0) throw new ConfigFileError(issues);
  return custom;
}

const teamIdOf = (run: Run, slug: string | undefined) => (slug ? run.teamIds.get(slug)! : null);

async function writeTeams(run: Run): Promise<void> {
  const { tx, existing } = run;
  for (const team of run.config.teams) {
    const row = existing.teams.find((t) => t.slug === team.slug);
    const id = await run.reconcile(
      "teams",
      "team",
      row ? { id: row.id, snapshot: { slug: row.slug, name: row.name } } : null,
      { slug: team.slug, name: team.name },
      async (id) =>
        id
          ? (await tx.team.update({ where: { id }, data: { name: team.name } })).id
          : (await tx.team.create({ data: { orgId: existing.orgId, slug: team.slug, name: team.name } })).id,
    );
    run.teamIds.set(team.slug, id);
  }
}

async function writeProviders(run: Run, prepared: readonly PreparedProvider[]): Promise<void> {
  const { tx, existing, secrets } = run;
  for (const [index, p] of prepared.entries()) {
    const row = existing.providers.find((r) => r.name === p.spec.name);
    let encryptedKey = row?.encryptedKey ?? null;
    let keyLast4 = row?.keyLast4 ?? null;
    let secretChanged = false;
    if (p.key !== undefined && decryptOrNull(secrets, encryptedKey) !== p.key) {
      encryptedKey = secrets.encrypt(p.key);
      keyLast4 = p.key.slice(-4);
      secretChanged = row !== undefined;
    }
    if (!encryptedKey && PROVIDERS[p.spec.kind].requiresKey) {
      run.summary.warnings.push({
        path: `providers[${index}]`,
        message: `${p.spec.kind} needs an API key and none is stored; set apiKeyEnv or add the key in the dashboard`,
      });
    }
    const data = {
      kind: p.spec.kind,
      baseUrl: p.baseUrl,
      allowPrivate: p.spec.allowPrivate,
      enabled: p.spec.enabled,
      region: p.spec.region ?? null,
      config: p.config as Prisma.InputJsonObject,
      encryptedKey,
      keyLast4,
    };
    // Audit snapshots carry the key's last 4 characters, never the key or its ciphertext.
    const snapshot = (r: {
      kind: string;
      baseUrl: string;
      allowPrivate: boolean;
      enabled: boolean;
      region: string | null;
      config: unknown;
      keyLast4: string | null;
    }): Snapshot => ({
      name: p.spec.name,
      kind: r.kind,
      baseUrl: r.baseUrl,
      allowPrivate: r.allowPrivate,
      enabled: r.enabled,
      region: r.region,
      config: (r.config ?? {}) as Json,
      keyLast4: r.keyLast4,
    });
    const id = await run.reconcile(
      "providers",
      "provider",
      row ? { id: row.id, snapshot: snapshot(row) } : null,
      snapshot(data),
      async (id) =>
        id
          ? (await tx.provider.update({ where: { id }, data })).id
          : (await tx.provider.create({ data: { ...data, orgId: existing.orgId, name: p.spec.name } })).id,
      secretChanged,
    );
    run.providerIds.set(p.spec.name, id);
  }
}

async function writeModels(run: Run, custom: readonly boolean[]): Promise<void> {
  const { tx, existing } = run;
  for (const [index, m] of run.config.models.entries()) {
    const providerId = m.provider ? run.providerIds.get(m.provider)! : null;
    const row = await tx.modelOverride.findFirst({ where: { orgId: existing.orgId, providerId, modelId: m.model } });
    const data = {
      displayName: m.displayName ?? null,
      inputPrice: m.inputPrice ?? null,
      outputPrice: m.outputPrice ?? null,
      cacheReadPrice: m.cacheReadPrice ?? null,
      cacheWritePrice: m.cacheWritePrice ?? null,
      batchInputPrice: m.batchInputPrice ?? null,
      batchOutputPrice: m.batchOutputPrice ?? null,
      contextWindow: m.contextWindow ?? null,
      maxOutput: m.maxOutput ?? null,
      capabilities: m.capabilities as Prisma.InputJsonObject,
      enabled: m.enabled,
      custom: custom[index]!,
    };
    const snapshot = (r: typeof data | NonNullable<typeof row>): Snapshot => ({
      provider: m.provider ?? null,
      modelId: m.model,
      displayName: r.displayName,
      inputPrice: decimal(r.inputPrice),
      outputPrice: decimal(r.outputPrice),
      cacheReadPrice: decimal(r.cacheReadPrice),
      cacheWritePrice: decimal(r.cacheWritePrice),
      batchInputPrice: decimal(r.batchInputPrice),
      batchOutputPrice: decimal(r.batchOutputPrice),
      contextWindow: r.contextWindow,
      maxOutput: r.maxOutput,
      capabilities: (r.capabilities ?? {}) as Json,
      enabled: r.enabled,
      custom: r.custom,
    });
    await run.reconcile(
      "models",
      "modelOverride",
      row ? { id: row.id, snapshot: snapshot(row) } : null,
      snapshot(data),
      async (id) =>
        id
          ? (await tx.modelOverride.update({ where: { id }, data })).id
          : (await tx.modelOverride.create({ data: { ...data, orgId: existing.orgId, providerId, modelId: m.model } })).id,
    );
  }
}

async function writePolicies(run: Run): Promise<void> {
  const { tx, existing } = run;
  for (const spec of run.config.policies) {
    const { name, team, description, enabled, ...document } = spec;
    const row = existing.policies.find((p) => p.name === name);
    // Compare with the stored document as the schema reads it, so one saved without defaults is not "changed".
    const storedDocument = row ? ((policyDocument.safeParse(row.document).data ?? row.document) as Json) : null;
    const documentChanged = !row || !sameJson(storedDocument, document as unknown as Json);
    const version = row ? (documentChanged ? row.version + 1 : row.version) : 1;
    const fields = { teamId: teamIdOf(run, team), description: description ?? null, enabled };
    const id = await run.reconcile(
      "policies",
      "policy",
      row
        ? {
            id: row.id,
            snapshot: { name, teamId: row.teamId, description: row.description, enabled: row.enabled, version: row.version, document: storedDocument },
          }
        : null,
      { name, ...fields, version, document: document as unknown as Json },
      async (id) => {
        const policyId = id
          ? (await tx.policy.update({ where: { id }, data: { ...fields, ...(documentChanged ? { document, version } : {}) } })).id
          : (await tx.policy.create({ data: { ...fields, orgId: existing.orgId, name, document, version } })).id;
        if (documentChanged) await tx.policyVersion.create({ data: { policyId, version, document, createdBy: null } });
        return policyId;
      },
    );
    run.policyIds.set(name, id);
  }
}

async function writeCacheRules(run: Run): Promise<void> {
  const { tx, existing } = run;
  for (const rule of run.config.cacheRules) {
    const rowId = existing.rulesByName.get(rule.name)?.[0]?.id;
    const row = rowId ? await tx.cacheRule.findUniqueOrThrow({ where: { id: rowId } }) : null;
    const { name, team, policy, ...settings } = rule;
    const data = { ...settings, teamId: teamIdOf(run, team), policyId: policy ? run.policyIds.get(policy)! : null };
    const snapshot = (r: Omit<typeof data, "scope" | "endpoints"> & { scope: string; endpoints: readonly string[] }): Snapshot => ({
      name,
      teamId: r.teamId,
      policyId: r.policyId,
      exact: r.exact,
      semantic: r.semantic,
      ttlSeconds: r.ttlSeconds,
      threshold: r.threshold,
      maxEntryBytes: r.maxEntryBytes,
      endpoints: [...r.endpoints],
      scope: r.scope,
      allowNonZeroTemperature: r.allowNonZeroTemperature,
      shadow: r.shadow,
      enabled: r.enabled,
    });
    await run.reconcile(
      "cacheRules",
      "cacheRule",
      row ? { id: row.id, snapshot: snapshot(row) } : null,
      snapshot(data),
      async (id) =>
        id
          ? (await tx.cacheRule.update({ where: { id }, data })).id
          : (await tx.cacheRule.create({ data: { ...data, orgId: existing.orgId, name } })).id,
    );
  }
}

async function writeBudgets(run: Run): Promise<void> {
  const { tx, existing } = run;
  for (const budget of run.config.budgets) {
    const keyFields = {
      scope: budget.scope,
      teamId: teamIdOf(run, budget.team),
      apiKeyId: budget.apiKey ? existing.keysByPrefix.get(budget.apiKey)![0]!.id : null,
      endUser: budget.endUser ?? null,
      period: budget.period,
    };
    const row = existing.budgetsByKey.get(budgetRowKey(keyFields))?.[0] ?? null;
    const data = {
      limitUsd: budget.limitUsd,
      hard: budget.hard,
      alertThresholds: budget.alertThresholds,
      timezone: budget.timezone,
      webhookUrl: budget.webhookUrl ?? null,
      enabled: budget.enabled,
    };
    const snapshot = (r: Omit<typeof data, "limitUsd"> & { limitUsd: DecimalLike }): Snapshot => ({
      ...keyFields,
      limitUsd: decimal(r.limitUsd),
      hard: r.hard,
      alertThresholds: [...r.alertThresholds],
      timezone: r.timezone,
      webhookUrl: r.webhookUrl,
      enabled: r.enabled,
    });
    await run.reconcile(
      "budgets",
      "budget",
      row ? { id: row.id, snapshot: snapshot(row) } : null,
      snapshot(data),
      async (id) =>
        id
          ? (await tx.budget.update({ where: { id }, data })).id
          : (await tx.budget.create({ data: { ...data, ...keyFields, orgId: existing.orgId } })).id,
    );
  }
}

async function writeUsers(run: Run, passwords: ReadonlyMap<number, string>): Promise<void> {
  const { tx, existing } = run;
  for (const [index, user] of run.config.users.entries()) {
    const row = existing.usersByEmail.get(user.email) ?? null;
    const password = passwords.get(index);
    let passwordHash = row?.passwordHash ?? null;
    let secretChanged = false;
    if (password !== undefined && !(passwordHash && (await verifyPassword(password, passwordHash)))) {
      passwordHash = await hashPassword(password);
      secretChanged = row !== null;
    }
    const data = { name: user.name ?? null, role: user.role, teamId: teamIdOf(run, user.team), passwordHash };
    // Audit snapshots say whether a password is set, never its hash.
    const snapshot = (r: typeof data): Snapshot => ({
      email: user.email,
      name: r.name,
      role: r.role,
      teamId: r.teamId,
      hasPassword: r.passwordHash !== null,
    });
    await run.reconcile(
      "users",
      "user",
      row ? { id: row.id, snapshot: snapshot(row) } : null,
      snapshot(data),
      async (id) =>
        id
          ? (await tx.user.update({ where: { id }, data })).id
          : (await tx.user.create({ data: { ...data, orgId: existing.orgId, email: user.email } })).id,
      secretChanged,
    );
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

function decimal(value: DecimalLike | null): string | null {
  return value === null ? null : normalizeDecimal(value);
}

function decryptOrNull(secrets: SecretBox, ciphertext: string | null): string | null {
  if (!ciphertext) return null;
  try {
    return secrets.decrypt(ciphertext);
  } catch {
    return null; // written under another master secret: re-encrypting with the current one repairs it
  }
}

/**
 * Reads a YAML or JSON config file (YAML is a superset of JSON). Syntax errors become a ConfigFileError with
 * line and column; I/O errors (ENOENT, EACCES) are thrown as they are.
 */
export function readConfigFile(path: string): unknown {
  const text = readFileSync(path, "utf8");
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    const issues = document.errors.map((error) => {
      const at = error.linePos?.[0];
      return {
        path: at ? `line ${at.line}, column ${at.col}` : "(file)",
        message: error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""),
      };
    });
    throw new ConfigFileError(issues, path);
  }
  return document.toJS();
}

/** What `applyConfigFile` needs from the runtime, plus the environment variables the file may name. */
export interface ConfigFileDeps {
  db: Database;
  secrets: SecretBox;
  log: Logger;
  vars: Record<string, string | undefined>;
}

/**
 * Applies SWITCHYARD_CONFIG at start. A file that cannot be read or is invalid refuses start: the StartupError
 * lists each error's path and reason, and nothing is changed.
 */
export async function applyConfigFile(rt: ConfigFileDeps, path: string): Promise<ApplySummary> {
  let summary: ApplySummary;
  try {
    summary = await applyConfig(rt.db.prisma, rt.secrets, readConfigFile(path), rt.vars);
  } catch (error) {
    if (error instanceof ConfigFileError) {
      throw new StartupError(`config file ${path} (SWITCHYARD_CONFIG) is invalid; nothing was applied:\n${formatIssues(error.issues)}`);
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR") {
      throw new StartupError(`cannot read the config file ${path} (SWITCHYARD_CONFIG): ${code}`);
    }
    throw error;
  }
  for (const warning of summary.warnings) rt.log.warn({ config: path, path: warning.path }, warning.message);
  const counts = Object.fromEntries(SECTIONS.map((s) => [s, summary.sections[s]]));
  rt.log.info({ config: path, changes: summary.changes, ...counts }, "config file applied");
  return summary;
}
