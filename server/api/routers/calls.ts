/**
 * The request log (Requests page): a filtered, keyset-paginated list of calls, newest first, and one call's detail
 * with its route decision and attempts. Developers see their own team's calls only (teamScope); a developer who
 * filters by another team gets FORBIDDEN. Request and response bodies (stored only when the call's policy logs them)
 * are returned by `get` only to roles that may read prompts: admins, and developers for their own team's calls —
 * finance sees costs, never bodies (`bodies` is null for them).
 */
import { callListInput, type CallFilters } from "@/lib/contracts/calls";
import { byId } from "@/lib/contracts/common";
import { normalizeDecimal } from "../../catalog";
import type { Prisma } from "../../db/generated/client";
import { assertTeamAccess, found, teamScope } from "../access";
import { memberProcedure, router } from "../trpc";
import type { SessionUser } from "../../auth/users";

const CALL_SELECT = {
  id: true,
  requestId: true,
  createdAt: true,
  teamId: true,
  apiKeyId: true,
  endUser: true,
  surface: true,
  endpoint: true,
  requestedModel: true,
  policy: true,
  providerKind: true,
  model: true,
  status: true,
  errorClass: true,
  inputTokens: true,
  cachedInputTokens: true,
  outputTokens: true,
  reasoningTokens: true,
  costUsd: true,
  baselineCostUsd: true,
  latencyMs: true,
  ttftMs: true,
  cacheOutcome: true,
  streamed: true,
  batch: true,
} as const satisfies Prisma.CallSelect;

/**
 * Whether the user may read prompt and response bodies of the calls they can see: admins, and developers (whose
 * scope is already their own team's calls). Finance users read costs, not prompts.
 */
function readsBodies(user: SessionUser): boolean {
  return user.role === "admin" || user.role === "developer";
}

const STATUS_RANGES = { "2xx": [200, 300], "4xx": [400, 500], "5xx": [500, 600] } as const;

/** The Prisma filter of the Requests page, inside the caller's scope. */
export function callWhere(user: SessionUser, filters: CallFilters): Prisma.CallWhereInput {
  if (filters.teamId) assertTeamAccess(user, filters.teamId);
  const where: Prisma.CallWhereInput = { ...teamScope(user) };
  if (filters.teamId) where.teamId = filters.teamId;
  if (filters.from || filters.to) where.createdAt = { ...(filters.from ? { gte: filters.from } : {}), ...(filters.to ? { lt: filters.to } : {}) };
  if (filters.apiKeyId) where.apiKeyId = filters.apiKeyId;
  if (filters.policy) where.policy = filters.policy;
  if (filters.model) where.model = filters.model;
  if (filters.providerKind) where.providerKind = filters.providerKind;
  if (filters.statusClass) {
    const [gte, lt] = STATUS_RANGES[filters.statusClass];
    where.status = { gte, lt };
  }
  if (filters.cache) where.cacheOutcome = filters.cache === "none" ? null : filters.cache;
  return where;
}

async function keyNames(db: Prisma.TransactionClient, orgId: string, keyIds: string[], teamIds: string[]) {
  const [keys, teams] = await Promise.all([
    db.apiKey.findMany({ where: { orgId, id: { in: keyIds } }, select: { id: true, prefix: true, name: true, kind: true } }),
    db.team.findMany({ where: { orgId, id: { in: teamIds } }, select: { id: true, name: true } }),
  ]);
  return { keys: new Map(keys.map((k) => [k.id, k])), teams: new Map(teams.map((t) => [t.id, t.name])) };
}

type CallRow = Prisma.CallGetPayload<{ select: typeof CALL_SELECT }>;

function present(row: CallRow, names: Awaited<ReturnType<typeof keyNames>>) {
  const key = row.apiKeyId ? names.keys.get(row.apiKeyId) : undefined;
  return {
    ...row,
    costUsd: normalizeDecimal(row.costUsd),
    baselineCostUsd: normalizeDecimal(row.baselineCostUsd),
    keyPrefix: key?.prefix ?? null,
    keyName: key?.name ?? null,
    /** True for a call sent from the Playground (by a user's playground key). */
    playground: key?.kind === "playground",
    teamName: row.teamId ? (names.teams.get(row.teamId) ?? null) : null,
  };
}

