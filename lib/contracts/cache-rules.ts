/** Response-cache rules (see server/cache/rules.ts for how a rule matches a call) and cache purges. */
import { z } from "zod";
import { id, optionalText } from "./common";

export const CACHE_ENDPOINTS = ["chat.completions", "responses", "messages", "embeddings"] as const;

const fields = {
  name: z.string().trim().min(1, "required").max(128),
  teamId: id.nullish(),
  policyId: id.nullish(),
  exact: z.boolean().default(true),
  semantic: z.boolean().default(false),
  ttlSeconds: z.number().int().min(1).max(30 * 86_400).default(3600),
  /** Cosine similarity a semantic match must reach before verification. */
  threshold: z.number().min(0.5).max(1).default(0.92),
  maxEntryBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(262_144),
  endpoints: z.array(z.enum(CACHE_ENDPOINTS)).min(1, "choose at least one endpoint").default(["chat.completions"]),
  scope: z.enum(["team", "key"]).default("team"),
  allowNonZeroTemperature: z.boolean().default(false),
  shadow: z.boolean().default(false),
  /** "local" (bundled, offline) or "<provider name>/<embedding model>". */
  embedder: z.string().trim().regex(/^(local|[^/\s]+\/\S+)$/, 'must be "local" or "<provider>/<model>"').default("local"),
  enabled: z.boolean().default(true),
};

export const cacheRuleCreateInput = z.object(fields);
export type CacheRuleCreateInput = z.input<typeof cacheRuleCreateInput>;
export const cacheRuleUpdateInput = z.object({ id, ...fields });

export const cachePurgeInput = z.object({
  ruleId: id.optional(),
  teamId: id.optional(),
  /** Only entries older than this many seconds. */
  olderThanSeconds: z.number().int().min(1).max(365 * 86_400).optional(),
  /** Why (kept in the audit log). */
  reason: optionalText(500),
});

export const cacheStatsInput = z.object({ days: z.number().int().min(1).max(90).default(7) });
