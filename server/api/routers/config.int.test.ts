/**
 * Policies (validation, versions, rollback), model overrides, teams, users (guard rails), settings and the audit
 * log they all write; and the rule that every successful mutation bumps the config version.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readConfigVersion } from "../../gateway/snapshot";
import { startTestServer, type TestServer } from "../../testing/harness";
import { callerAs, createTestOrg, type TestOrg } from "../testing";

let app: TestServer;
let org: TestOrg;
const admin = () => callerAs(app.rt, org.users.admin);

beforeAll(async () => {
  app = await startTestServer();
  org = await createTestOrg(app.rt);
  await admin().providers.create({ name: "sim", kind: "simulator", baseUrl: "http://127.0.0.1:9", allowPrivate: true, config: { protocol: "openai" } });
  await admin().providers.create({ name: "oai", kind: "openai", apiKey: "sk-test-openai-key-00000000000000", baseUrl: "https://93.184.215.14/v1" });
});
afterAll(() => app?.dispose());

describe("policies", () => {
  it("validates live: schema errors, unknown providers, and targets the gateway would skip", async () => {
    const member = callerAs(app.rt, org.users.developerA);
    const broken = await member.policies.validate({ document: { targets: [{ provider: "sim" }], dropParams: "x" } });
    expect(broken.ok).toBe(false);
    expect(broken.errors.map((e) => e.path).sort()).toEqual(["dropParams", "targets.0.model"]);
    const unknownStrategy = await member.policies.validate({ document: { strategy: "random", targets: [{ provider: "sim", model: "sim-small" }] } });
    expect(unknownStrategy).toMatchObject({ ok: false, errors: [{ path: "strategy" }] });
    const unknown = await member.policies.validate({ document: { targets: [{ provider: "nope", model: "x" }] } });
    expect(unknown).toMatchObject({ ok: false, errors: [{ path: "targets.0.provider" }] });
    // Every reference counts, fallback chains included.
    const fallback = await member.policies.validate({
      document: { targets: [{ provider: "sim", model: "sim-small" }], fallbacks: { contextLength: [{ provider: "gone", model: "x" }] } },
    });
    expect(fallback).toMatchObject({ ok: false, errors: [{ path: "fallbacks.contextLength.0.provider" }] });
    const skipped = await member.policies.validate({ document: { targets: [{ provider: "oai", model: "not-a-real-model" }, { provider: "oai", model: "gpt-4o-mini" }] } });
    expect(skipped.ok).toBe(true);
    expect(skipped.warnings).toEqual([expect.objectContaining({ path: "targets.0.model" })]);
  });

  it("refuses saving a policy that names an unknown provider", async () => {
    await expect(admin().policies.create({ name: "bad", document: { targets: [{ provider: "nope", model: "x" }] } })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("versions every document change and rolls back as a new version", async () => {
    const v1 = { targets: [{ provider: "sim", model: "sim-small" }] };
    const v2 = { targets: [{ provider: "sim", model: "sim-large" }, { provider: "sim", model: "sim-small" }] };
    const created = await admin().policies.create({ name: "support-bot", description: "Support", document: v1 });
    expect(created.version).toBe(1);
    // Same document (defaults filled in), other fields: no new version.
    const same = await admin().policies.update({ id: created.id, description: "Support bot", document: { ...v1, strategy: "ordered", dropParams: [] } });
    expect(same.version).toBe(1);
    const changed = await admin().policies.update({ id: created.id, document: v2 });
    expect(changed.version).toBe(2);
    const rolled = await admin().policies.rollback({ id: created.id, version: 1 });
    expect(rolled.version).toBe(3);
    expect(rolled.document.targets).toEqual(v1.targets);
    const versions = await callerAs(app.rt, org.users.finance).policies.versions({ id: created.id });
    expect(versions.map((v) => [v.version, v.current, v.createdBy])).toEqual([
      [3, true, "admin@example.com"],
      [2, false, "admin@example.com"],
      [1, false, "admin@example.com"],
    ]);
    await expect(admin().policies.rollback({ id: created.id, version: 3 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const actions = (await app.rt.db.prisma.auditLog.findMany({ where: { entityId: created.id }, orderBy: { createdAt: "asc" } })).map((a) => a.action);
    expect(actions).toEqual(["policy.create", "policy.update", "policy.update", "policy.rollback"]);
  });

  it("refuses a duplicate name", async () => {
    await expect(admin().policies.create({ name: "support-bot", document: { targets: [{ provider: "sim", model: "sim-small" }] } })).rejects.toMatchObject({ code: "CONFLICT" });
  });
});

describe("models", () => {
  it("lists the catalog with filters and applies a price override", async () => {
    const member = callerAs(app.rt, org.users.finance);
    const page = await member.models.list({ kind: "openai", query: "gpt-4o-mini", limit: 5 });
    expect(page.items.every((m) => m.kind === "openai" && m.id.includes("gpt-4o-mini"))).toBe(true);
    const oai = await app.rt.db.prisma.provider.findFirstOrThrow({ where: { name: "oai" } });
    const override = await admin().models.upsertOverride({ providerId: oai.id, modelId: "gpt-4o-mini", inputPrice: "0.1", outputPrice: "0.5" });
    expect(override).toMatchObject({ inputPrice: "0.1", outputPrice: "0.5", custom: false });
    const scoped = await member.models.list({ providerId: oai.id, query: "gpt-4o-mini" });
    expect(scoped.items.find((m) => m.id === "gpt-4o-mini")).toMatchObject({ overridden: true, prices: { input: "0.1", output: "0.5" }, providerId: oai.id });
    // The gateway's snapshot picked it up at once (the mutation bumped and refreshed the config).
    const live = app.rt.snapshot.current().orgs.get(org.orgId)!;
    expect(live.catalog.get("openai", "gpt-4o-mini", { providerId: oai.id })?.prices.input).toBe("0.1");
  });

  it("disables and re-enables a model, and needs prices for a custom one", async () => {
    await admin().models.setEnabled({ providerId: null, modelId: "gpt-4o", enabled: false });
    const listed = await admin().models.list({ kind: "openai", query: "gpt-4o", includeDisabled: true, limit: 500 });
    expect(listed.items.find((m) => m.id === "gpt-4o" && m.providerId === null)?.enabled).toBe(false);
    await admin().models.setEnabled({ providerId: null, modelId: "gpt-4o", enabled: true });
    const oai = await app.rt.db.prisma.provider.findFirstOrThrow({ where: { name: "oai" } });
    await expect(admin().models.upsertOverride({ providerId: oai.id, modelId: "my-finetune" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const custom = await admin().models.upsertOverride({ providerId: oai.id, modelId: "my-finetune", inputPrice: "3", outputPrice: "6" });
    expect(custom.custom).toBe(true);
    await admin().models.deleteOverride({ id: custom.id });
    expect(await app.rt.db.prisma.modelOverride.count({ where: { modelId: "my-finetune" } })).toBe(0);
  });
});

describe("teams and users", () => {
  it("keeps an organization from locking itself out", async () => {
    await expect(admin().users.update({ id: org.users.admin.id, role: "finance" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(admin().users.update({ id: org.users.admin.id, disabled: true })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const second = await admin().users.create({ email: "Second.Admin@Example.com", role: "admin", password: "a long enough password" });
    expect(second.email).toBe("second.admin@example.com");
    expect(second).toMatchObject({ hasPassword: true });
    expect(Object.keys(second)).not.toContain("passwordHash");
    const asSecond = callerAs(app.rt, { ...org.users.admin, id: second.id, email: second.email });
    await asSecond.users.update({ id: org.users.admin.id, disabled: true });
    await expect(asSecond.users.update({ id: second.id, role: "developer", teamId: org.teamA })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await asSecond.users.update({ id: org.users.admin.id, disabled: false });
  });

  it("requires a team for developers and refuses duplicate emails", async () => {
    await expect(admin().users.create({ email: "dev@example.com", role: "developer" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(admin().users.create({ email: "DEV-A@example.com", role: "finance" })).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("refuses deleting a team that still owns keys", async () => {
    await callerAs(app.rt, org.users.developerA).apiKeys.create({ name: "k", teamId: org.teamA });
    await expect(admin().teams.delete({ id: org.teamA })).rejects.toMatchObject({ code: "CONFLICT" });
    const empty = await admin().teams.create({ name: "Empty", slug: "empty" });
    await admin().teams.delete({ id: empty.id });
  });
});

describe("audit log and config version", () => {
  it("records who changed what, with secrets masked, newest first and paged", async () => {
    const first = await admin().audit.list({ limit: 5 });
    expect(first.items).toHaveLength(5);
    expect(first.nextCursor).not.toBeNull();
    const second = await admin().audit.list({ limit: 5, cursor: first.nextCursor });
    expect(second.items.map((i) => i.id)).not.toContain(first.items[0]!.id);
    const all = await admin().audit.list({ limit: 200 });
    const text = JSON.stringify(all);
    expect(text).not.toContain("sk-test-openai-key");
    expect(text).not.toContain("scrypt$");
    expect(all.items.find((i) => i.action === "provider.create")).toMatchObject({ actor: "admin@example.com" });
    expect((await admin().audit.list({ entity: "policy", limit: 200 })).items.every((i) => i.entity === "policy")).toBe(true);
    expect(await admin().audit.entities()).toContain("modelOverride");
  });

  it("bumps the config version after every successful mutation, not after a failed one", async () => {
    const before = await readConfigVersion(app.rt.db.prisma);
    await admin().settings.update({ organizationName: "Acme" });
    const after = await readConfigVersion(app.rt.db.prisma);
    expect(after).not.toBe(before);
    await admin().teams.create({ name: "x", slug: "empty-2" });
    const afterSuccess = await readConfigVersion(app.rt.db.prisma);
    await expect(admin().teams.create({ name: "x", slug: "empty-2" })).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await readConfigVersion(app.rt.db.prisma)).toBe(afterSuccess);
    expect((await callerAs(app.rt, org.users.developerA).settings.get()).organization.name).toBe("Acme");
  });
});
