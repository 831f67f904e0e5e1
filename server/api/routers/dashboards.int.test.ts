/**
 * calls, analytics and budgets routers on a real runtime: calls are written the way the gateway writes them
 * (insertCalls: Call rows and rollups in one statement), then read back as each role.
 */
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { monthKey } from "@/lib/analytics/series";
import type { CallRecord } from "../../ledger/call-log";
import { insertCalls } from "../../ledger/rollups";
import { startTestServer, type TestServer } from "../../testing/harness";
import { callerAs, createTestOrg, type TestOrg } from "../testing";

let app: TestServer;
let org: TestOrg;
const now = Date.now();
const month = monthKey(new Date(now));

function call(n: number, over: Partial<CallRecord>): CallRecord {
  return {
    id: `call-${n}`, requestId: `req-${n}`, createdAt: new Date(now - n * 60_000), surface: "openai", endpoint: "chat.completions",
    status: 200, inputTokens: 100, outputTokens: 50, costUsd: "0.0000001234", baselineCostUsd: "0.001", savingsRoutingUsd: "0.0005",
    latencyMs: 100 + n, providerKind: "openai", model: "gpt-4o-mini", policy: "cheap", cacheOutcome: "miss",
    route: { policy: "cheap", chosen: "openai/gpt-4o-mini" }, attempts: [{ provider: "openai", status: 200 }],
    ...over,
  };
}

beforeAll(async () => {
  app = await startTestServer();
  org = await createTestOrg(app.rt);
  const rows: CallRecord[] = [];
  for (let n = 1; n <= 5; n++) rows.push(call(n, { orgId: org.orgId, teamId: org.teamA }));
  rows.push(call(6, { orgId: org.orgId, teamId: org.teamB, status: 502, model: "claude-haiku", providerKind: "anthropic", cacheOutcome: "hit", costUsd: "1.5" }));
  rows.push(call(7, { orgId: org.orgId, teamId: org.teamB, status: 429, cacheOutcome: null }));
  await insertCalls(app.rt.db.prisma, rows);
});
afterAll(() => app?.dispose());

