/**
 * Reliability case 24 (object half): a developer of team A can neither read nor change team B's keys or
 * team-scoped policies, and nobody reads another organization's rows. Rows outside the caller's scope answer
 * NOT_FOUND by id (no existence oracle) and FORBIDDEN when another team is named explicitly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing/harness";
import { callerAs, createTestOrg, type TestOrg } from "./testing";

let app: TestServer;
let org: TestOrg;
let keyA: string;
let keyB: string;
let policyB: string;

beforeAll(async () => {
  app = await startTestServer();
  org = await createTestOrg(app.rt);
  keyA = (await callerAs(app.rt, org.users.developerA).apiKeys.create({ name: "a-key", teamId: org.teamA })).record.id;
  keyB = (await callerAs(app.rt, org.users.developerB).apiKeys.create({ name: "b-key", teamId: org.teamB })).record.id;
  const db = app.rt.db.prisma;
  await db.provider.create({ data: { orgId: org.orgId, name: "sim", kind: "simulator", baseUrl: "http://127.0.0.1:9/openai/v1", allowPrivate: true } });
  const document = { targets: [{ provider: "sim", model: "sim-small" }] };
  policyB = (await callerAs(app.rt, org.users.admin).policies.create({ name: "team-b-only", teamId: org.teamB, document })).id;
  await callerAs(app.rt, org.users.admin).policies.create({ name: "shared", teamId: null, document });
});
afterAll(() => app?.dispose());

describe("API keys across teams", () => {
  it("lists only the developer's own team's keys", async () => {
    const a = await callerAs(app.rt, org.users.developerA).apiKeys.list({});
    expect(a.map((k) => k.id)).toEqual([keyA]);
    const b = await callerAs(app.rt, org.users.developerB).apiKeys.list({});
    expect(b.map((k) => k.id)).toEqual([keyB]);
    const all = await callerAs(app.rt, org.users.admin).apiKeys.list({});
    expect(all.map((k) => k.id).sort()).toEqual([keyA, keyB].sort());
    const finance = await callerAs(app.rt, org.users.finance).apiKeys.list({});
    expect(finance).toHaveLength(2);
  });

  it("never returns a key's hash", async () => {
    const rows = await callerAs(app.rt, org.users.admin).apiKeys.list({ includeRevoked: true });
    for (const row of rows) expect(Object.keys(row)).not.toContain("hash");
  });

  it("refuses a filter on another team", async () => {
    await expect(callerAs(app.rt, org.users.developerA).apiKeys.list({ teamId: org.teamB })).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("refuses creating a key for another team", async () => {
    await expect(callerAs(app.rt, org.users.developerA).apiKeys.create({ name: "sneaky", teamId: org.teamB })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await app.rt.db.prisma.apiKey.count({ where: { name: "sneaky" } })).toBe(0);
  });

  it("creates a key that defers its traffic to the batch tier, listed and audited as such", async () => {
    const developer = callerAs(app.rt, org.users.developerA);
    const { record } = await developer.apiKeys.create({ name: "nightly", teamId: org.teamA, deferrable: true });
    expect(record.deferrable).toBe(true);
    expect((await developer.apiKeys.list({})).find((k) => k.id === record.id)?.deferrable).toBe(true);
    const audit = await app.rt.db.prisma.auditLog.findFirstOrThrow({ where: { entityId: record.id, action: "apiKey.create" } });
    expect(audit.after).toMatchObject({ deferrable: true });
    expect((await developer.apiKeys.create({ name: "live", teamId: org.teamA })).record.deferrable).toBe(false);
  });

  it("answers NOT_FOUND to revoking another team's key, which keeps working", async () => {
    await expect(callerAs(app.rt, org.users.developerA).apiKeys.revoke({ id: keyB })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await app.rt.db.prisma.apiKey.findUniqueOrThrow({ where: { id: keyB } })).revokedAt).toBeNull();
  });

  it("lets finance read but not revoke", async () => {
    await expect(callerAs(app.rt, org.users.finance).apiKeys.revoke({ id: keyA })).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("gives a developer without a team nothing", async () => {
    const db = app.rt.db.prisma;
    const loner = await db.user.create({ data: { orgId: org.orgId, email: "loner@example.com", role: "developer" }, select: { id: true, email: true, name: true, role: true, orgId: true, teamId: true } });
    expect(await callerAs(app.rt, loner).apiKeys.list({})).toEqual([]);
    expect(await callerAs(app.rt, loner).teams.list()).toEqual([]);
  });
});

describe("policies and teams across teams", () => {
  it("hides team B's policy from a developer of team A", async () => {
    const a = callerAs(app.rt, org.users.developerA);
    expect((await a.policies.list()).map((p) => p.name)).toEqual(["shared"]);
    await expect(a.policies.get({ id: policyB })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(a.policies.versions({ id: policyB })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await callerAs(app.rt, org.users.developerB).policies.list()).map((p) => p.name).sort()).toEqual(["shared", "team-b-only"]);
  });

  it("lists only the developer's own team", async () => {
    expect((await callerAs(app.rt, org.users.developerA).teams.list()).map((t) => t.id)).toEqual([org.teamA]);
    expect((await callerAs(app.rt, org.users.finance).teams.list()).length).toBeGreaterThanOrEqual(3);
  });
});

describe("organizations", () => {
  it("never shows another organization's rows, even to its admin", async () => {
    const outsider = callerAs(app.rt, org.users.outsider);
    expect(await outsider.apiKeys.list({})).toEqual([]);
    expect(await outsider.policies.list()).toEqual([]);
    expect(await outsider.providers.list()).toEqual([]);
    await expect(outsider.apiKeys.revoke({ id: keyA })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(outsider.policies.get({ id: policyB })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(outsider.apiKeys.create({ name: "x", teamId: org.teamA })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(outsider.users.update({ id: org.users.developerA.id, role: "admin" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await outsider.audit.list({})).items.every((entry) => entry.actorId === null || entry.actorId === org.users.outsider.id)).toBe(true);
  });
});

describe("every procedure that takes an id, across organizations and teams", () => {
  /** Everything a row of org A holds that a refused mutation could change. */
  const snapshot = async () => {
    const db = app.rt.db.prisma;
    const where = { orgId: org.orgId };
    return JSON.stringify(
      await Promise.all([
        db.provider.findMany({ where, orderBy: { id: "asc" } }),
        db.policy.findMany({ where, orderBy: { id: "asc" } }),
        db.team.findMany({ where, orderBy: { id: "asc" } }),
        db.budget.findMany({ where, orderBy: { id: "asc" } }),
        db.cacheRule.findMany({ where, orderBy: { id: "asc" } }),
        db.modelOverride.findMany({ where, orderBy: { id: "asc" } }),
        db.apiKey.findMany({ where, orderBy: { id: "asc" } }),
        db.user.findMany({ where, orderBy: { id: "asc" } }),
      ]),
    );
  };

  it("an admin of another organization can neither read nor change any of this organization's objects", async () => {
    const db = app.rt.db.prisma;
    const provider = (await db.provider.findFirstOrThrow({ where: { orgId: org.orgId, name: "sim" } })).id;
    const budget = (await db.budget.create({ data: { orgId: org.orgId, scope: "team", teamId: org.teamA, period: "monthly", limitUsd: "10" } })).id;
    const rule = (await db.cacheRule.create({ data: { orgId: org.orgId, teamId: org.teamA, name: "team-a-rule" } })).id;
    const override = (await db.modelOverride.create({ data: { orgId: org.orgId, providerId: provider, modelId: "sim-small", inputPrice: "1", outputPrice: "2" } })).id;
    const before = await snapshot();
    const outsider = callerAs(app.rt, org.users.outsider);
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ["providers.get", () => outsider.providers.get({ id: provider })],
      ["providers.update", () => outsider.providers.update({ id: provider, enabled: false })],
      ["providers.testConnection", () => outsider.providers.testConnection({ id: provider })],
      ["providers.delete", () => outsider.providers.delete({ id: provider })],
      ["policies.update", () => outsider.policies.update({ id: policyB, enabled: false })],
      ["policies.rollback", () => outsider.policies.rollback({ id: policyB, version: 1 })],
      ["policies.delete", () => outsider.policies.delete({ id: policyB })],
      ["policies.dryRun", () => outsider.policies.dryRun({ id: policyB, prompt: "hi" })],
      ["teams.update", () => outsider.teams.update({ id: org.teamA, name: "Taken over" })],
      ["teams.delete", () => outsider.teams.delete({ id: org.teamB })],
      ["budgets.update", () => outsider.budgets.update({ id: budget, scope: "team", teamId: org.teamA, period: "monthly", limitUsd: "1000000" })],
      ["budgets.delete", () => outsider.budgets.delete({ id: budget })],
      ["budgets.create on its team", () => outsider.budgets.create({ scope: "team", teamId: org.teamA, period: "monthly", limitUsd: "0" })],
      ["cacheRules.update", () => outsider.cacheRules.update({ id: rule, name: "taken" })],
      ["cacheRules.delete", () => outsider.cacheRules.delete({ id: rule })],
      ["cacheRules.bumpNamespace", () => outsider.cacheRules.bumpNamespace({ id: rule })],
      ["cacheRules.purge by its team", () => outsider.cacheRules.purge({ teamId: org.teamA })],
      ["cacheRules.purge by its rule", () => outsider.cacheRules.purge({ ruleId: rule })],
      ["models.deleteOverride", () => outsider.models.deleteOverride({ id: override })],
      ["models.setEnabled on its provider", () => outsider.models.setEnabled({ providerId: provider, modelId: "sim-small", enabled: false })],
      ["models.upsertOverride on its provider", () => outsider.models.upsertOverride({ providerId: provider, modelId: "sim-small", inputPrice: "0", outputPrice: "0" } as never)],
      ["apiKeys.setDisabled", () => outsider.apiKeys.setDisabled({ id: keyA, disabled: true })],
      ["users.setPassword", () => outsider.users.setPassword({ id: org.users.admin.id, password: "correct horse battery staple 42" })],
      ["users.update", () => outsider.users.update({ id: org.users.finance.id, disabled: true })],
    ];
    const outcomes: Record<string, string> = {};
    for (const [what, call] of attempts) outcomes[what] = await call().then(() => "succeeded", (e: { code?: string }) => e.code ?? String(e));
    // Refused, and without telling apart "not yours" from "does not exist".
    expect(outcomes).toEqual(Object.fromEntries(attempts.map(([what]) => [what, "NOT_FOUND"])));
    expect(await snapshot()).toBe(before);
    expect(await db.modelOverride.count({ where: { orgId: { not: org.orgId }, providerId: provider } })).toBe(0);
    expect(await db.budget.count({ where: { orgId: { not: org.orgId }, teamId: org.teamA } })).toBe(0);
  });

  it("a developer of team A can neither disable nor revoke team B's key, which keeps working", async () => {
    const before = await snapshot();
    const a = callerAs(app.rt, org.users.developerA);
    await expect(a.apiKeys.setDisabled({ id: keyB, disabled: true })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(a.apiKeys.revoke({ id: keyB })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await snapshot()).toBe(before);
    // The owner's team still can.
    await callerAs(app.rt, org.users.developerB).apiKeys.setDisabled({ id: keyB, disabled: true });
    expect((await app.rt.db.prisma.apiKey.findUniqueOrThrow({ where: { id: keyB } })).disabledAt).not.toBeNull();
  });
});
