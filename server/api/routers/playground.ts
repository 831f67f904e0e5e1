/**
 * The Playground: a dashboard user sends one prompt through a policy (or a concrete model) and sees the answer, the
 * route, the cost, the savings and the cache outcome. Admins and developers (developers: their own team only).
 *
 * Identity (the design decision): each user gets one internal **playground key** per team, an ApiKey row with
 * kind "playground", created on first use. Its secret is generated and thrown away at once (only the hash is
 * stored, as for every key), so it can never be presented over HTTP or exported; the call is run in-process through
 * the gateway's own pipeline (server/gateway/playground.ts) under that key's identity. Because it is a real key of
 * the team, everything applies as for an application's call: the team's and organization's budgets (and a budget
 * set on the key itself), rate limits (the key has its own 60 requests/minute), cache tenancy, routing and health,
 * and the call log — the row carries the playground key's id, which is how Requests tags it "Playground".
 * Revoking a playground key rotates it (the next send creates a fresh one); to keep someone out of the Playground,
 * change their role or disable them.
 *
 * `send` is a mutation (POST, so the cross-site checks apply, and never replayed by a cache) that changes no
 * configuration: `changesConfig: false` keeps it from bumping the config version.
 */
import { TRPCError } from "@trpc/server";
import { playgroundSendInput } from "@/lib/contracts/playground";
import type { SessionUser } from "../../auth/users";
import { normalizeDecimal } from "../../catalog";
import type { Db } from "../../db/client";
import type { AuthContext } from "../../gateway/auth";
import { createGatewayHandler } from "../../gateway/handler";
import { playgroundEntry, type PlaygroundEntry } from "../../gateway/playground";
import { generateApiKey } from "../../keys/api-keys";
import type { Runtime } from "../../runtime";
import { assertTeamAccess, NO_TEAM, requireTeam, sharedOrTeamScope } from "../access";
import { recordAudit } from "../audit";
import { developerProcedure, router } from "../trpc";

export const PLAYGROUND_KIND = "playground";
/** Requests per minute of a playground key: plenty for a person, a brake on a script driving the dashboard. */
export const PLAYGROUND_RPM = 60;

/** The gateway's playground entry for this runtime (built here when no gateway handler exists yet, e.g. `next dev`). */
function entryFor(rt: Runtime): PlaygroundEntry {
  const existing = playgroundEntry(rt);
  if (existing) return existing;
  createGatewayHandler(rt);
  return playgroundEntry(rt)!;
}

/** The team a send runs as: developers their own; admins the one asked for, else theirs, else the policy's, else the first. */
async function sendingTeam(db: Db, user: SessionUser, teamId: string | undefined, model: string) {
  if (teamId) return requireTeam(db, user, teamId);
  if (user.role === "developer") {
    if (!user.teamId) throw new TRPCError({ code: "PRECONDITION_FAILED", message: "You are not in a team yet: ask an admin to add you to one" });
    return requireTeam(db, user, user.teamId);
  }
  if (user.teamId) return requireTeam(db, user, user.teamId);
  const policy = await db.policy.findFirst({ where: { orgId: user.orgId, name: model }, select: { teamId: true } });
  if (policy?.teamId) return requireTeam(db, user, policy.teamId);
  const first = await db.team.findFirst({ where: { orgId: user.orgId }, orderBy: { createdAt: "asc" }, select: { id: true, name: true, slug: true } });
  if (!first) throw new TRPCError({ code: "PRECONDITION_FAILED", message: "Create a team first: playground calls are billed to a team" });
  return first;
}

const KEY_FIELDS = { id: true, orgId: true, teamId: true, ownerId: true, rpmLimit: true, tpmLimit: true } as const;

/** The user's playground key for the team, created (and audited) on first use or after a revocation. */
async function playgroundKey(db: Db, user: SessionUser, teamId: string): Promise<AuthContext> {
  const where = { orgId: user.orgId, teamId, ownerId: user.id, kind: PLAYGROUND_KIND, revokedAt: null };
  let row = await db.apiKey.findFirst({ where, orderBy: { createdAt: "desc" }, select: KEY_FIELDS });
  if (!row) {
    // The secret is dropped here: only its hash is stored, so this key works through the playground entry only.
    const { hash } = generateApiKey();
    row = await db.$transaction(async (tx) => {
      const created = await tx.apiKey.create({
        data: { orgId: user.orgId, teamId, ownerId: user.id, name: `Playground · ${user.email}`, prefix: PLAYGROUND_KIND, hash, kind: PLAYGROUND_KIND, rpmLimit: PLAYGROUND_RPM },
        select: KEY_FIELDS,
      });
      await recordAudit(tx, {
        orgId: user.orgId,
        actorId: user.id,
        action: "apiKey.create",
        entity: "apiKey",
        entityId: created.id,
        after: { name: `Playground · ${user.email}`, kind: PLAYGROUND_KIND, teamId, rpmLimit: PLAYGROUND_RPM },
      });
      return created;
    });
  }
  return { apiKeyId: row.id, orgId: row.orgId, teamId: row.teamId, ownerId: row.ownerId, allowedModels: [], allowStore: false, rpmLimit: row.rpmLimit, tpmLimit: row.tpmLimit };
}

