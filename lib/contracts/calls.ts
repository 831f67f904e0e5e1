/** The request log: filters of the Requests page (kept in the URL) and the call detail. */
import { z } from "zod";
import { id, pageInput } from "./common";

export const STATUS_CLASSES = ["2xx", "4xx", "5xx"] as const;
export const CACHE_OUTCOMES = ["hit", "semantic-hit", "miss", "bypass", "shadow", "replay", "none"] as const;

const dimension = z.string().trim().min(1).max(256).optional();

export const callFilters = z.object({
  from: z.date().optional(),
  to: z.date().optional(),
  teamId: id.optional(),
  apiKeyId: id.optional(),
  policy: dimension,
  model: dimension,
  providerKind: dimension,
  statusClass: z.enum(STATUS_CLASSES).optional(),
  /** "none": calls that were not cacheable (no outcome recorded). */
  cache: z.enum(CACHE_OUTCOMES).optional(),
});
export type CallFilters = z.infer<typeof callFilters>;

export const callListInput = pageInput.extend(callFilters.shape);
export type CallListInput = z.input<typeof callListInput>;
