/**
 * Policy documents: a policy is a virtual model name ("support-bot") that apps put in `model`. Shared by the
 * gateway, the tRPC routers, the CLI and the dashboard's forms.
 */
import { z } from "zod";

/** A provider (by its configured name) and one of its models. */
export const targetRef = z.strictObject({
  provider: z.string().min(1).max(128),
  model: z.string().min(1).max(256),
});
export type TargetRef = z.infer<typeof targetRef>;

export const policyDocument = z.strictObject({
  /** `ordered`: try targets in order, falling back on retryable failures. */
  strategy: z.literal("ordered").default("ordered"),
  targets: z.array(targetRef).min(1).max(32),
  /** The model the savings baseline is priced at (what the app would have used); defaults to the first target. */
  reference: targetRef.optional(),
  /** Request parameters to drop (instead of a 400) when a target cannot honour them. */
  dropParams: z.array(z.string().min(1).max(64)).max(64).default([]),
});
export type PolicyDocument = z.infer<typeof policyDocument>;

/** Policy names look like model ids and must not contain a "/" (reserved for provider/model). */
export const policyName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "letters, digits, '.', '_', ':' or '-'");