describe("calls", () => {
  it("pages newest first with a keyset cursor, each row once", async () => {
    const admin = callerAs(app.rt, org.users.admin);
    const first = await admin.calls.list({ limit: 3 });
    expect(first.items.map((c) => c.id)).toEqual(["call-1", "call-2", "call-3"]);
    const second = await admin.calls.list({ limit: 3, cursor: first.nextCursor });
    const third = await admin.calls.list({ limit: 3, cursor: second.nextCursor });
    expect(second.items.map((c) => c.id)).toEqual(["call-4", "call-5", "call-6"]);
    expect(third.items.map((c) => c.id)).toEqual(["call-7"]);
    expect(third.nextCursor).toBeNull();
    expect(first.items[0]!.costUsd).toBe("0.0000001234");
    expect(first.items[0]!.teamName).toBe("Team A");
  });

  it("filters by status class, cache outcome, model and team", async () => {
    const admin = callerAs(app.rt, org.users.admin);
    expect((await admin.calls.list({ statusClass: "5xx" })).items.map((c) => c.id)).toEqual(["call-6"]);
    expect((await admin.calls.list({ statusClass: "4xx" })).items.map((c) => c.id)).toEqual(["call-7"]);
    expect((await admin.calls.list({ cache: "hit" })).items.map((c) => c.id)).toEqual(["call-6"]);
    expect((await admin.calls.list({ cache: "none" })).items.map((c) => c.id)).toEqual(["call-7"]);
    expect((await admin.calls.list({ model: "claude-haiku" })).items).toHaveLength(1);
    expect((await admin.calls.list({ teamId: org.teamB })).items).toHaveLength(2);
    expect((await admin.calls.list({ from: new Date(now - 3.5 * 60_000) })).items.map((c) => c.id)).toEqual(["call-1", "call-2", "call-3"]);
  });

  it("developers see their own team only; another team's call is NOT_FOUND, its filter FORBIDDEN", async () => {
    const dev = callerAs(app.rt, org.users.developerA);
    const list = await dev.calls.list({});
    expect(list.items.map((c) => c.teamId)).toEqual(Array(5).fill(org.teamA));
    await expect(dev.calls.get({ id: "call-6" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(dev.calls.list({ teamId: org.teamB })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const detail = await dev.calls.get({ id: "call-1" });
    expect(detail.route).toEqual({ policy: "cheap", chosen: "openai/gpt-4o-mini" });
    expect(detail.attempts).toEqual([{ provider: "openai", status: 200 }]);
    expect(detail).not.toHaveProperty("requestBody");
    const outsider = callerAs(app.rt, org.users.outsider);
    expect((await outsider.calls.list({})).items).toEqual([]);
  });

  it("facets list the policies, models and providers seen", async () => {
    const facets = await callerAs(app.rt, org.users.admin).calls.facets();
    expect(facets.models).toEqual(["claude-haiku", "gpt-4o-mini"]);
    expect(facets.providerKinds).toEqual(["anthropic", "openai"]);
    const devFacets = await callerAs(app.rt, org.users.developerA).calls.facets();
    expect(devFacets.models).toEqual(["gpt-4o-mini"]);
  });
});

describe("analytics", () => {
  it("overview: today, month to date, forecast ≥ spend, rates and percentiles", async () => {
    const o = await callerAs(app.rt, org.users.admin).analytics.overview({ range: "24h" });
    // 6 × 0.0000001234 + 1.5
    expect(o.range.requests).toBe(7);
    expect(o.range.costUsd).toBe("1.5000007404");
    expect(o.range.errorRate).toBeCloseTo(2 / 7);
    expect(o.range.cacheHitRate).toBeCloseTo(1 / 7);
    expect(o.range.p50LatencyMs).toBe(104);
    expect(o.range.p95LatencyMs).toBe(107);
    expect(o.range.savings.routing).toBe("0.0035");
    expect(Number(o.forecastMonthEndUsd)).toBeGreaterThanOrEqual(Number(o.monthToDateUsd));
    const dev = await callerAs(app.rt, org.users.developerA).analytics.overview({ range: "24h" });
    expect(dev.range.requests).toBe(5);
    expect(dev.range.costUsd).toBe("0.000000617");
  });

  it("series: dense hourly buckets summing to the totals", async () => {
    const s = await callerAs(app.rt, org.users.admin).analytics.series({ range: "24h" });
    expect(s.points).toHaveLength(24);
    expect(s.points.reduce((a, p) => a + p.calls, 0)).toBe(7);
    const d = await callerAs(app.rt, org.users.admin).analytics.series({ range: "30d" });
    expect(d.points).toHaveLength(30);
    expect(d.points.reduce((a, p) => a + p.calls, 0)).toBe(7);
  });

  it("spend by month, breakdowns and an exact CSV for finance", async () => {
    const finance = callerAs(app.rt, org.users.finance);
    const months = await finance.analytics.months({ months: 3 });
    expect(months[0]).toMatchObject({ month, calls: 7, costUsd: "1.5000007404" });
    expect(months).toHaveLength(3);
    const byTeam = await finance.analytics.breakdown({ month, by: "team" });
    expect(byTeam.map((r) => [r.label, r.costUsd])).toEqual([["Team B", "1.5000001234"], ["Team A", "0.000000617"]]);
    const { csv, filename } = await finance.analytics.exportCsv({ month });
    expect(filename).toBe(`switchyard-spend-${month}.csv`);
    const lines = csv.trim().split("\r\n");
    expect(lines[0]!.startsWith("month,team,api_key,policy,provider,model,calls")).toBe(true);
    expect(lines).toHaveLength(4);
    expect(csv).toContain(",0.000000617,");
    const report = await finance.analytics.report({ month });
    expect(report.current.costUsd).toBe("1.5000007404");
    expect(report.providers.map((p) => p.key)).toEqual(["anthropic", "openai"]);
  });

  it("developers cannot read spend reports", async () => {
    await expect(callerAs(app.rt, org.users.developerA).analytics.months({})).rejects.toBeInstanceOf(TRPCError);
  });
});

describe("budgets", () => {
  it("finance creates, edits and deletes; spend vs limit is the period's spend; audited", async () => {
    const finance = callerAs(app.rt, org.users.finance);
    const { id } = await finance.budgets.create({ scope: "team", teamId: org.teamB, period: "monthly", limitUsd: "3", alertThresholds: [80, 50] });
    let listed = (await finance.budgets.list()).find((b) => b.id === id)!;
    expect(listed).toMatchObject({ limitUsd: "3", spentUsd: "1.5000001234", percent: 50, alertThresholds: [50, 80], teamName: "Team B" });
    await finance.budgets.update({ id, scope: "team", teamId: org.teamB, period: "monthly", limitUsd: "1.5", hard: false });
    listed = (await finance.budgets.list()).find((b) => b.id === id)!;
    expect(listed).toMatchObject({ limitUsd: "1.5", hard: false });
    expect((await callerAs(app.rt, org.users.developerA).budgets.list()).map((b) => b.id)).not.toContain(id);
    expect((await callerAs(app.rt, org.users.developerB).budgets.list()).map((b) => b.id)).toContain(id);
    const audit = await app.rt.db.prisma.auditLog.findMany({ where: { entityId: id }, orderBy: { createdAt: "asc" } });
    expect(audit.map((a) => a.action)).toEqual(["budget.create", "budget.update"]);
    await finance.budgets.delete({ id });
    expect((await finance.budgets.list()).map((b) => b.id)).not.toContain(id);
  });

  it("refuses a team budget without a team, another org's team, and developers' writes", async () => {
    const finance = callerAs(app.rt, org.users.finance);
    await expect(finance.budgets.create({ scope: "team", period: "monthly", limitUsd: "1" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const outsider = callerAs(app.rt, org.users.outsider);
    await expect(outsider.budgets.create({ scope: "team", teamId: org.teamA, period: "daily", limitUsd: "1" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(callerAs(app.rt, org.users.developerA).budgets.create({ scope: "team", teamId: org.teamA, period: "daily", limitUsd: "1" })).rejects.toMatchObject({ code: "FORBIDDEN" });
  });
});

describe("cacheRules", () => {
  it("admin creates, edits, invalidates and deletes a rule; developers see org-wide and own-team rules only", async () => {
    const admin = callerAs(app.rt, org.users.admin);
    const shared = await admin.cacheRules.create({ name: "all-chat", endpoints: ["chat.completions"], ttlSeconds: 600 });
    const teamB = await admin.cacheRules.create({ name: "team-b", teamId: org.teamB, semantic: true, threshold: 0.95 });
    const devA = (await callerAs(app.rt, org.users.developerA).cacheRules.list()).map((r) => r.name);
    expect(devA).toContain("all-chat");
    expect(devA).not.toContain("team-b");
    const updated = await admin.cacheRules.update({ id: shared.id, name: "all-chat", ttlSeconds: 60, shadow: true });
    expect(updated).toMatchObject({ ttlSeconds: 60, shadow: true });
    expect(await admin.cacheRules.bumpNamespace({ id: shared.id })).toEqual({ namespace: 1 });
    await admin.cacheRules.delete({ id: teamB.id });
    const audit = await app.rt.db.prisma.auditLog.findMany({ where: { entityId: shared.id }, orderBy: { createdAt: "asc" } });
    expect(audit.map((a) => a.action)).toEqual(["cacheRule.create", "cacheRule.update", "cacheRule.invalidate"]);
    await expect(callerAs(app.rt, org.users.outsider).cacheRules.delete({ id: shared.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(admin.cacheRules.create({ name: "bad", embedder: "not an embedder" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("purges within the organization, recorded for the gateways", async () => {
    const admin = callerAs(app.rt, org.users.admin);
    expect(await admin.cacheRules.purge({ teamId: org.teamA })).toEqual({ semanticEntries: 0 });
    expect(await app.rt.db.prisma.cachePurge.count({ where: { orgId: org.orgId, teamId: org.teamA } })).toBe(1);
    await expect(callerAs(app.rt, org.users.outsider).cacheRules.purge({ teamId: org.teamA })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("stats count outcomes of the caller's traffic", async () => {
    const all = await callerAs(app.rt, org.users.admin).cacheRules.stats({});
    expect(all.counts).toMatchObject({ hit: 1, miss: 5, none: 1 });
    expect(all.hitRate).toBeCloseTo(1 / 6);
    const dev = await callerAs(app.rt, org.users.developerA).cacheRules.stats({});
    expect(dev.counts).toEqual({ miss: 5 });
    expect(dev.hitRate).toBe(0);
  });
});
