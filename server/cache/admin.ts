/**
 * Control-plane operations on the response cache, for the tRPC routers (they check roles and tenancy first).
 * Each records what it did in the database and bumps the config version, so every instance applies it within its
 * snapshot refresh (about a second): rule edits reload the rules, purges drop matching entries from each
 * instance's memory (and from Redis), and CacheEntry rows are deleted here at once.
 */
import type { Db } from "../db/client";
import { bumpConfigVersion } from "../gateway/snapshot";

export interface PurgeRequest {
  orgId: string;
  /** Only entries stored under this rule. */
  ruleId?: string;
  /** Only entries of this team (key-scoped entries of its keys included). */
  teamId?: string;
  /** Only entries older than this many seconds; omitted = every entry that exists now. */
  olderThanSeconds?: number;
}

/**
 * Purges cache entries (exact and semantic) by rule, team and/or age, within one organization. Returns how many
 * semantic entries were deleted from the database (exact entries are removed by each instance as it applies the
 * purge, so their count is not known here). Entries stored after the call are not affected.
 */
export async function purgeCache(db: Db, request: PurgeRequest, now = new Date()): Promise<{ semanticEntries: number }> {
  const before = new Date(now.getTime() - (request.olderThanSeconds ?? 0) * 1000);
  const where = {
    orgId: request.orgId,
    createdAt: { lt: before },
    ...(request.ruleId ? { ruleId: request.ruleId } : {}),
    ...(request.teamId ? { teamId: request.teamId } : {}),
  };
  const [deleted] = await db.$transaction([
    db.cacheEntry.deleteMany({ where }),
    db.cachePurge.create({
      data: { orgId: request.orgId, ruleId: request.ruleId ?? null, teamId: request.teamId ?? null, before, createdAt: now },
    }),
  ]);
  await bumpConfigVersion(db);
  return { semanticEntries: deleted.count };
}

/**
 * Invalidates every entry of a rule at once by moving it to a new namespace generation: old entries are never
 * served again and age out with their TTL. Cheaper than a purge for a large cache. Returns the new generation.
 */
export async function bumpRuleNamespace(db: Db, orgId: string, ruleId: string): Promise<number> {
  const updated = await db.cacheRule.update({ where: { id: ruleId, orgId }, data: { namespace: { increment: 1 } }, select: { namespace: true } });
  await bumpConfigVersion(db);
  return updated.namespace;
}

/** Deletes purge records older than `keepDays` (instances only need the recent ones). */
export async function prunePurgeLog(db: Db, keepDays = 7, now = new Date()): Promise<number> {
  const result = await db.cachePurge.deleteMany({ where: { createdAt: { lt: new Date(now.getTime() - keepDays * 86_400_000) } } });
  return result.count;
}
