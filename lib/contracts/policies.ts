/** Policies: a name apps put in `model`, and a document (lib/policy.ts) with targets and fallbacks. */
import { z } from "zod";
import { policyDocument, policyName } from "../policy";
import { id, optionalText } from "./common";

export { policyDocument, policyName };

export const policyCreateInput = z.object({
  name: policyName,
  description: optionalText(1000),
  /** null: every team may use it; a team id: only that team's keys. */
  teamId: id.nullable().default(null),
  enabled: z.boolean().default(true),
  document: policyDocument,
});
export type PolicyCreateInput = z.input<typeof policyCreateInput>;

/** A new `document` writes a new version; the name cannot change (apps refer to it). */
export const policyUpdateInput = z.object({
  id,
  description: z.string().trim().max(1000).nullish(),
  teamId: id.nullish(),
  enabled: z.boolean().optional(),
  document: policyDocument.optional(),
});
export type PolicyUpdateInput = z.input<typeof policyUpdateInput>;

/** Validate any JSON as a policy document: schema errors, plus references to providers and models that do not exist. */
export const policyValidateInput = z.object({ document: z.unknown() });

export const policyRollbackInput = z.object({ id, version: z.number().int().min(1) });

/** Simulate a request against a saved policy: where it would go and what it would cost, without calling upstream. */
export const policyDryRunInput = z.object({
  id,
  system: optionalText(100_000),
  prompt: z.string().trim().min(1, "required").max(100_000),
  maxTokens: z.number().int().min(1).max(10_000_000).optional(),
  temperature: z.number().min(0).max(2).optional(),
});
export type PolicyDryRunInput = z.input<typeof policyDryRunInput>;
