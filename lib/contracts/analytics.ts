/** Dashboards: overview, time series, spend by month and breakdowns, CSV export. */
import { z } from "zod";
import { id } from "./common";

export const RANGES = ["24h", "7d", "30d", "90d"] as const;
export type Range = (typeof RANGES)[number];

export const rangeInput = z.object({
  range: z.enum(RANGES).default("7d"),
  teamId: id.optional(),
});

/** "2026-11": a calendar month (UTC). */
export const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "must be a month like 2026-11");

export const BREAKDOWNS = ["team", "apiKey", "policy", "providerKind", "model"] as const;
export type Breakdown = (typeof BREAKDOWNS)[number];

export const monthsInput = z.object({ months: z.number().int().min(1).max(36).default(12) });

export const breakdownInput = z.object({ month, by: z.enum(BREAKDOWNS) });

export const reportInput = z.object({ month });