export const callsRouter = router({
  /** Newest first; `nextCursor` is the id of the last row when more may follow. */
  list: memberProcedure.input(callListInput).query(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const where = callWhere(ctx.user, input);
    if (input.cursor) {
      // Keyset on (createdAt, id): the cursor row is looked up inside the same scope, so it reveals nothing.
      const last = await db.call.findFirst({ where: { id: input.cursor, ...teamScope(ctx.user) }, select: { createdAt: true, id: true } });
      if (last) where.AND = [{ OR: [{ createdAt: { lt: last.createdAt } }, { createdAt: last.createdAt, id: { lt: last.id } }] }];
    }
    const rows = await db.call.findMany({ where, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: input.limit + 1, select: CALL_SELECT });
    const page = rows.slice(0, input.limit);
    const names = await keyNames(
      db,
      ctx.user.orgId,
      [...new Set(page.flatMap((r) => (r.apiKeyId ? [r.apiKeyId] : [])))],
      [...new Set(page.flatMap((r) => (r.teamId ? [r.teamId] : [])))],
    );
    return { items: page.map((row) => present(row, names)), nextCursor: rows.length > input.limit ? page[page.length - 1]!.id : null };
  }),

  /** One call with its route decision and attempts (JSON as logged). */
  get: memberProcedure.input(byId).query(async ({ ctx, input }) => {
    const db = ctx.rt.db.prisma;
    const { requestBody, responseBody, ...row } = found(
      await db.call.findFirst({ where: { id: input.id, ...teamScope(ctx.user) }, select: { ...CALL_SELECT, ...(readsBodies(ctx.user) ? { requestBody: true, responseBody: true } : {}), upstreamId: true, cacheWriteTokens: true, partial: true, estimated: true, route: true, attempts: true, savingsRoutingUsd: true, savingsCacheUsd: true, savingsPromptCacheUsd: true, savingsBatchUsd: true, savingsCapsUsd: true, savingsCompressionUsd: true } }),
      "call",
    );
    const names = await keyNames(db, ctx.user.orgId, row.apiKeyId ? [row.apiKeyId] : [], row.teamId ? [row.teamId] : []);
    return {
      ...present(row, names),
      upstreamId: row.upstreamId,
      cacheWriteTokens: row.cacheWriteTokens,
      partial: row.partial,
      estimated: row.estimated,
      savings: {
        routing: normalizeDecimal(row.savingsRoutingUsd),
        cache: normalizeDecimal(row.savingsCacheUsd),
        promptCache: normalizeDecimal(row.savingsPromptCacheUsd),
        batch: normalizeDecimal(row.savingsBatchUsd),
        caps: normalizeDecimal(row.savingsCapsUsd),
        compression: normalizeDecimal(row.savingsCompressionUsd),
      },
      route: row.route,
      attempts: row.attempts,
      /** Null for finance, and for calls whose policy does not log bodies. */
      bodies: readsBodies(ctx.user) && (requestBody != null || responseBody != null) ? { request: requestBody ?? null, response: responseBody ?? null } : null,
    };
  }),

  /** Values for the filter menus: policies, models and provider kinds seen in the last 90 days (from rollups). */
  facets: memberProcedure.query(async ({ ctx }) => {
    const since = new Date(Date.now() - 90 * 86_400_000);
    const rows = await ctx.rt.db.prisma.rollupDaily.findMany({
      where: { ...teamScope(ctx.user), day: { gte: since } },
      distinct: ["policy", "model", "providerKind"],
      select: { policy: true, model: true, providerKind: true },
    });
    const values = (pick: (r: (typeof rows)[number]) => string) => [...new Set(rows.map(pick).filter(Boolean))].sort();
    return { policies: values((r) => r.policy), models: values((r) => r.model), providerKinds: values((r) => r.providerKind) };
  }),
});
