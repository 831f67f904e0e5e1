/** Building blocks of the tRPC inputs (isomorphic: the forms validate with the same schemas). */
import { z } from "zod";

/** A row id (cuid). */
export const id = z.string().min(1).max(64);

export const byId = z.object({ id });

/** Keyset pagination: `cursor` is the last id of the previous page. */
export const pageInput = z.object({
  cursor: id.nullish(),
  limit: z.number().int().min(1).max(200).default(50),
});

/** Optional free text from a form: trimmed, and "" means absent. */
export function optionalText(max: number) {
  return z
    .string()
    .trim()
    .max(max)
    .optional()
    .transform((value) => (value ? value : undefined));
}

/** A price or amount in USD (per 1M tokens for prices): a non-negative decimal string, kept exact. */
export const decimalString = z
  .string()
  .trim()
  .regex(/^\d{1,10}(\.\d{1,10})?$/, "must be a non-negative number with at most 10 decimals (e.g. 0.15)");

/** One problem found in a document: where (dotted path) and why. */
export interface Issue {
  path: string;
  message: string;
}

/** zod issues → "targets.0.model: required" style issues. */
export function toIssues(error: z.ZodError): Issue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join(".") || "(document)", message: issue.message }));
}
