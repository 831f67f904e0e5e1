/**
 * Budget alerts: when a budget's spend in a period reaches one of its thresholds (percent of the limit), one
 * BudgetAlert row is recorded — the dashboard reads them — and, when the budget names a webhook, one POST is sent.
 * The row's unique key (budget, end user, period, threshold) makes the alert happen once per period across every
 * instance: only the instance whose insert created the row posts the webhook.
 *
 * Webhooks are best effort (one attempt, short timeouts, the outcome kept on the row) and SSRF-guarded: the URL is
 * checked when sent (scheme, credentials, every resolved address) and the connection re-checks the address, so a
 * webhook can never reach loopback, private networks or a cloud metadata service.
 */
import { LRUCache } from "lru-cache";
import type { Db } from "../db/client";
import { decimalToString } from "../catalog/money";
import type { Logger } from "../obs/log";
import { checkBaseUrl, type Resolver } from "../providers/ssrf";
import { createTransport, type Transport } from "../providers/transport";
import type { AppliedBudget } from "./budgets";

/**
 * The thresholds (percent) that `spent` reaches: spent ≥ limit × t / 100; nothing is reached before any spend.
 * An exhausted hard budget (it refuses calls although the last cents were never spent) reaches every threshold
 * up to 100%.
 */
export function reachedThresholds(thresholds: readonly number[], limit: bigint, spent: bigint, exhausted = false): number[] {
  return thresholds.filter((t) => (spent > 0n && spent * 100n >= limit * BigInt(t)) || (exhausted && t <= 100));
}

export interface BudgetAlertPayload {
  type: "budget.threshold_reached";
  budget: {
    id: string;
    scope: string;
    teamId: string | null;
    apiKeyId: string | null;
    endUser: string | null;
    period: string;
    hard: boolean;
    limitUsd: string;
    timezone: string;
  };
  threshold: number;
  spendUsd: string;
  periodStart: string;
  periodEnd: string | null;
  createdAt: string;
}

/** Sends one webhook; resolves with the HTTP status. */
export type WebhookSender = (url: string, payload: BudgetAlertPayload) => Promise<number>;

/** Outcome recorded on the alert row. */
type Delivery = { status: "delivered" | "failed" | "blocked"; error?: string };

export interface Alerter {
  /** Raises the alerts a spend reaches (fire and forget; never throws); `exhausted` as in reachedThresholds. */
  check(applied: AppliedBudget, spent: bigint, options?: { exhausted?: boolean }): void;
  /** Waits for alerts being recorded or sent (shutdown, tests). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface AlerterOptions {
  db: Db;
  log: Logger;
  /** Replaces the HTTP POST (tests); the SSRF check still runs first unless `resolve` says otherwise. */
  send?: WebhookSender;
  /** Name resolution for the SSRF check (tests). */
  resolve?: Resolver;
  now?: () => number;
}

export function createAlerter(options: AlerterOptions): Alerter {
  const { db, log } = options;
  const now = options.now ?? Date.now;
  // Thresholds this instance already raised (or saw raised), so steady traffic does not re-insert every time.
  const raised = new LRUCache<string, true>({ max: 20_000 });
  const pending = new Set<Promise<void>>();
  let transport: Transport | null = null;

  const post: WebhookSender =
    options.send ??
    (async (url, payload) => {
      transport ??= createTransport({ timeouts: { connectMs: 5_000, firstByteMs: 10_000, idleMs: 10_000, totalMs: 15_000 } });
      const res = await transport.request({
        url,
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "Switchyard-Budget-Alerts" },
        body: JSON.stringify(payload),
      });
      await res.text().catch(() => "");
      return res.status;
    });

  const deliver = async (url: string, payload: BudgetAlertPayload): Promise<Delivery> => {
    const check = await checkBaseUrl(url, { resolve: options.resolve });
    if (!check.ok) return { status: "blocked", error: check.message };
    try {
      const status = await post(url, payload);
      return status >= 200 && status < 300 ? { status: "delivered" } : { status: "failed", error: `HTTP ${status}` };
    } catch (error) {
      return { status: "failed", error: error instanceof Error ? error.message : String(error) };
    }
  };

  const raise = async (applied: AppliedBudget, threshold: number, spent: bigint, memo: string) => {
    const { rule, subject, window } = applied;
    const periodStart = window.start;
    try {
      const created = await db.budgetAlert.createMany({
        data: [
          {
            budgetId: rule.id,
            orgId: rule.orgId,
            subject,
            periodStart,
            threshold,
            limitUsd: decimalToString(rule.limit),
            spendUsd: decimalToString(spent),
            webhookStatus: rule.webhookUrl ? "pending" : "none",
          },
        ],
        skipDuplicates: true,
      });
      if (created.count === 0 || !rule.webhookUrl) return;
      log.info({ budget: rule.id, threshold, spendUsd: decimalToString(spent) }, "budget alert threshold reached");
      const outcome = await deliver(rule.webhookUrl, {
        type: "budget.threshold_reached",
        budget: {
          id: rule.id,
          scope: rule.scope,
          teamId: rule.teamId,
          apiKeyId: rule.apiKeyId,
          endUser: subject || rule.endUser,
          period: rule.period,
          hard: rule.hard,
          limitUsd: decimalToString(rule.limit),
          timezone: rule.timezone,
        },
        threshold,
        spendUsd: decimalToString(spent),
        periodStart: periodStart.toISOString(),
        periodEnd: window.end?.toISOString() ?? null,
        createdAt: new Date(now()).toISOString(),
      });
      if (outcome.status !== "delivered") log.warn({ budget: rule.id, threshold, outcome: outcome.status }, "budget alert webhook not delivered");
      await db.budgetAlert.updateMany({
        where: { budgetId: rule.id, subject, periodStart, threshold },
        data: { webhookStatus: outcome.status, webhookError: outcome.error?.slice(0, 500) ?? null },
      });
    } catch (error) {
      // Not recorded: forget it here so a later settlement tries again.
      raised.delete(memo);
      log.warn({ err: error, budget: rule.id, threshold }, "budget alert could not be recorded");
    }
  };

  return {
    check(applied, spent, { exhausted = false } = {}) {
      for (const threshold of reachedThresholds(applied.rule.thresholds, applied.rule.limit, spent, exhausted)) {
        const memo = `${applied.key}:${threshold}`;
        if (raised.has(memo)) continue;
        raised.set(memo, true);
        const task = raise(applied, threshold, spent, memo).finally(() => pending.delete(task));
        pending.add(task);
      }
    },
    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    async close() {
      await this.idle();
      await transport?.close();
    },
  };
}
