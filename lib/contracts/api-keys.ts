/** Switchyard API keys: created for a team, shown once, listed by prefix, paused and resumed, revoked. */
import { z } from "zod";
import { id } from "./common";

export const apiKeyCreateInput = z.object({
  name: z.string().trim().min(1, "required").max(128),
  teamId: id,
  /** Models and policies the key may use; empty = all of its team's. */
  allowedModels: z.array(z.string().trim().min(1).max(256)).max(64).default([]),
  allowStore: z.boolean().default(false),
  /** Every non-streaming chat request of this key goes to the batch tier (answered within a day, at batch prices). */
  deferrable: z.boolean().default(false),
  expiresAt: z.date().nullish(),
  rpmLimit: z.number().int().positive().max(1_000_000).nullish(),
  tpmLimit: z.number().int().positive().max(1_000_000_000).nullish(),
});
export type ApiKeyCreateInput = z.input<typeof apiKeyCreateInput>;

export const apiKeyListInput = z.object({
  /** Admins and finance may filter by team; developers only ever see their own team. */
  teamId: id.optional(),
  includeRevoked: z.boolean().default(false),
});

/** Pause (disabled: true) or resume a key. */
export const apiKeySetDisabledInput = z.object({ id, disabled: z.boolean() });
