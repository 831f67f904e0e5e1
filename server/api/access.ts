/**
 * Object-level access: which rows a signed-in user may see or change. Every query is limited to the user's
 * organization; developers are further limited to their own team. Rows outside the scope are reported as
 * NOT_FOUND when addressed by id (no existence oracle), and as FORBIDDEN when a developer names another team
 * explicitly (a team filter or a key created "for" another team).
 */
import { TRPCError } from "@trpc/server";
import type { SessionUser } from "../auth/users";
import type { Db } from "../db/client";

/** A team id no row has (ids are cuids): developers without a team see nothing team-scoped. */
export const NO_TEAM = "no-team:none";

/** Whether the user acts across every team of the organization (admins, finance) or only their own (developers). */
export function seesAllTeams(user: SessionUser): boolean {
  return user.role !== "developer";
}

/** Prisma `where` fragment for team-owned rows (ApiKey, Call, Budget…): org always, team for developers. */
export function teamScope(user: SessionUser): { orgId: string; teamId?: string } {
  return seesAllTeams(user) ? { orgId: user.orgId } : { orgId: user.orgId, teamId: user.teamId ?? NO_TEAM };
}

/**
 * Prisma `where` fragment for rows that are org-wide or belong to one team (Policy, CacheRule): developers see the
 * org-wide ones and their own team's.
 */
export function sharedOrTeamScope(user: SessionUser): { orgId: string; OR?: Array<{ teamId: string | null }> } {
  if (seesAllTeams(user)) return { orgId: user.orgId };
  return { orgId: user.orgId, OR: [{ teamId: null }, { teamId: user.teamId ?? NO_TEAM }] };
}

/** FORBIDDEN unless the user may act for `teamId` (developers: only their own team). */
export function assertTeamAccess(user: SessionUser, teamId: string): void {
  if (!seesAllTeams(user) && teamId !== user.teamId) {
    throw new TRPCError({ code: "FORBIDDEN", message: "You can only act for your own team" });
  }
}

/** The team, checked to exist in the user's organization and to be accessible to the user. */
export async function requireTeam(db: Db, user: SessionUser, teamId: string): Promise<{ id: string; name: string; slug: string }> {
  assertTeamAccess(user, teamId);
  const team = await db.team.findFirst({ where: { id: teamId, orgId: user.orgId }, select: { id: true, name: true, slug: true } });
  if (!team) throw new TRPCError({ code: "NOT_FOUND", message: "No such team" });
  return team;
}

/** NOT_FOUND for a missing row (or one outside the caller's scope, which looks the same). */
export function found<T>(row: T | null | undefined, what: string): T {
  if (row === null || row === undefined) throw new TRPCError({ code: "NOT_FOUND", message: `No such ${what}` });
  return row;
}
