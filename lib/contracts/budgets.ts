/** Budgets: a spend cap per organization, team, API key or end user, with alert thresholds. */
import { z } from "zod";
import { decimalString, id, optionalText } from "./common";

export const BUDGET_SCOPES = ["organization", "team", "api_key", "end_user"] as const;
export const BUDGET_PERIODS = ["daily", "weekly", "monthly", "lifetime"] as const;

const fields = {
  scope: z.enum(BUDGET_SCOPES),
  teamId: id.nullish(),
  apiKeyId: id.nullish(),
  endUser: optionalText(256),
  period: z.enum(BUDGET_PERIODS),
  limitUsd: decimalString,
  /** true: block calls once exhausted; false: alert only. */
  hard: z.boolean().default(true),
  alertThresholds: z.array(z.number().int().min(1).max(1000)).max(10).default([50, 80, 100]),
  timezone: z.string().trim().min(1).max(64).default("UTC"),
  webhookUrl: optionalText(2048).pipe(z.url().optional()),
  enabled: z.boolean().default(true),
};

function subjectMatchesScope(b: { scope: string; teamId?: string | null; apiKeyId?: string | null }, ctx: z.RefinementCtx) {
  if (b.scope === "team" && !b.teamId) ctx.addIssue({ code: "custom", path: ["teamId"], message: "required for a team budget" });
  if (b.scope === "api_key" && !b.apiKeyId) ctx.addIssue({ code: "custom", path: ["apiKeyId"], message: "required for an API key budget" });
}

export const budgetCreateInput = z.object(fields).superRefine(subjectMatchesScope);
export type BudgetCreateInput = z.input<typeof budgetCreateInput>;

export const budgetUpdateInput = z.object({ id, ...fields }).superRefine(subjectMatchesScope);
