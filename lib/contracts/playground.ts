/** The Playground: one prompt sent through the gateway as the signed-in user (server/api/routers/playground.ts). */
import { z } from "zod";
import { id, optionalText } from "./common";

export const playgroundSendInput = z.object({
  /** A policy name, or a concrete model ("provider/model", or a model id one of the providers serves). */
  model: z.string().trim().min(1, "required").max(256),
  /**
   * The team whose playground key sends the call (budgets, rate limits and the cache are that team's). Developers
   * always use their own team; admins may pick one (default: their own, else the policy's, else the first).
   */
  teamId: id.optional(),
  system: optionalText(100_000),
  prompt: z.string().trim().min(1, "required").max(100_000),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().min(1).max(1_000_000).optional(),
  /** Skip the cache lookup for this send (Cache-Control: no-cache); a fresh answer is still stored. */
  skipCache: z.boolean().default(false),
});
export type PlaygroundSendInput = z.input<typeof playgroundSendInput>;
