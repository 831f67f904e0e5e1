import { describe, expect, it } from "vitest";
import type { Db } from "../db/client";
import { LogCapture } from "../testing/harness";
import { createAlerter, reachedThresholds, type BudgetAlertPayload } from "./alerts";
import type { AppliedBudget, BudgetRule } from "./budgets";

const rule = (extra: Partial<BudgetRule> = {}): BudgetRule => ({
  id: "b1",
  orgId: "org1",
  scope: "team",
  teamId: "t1",
  apiKeyId: null,
  endUser: null,
  period: "monthly",
  limit: 100n,
  hard: false,
  thresholds: [50, 80, 100],
  timezone: "UTC",
  webhookUrl: "https://hooks.example.com/budget",
  createdAt: new Date(0),
  ...extra,
});
const applied = (r: BudgetRule): AppliedBudget => ({
  rule: r,
  subject: "",
  window: { start: new Date("2026-03-01T00:00:00Z"), end: new Date("2026-04-01T00:00:00Z") },
  key: `budget:${r.id}:-:1`,
  ttlMs: 1,
});

/** The BudgetAlert table: unique (budget, subject, period, threshold), like the database. */
function fakeDb() {
  const rows = new Map<string, Record<string, unknown>>();
  const id = (d: Record<string, unknown>) => `${d.budgetId}|${d.subject}|${(d.periodStart as Date).toISOString()}|${d.threshold}`;
  const db = {
    budgetAlert: {
      async createMany({ data }: { data: Array<Record<string, unknown>> }) {
        let count = 0;
        for (const d of data) if (!rows.has(id(d))) (rows.set(id(d), { ...d }), count++);
        return { count };
      },
      async updateMany({ where, data }: { where: Record<string, unknown>; data: Record<string, unknown> }) {
        Object.assign(rows.get(id(where))!, data);
        return { count: 1 };
      },
    },
  } as unknown as Db;
  return { db, rows };
}

const publicDns = async () => [{ address: "93.184.216.34", family: 4 as const }];

describe("reachedThresholds", () => {
  it("is reached at exactly the percentage, not before, and not without spend", () => {
    expect(reachedThresholds([50, 80, 100], 100n, 49n)).toEqual([]);
    expect(reachedThresholds([50, 80, 100], 100n, 50n)).toEqual([50]);
    expect(reachedThresholds([50, 80, 100], 100n, 100n)).toEqual([50, 80, 100]);
    expect(reachedThresholds([50, 80, 100, 150], 100n, 150n)).toEqual([50, 80, 100, 150]);
    expect(reachedThresholds([50], 0n, 0n)).toEqual([]);
    expect(reachedThresholds([50, 100, 120], 100n, 10n, true)).toEqual([50, 100]);
  });
});

describe("budget alerts", () => {
  it("records each threshold once per period and posts it to the webhook once", async () => {
    const { db, rows } = fakeDb();
    const sent: BudgetAlertPayload[] = [];
    const alerter = createAlerter({ db, log: new LogCapture().logger, resolve: publicDns, send: async (_url, p) => (sent.push(p), 204) });
    const budget = applied(rule());
    alerter.check(budget, 55n);
    alerter.check(budget, 60n);
    alerter.check(budget, 85n);
    await alerter.idle();
    expect([...rows.values()].map((r) => [r.threshold, r.spendUsd, r.webhookStatus])).toEqual([
      [50, "0.0000000055", "delivered"],
      [80, "0.0000000085", "delivered"],
    ]);
    expect(sent.map((p) => p.threshold)).toEqual([50, 80]);
    expect(sent[0]).toMatchObject({
      type: "budget.threshold_reached",
      budget: { id: "b1", scope: "team", teamId: "t1", period: "monthly", hard: false, limitUsd: "0.00000001" },
      periodStart: "2026-03-01T00:00:00.000Z",
      periodEnd: "2026-04-01T00:00:00.000Z",
    });
  });

  it("does not post what another instance already recorded", async () => {
    const { db } = fakeDb();
    const sent: unknown[] = [];
    const send = async (_u: string, p: BudgetAlertPayload) => (sent.push(p), 200);
    const one = createAlerter({ db, log: new LogCapture().logger, resolve: publicDns, send });
    const two = createAlerter({ db, log: new LogCapture().logger, resolve: publicDns, send });
    one.check(applied(rule()), 60n);
    two.check(applied(rule()), 60n);
    await Promise.all([one.idle(), two.idle()]);
    expect(sent).toHaveLength(1);
  });

  it.each([
    ["http://127.0.0.1:8080/hook"],
    ["http://169.254.169.254/latest/meta-data"],
    ["http://10.0.0.5/hook"],
    ["file:///etc/passwd"],
    ["https://user:pw@hooks.example.com/x"],
  ])("refuses to post to %s (SSRF guard) and records it as blocked", async (url) => {
    const { db, rows } = fakeDb();
    let posted = false;
    const alerter = createAlerter({ db, log: new LogCapture().logger, resolve: publicDns, send: async () => ((posted = true), 200) });
    alerter.check(applied(rule({ webhookUrl: url })), 50n);
    await alerter.idle();
    expect(posted).toBe(false);
    expect([...rows.values()][0]).toMatchObject({ webhookStatus: "blocked" });
  });

  it("refuses a host name that resolves to a private address", async () => {
    const { db, rows } = fakeDb();
    const alerter = createAlerter({ db, log: new LogCapture().logger, resolve: async () => [{ address: "192.168.1.10", family: 4 }], send: async () => 200 });
    alerter.check(applied(rule()), 50n);
    await alerter.idle();
    expect([...rows.values()][0]).toMatchObject({ webhookStatus: "blocked" });
  });

  it("records failed deliveries and alerts without a webhook", async () => {
    const { db, rows } = fakeDb();
    const alerter = createAlerter({ db, log: new LogCapture().logger, resolve: publicDns, send: async () => 500 });
    alerter.check(applied(rule()), 50n);
    alerter.check(applied(rule({ id: "b2", webhookUrl: null })), 50n);
    await alerter.idle();
    expect([...rows.values()].map((r) => [r.budgetId, r.webhookStatus, r.webhookError ?? null])).toEqual([
      ["b1", "failed", "HTTP 500"],
      ["b2", "none", null],
    ]);
  });

  it("tries again later when the alert could not be recorded", async () => {
    const { db, rows } = fakeDb();
    const original = db.budgetAlert.createMany;
    let down = true;
    (db.budgetAlert as { createMany: unknown }).createMany = (args: never) => (down ? Promise.reject(new Error("db down")) : original(args));
    const alerter = createAlerter({ db, log: new LogCapture().logger, resolve: publicDns, send: async () => 200 });
    alerter.check(applied(rule()), 50n);
    await alerter.idle();
    expect(rows.size).toBe(0);
    down = false;
    alerter.check(applied(rule()), 51n);
    await alerter.idle();
    expect(rows.size).toBe(1);
  });
});