/** The call-log row of a request, once the (batched) writer has written it: the answer shows what was logged. */
async function loggedCall(rt: Runtime, requestId: string, apiKeyId: string) {
  for (let i = 0; i < 3; i++) {
    await rt.calls.flush();
    const row = await rt.db.prisma.call.findFirst({
      where: { requestId, apiKeyId },
      select: {
        id: true, status: true, errorClass: true, policy: true, providerKind: true, model: true, inputTokens: true, outputTokens: true,
        cachedInputTokens: true, costUsd: true, baselineCostUsd: true, savingsRoutingUsd: true, savingsCacheUsd: true, savingsPromptCacheUsd: true,
        savingsBatchUsd: true, savingsCapsUsd: true, savingsCompressionUsd: true, latencyMs: true, cacheOutcome: true, estimated: true, route: true, attempts: true,
      },
    });
    if (row) {
      const { savingsRoutingUsd, savingsCacheUsd, savingsPromptCacheUsd, savingsBatchUsd, savingsCapsUsd, savingsCompressionUsd, ...rest } = row;
      return {
        ...rest,
        costUsd: normalizeDecimal(row.costUsd),
        baselineCostUsd: normalizeDecimal(row.baselineCostUsd),
        savings: {
          routing: normalizeDecimal(savingsRoutingUsd),
          cache: normalizeDecimal(savingsCacheUsd),
          promptCache: normalizeDecimal(savingsPromptCacheUsd),
          batch: normalizeDecimal(savingsBatchUsd),
          caps: normalizeDecimal(savingsCapsUsd),
          compression: normalizeDecimal(savingsCompressionUsd),
        },
      };
    }
  }
  return null;
}

interface ChatAnswer {
  model?: string;
  choices?: Array<{ message?: { content?: string | null; refusal?: string | null }; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
  error?: { message?: string; code?: string | null; type?: string };
}

/** Response headers worth showing: Switchyard's own (route, cost, cache) and the rate-limit ones. */
function gatewayHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name.startsWith("x-switchyard-") || name.startsWith("x-ratelimit-") || name === "retry-after") out[name] = value;
  });
  return out;
}

export const playgroundRouter = router({
  /** What the form offers: the policies the user may send through and the teams they may send as. */
  options: developerProcedure.query(async ({ ctx }) => {
    const db = ctx.rt.db.prisma;
    const teamWhere = ctx.user.role === "developer" ? { orgId: ctx.user.orgId, id: ctx.user.teamId ?? NO_TEAM } : { orgId: ctx.user.orgId };
    const [policies, teams] = await Promise.all([
      db.policy.findMany({
        where: { ...sharedOrTeamScope(ctx.user), enabled: true },
        orderBy: { name: "asc" },
        select: { id: true, name: true, description: true, teamId: true, team: { select: { name: true } } },
      }),
      db.team.findMany({ where: teamWhere, orderBy: { name: "asc" }, select: { id: true, name: true } }),
    ]);
    return { policies, teams, defaultTeamId: ctx.user.teamId ?? null };
  }),

  send: developerProcedure
    .meta({ changesConfig: false })
    .input(playgroundSendInput)
    .mutation(async ({ ctx, input }) => {
      const db = ctx.rt.db.prisma;
      if (input.teamId) assertTeamAccess(ctx.user, input.teamId);
      const team = await sendingTeam(db, ctx.user, input.teamId, input.model);
      const identity = await playgroundKey(db, ctx.user, team.id);
      const requestId = crypto.randomUUID();
      const body = {
        model: input.model,
        messages: [...(input.system ? [{ role: "system", content: input.system }] : []), { role: "user", content: input.prompt }],
        ...(input.temperature !== undefined ? { temperature: input.temperature } : {}),
        ...(input.maxTokens !== undefined ? { max_tokens: input.maxTokens } : {}),
        stream: false,
      };
      const response = await entryFor(ctx.rt)({
        identity,
        body,
        requestId,
        headers: input.skipCache ? { "cache-control": "no-cache" } : {},
      });
      let answer: ChatAnswer = {};
      try {
        answer = (await response.json()) as ChatAnswer;
      } catch {
        answer = { error: { message: "The gateway answered something that is not JSON" } };
      }
      const choice = response.ok ? answer.choices?.[0] : undefined;
      return {
        requestId,
        status: response.status,
        team,
        answer: choice
          ? { content: choice.message?.content ?? choice.message?.refusal ?? "", finishReason: choice.finish_reason ?? null, model: answer.model ?? null }
          : null,
        error: response.ok ? null : { code: answer.error?.code ?? null, message: answer.error?.message ?? `HTTP ${response.status}` },
        usage: answer.usage ?? null,
        headers: gatewayHeaders(response.headers),
        call: await loggedCall(ctx.rt, requestId, identity.apiKeyId),
      };
    }),
});
