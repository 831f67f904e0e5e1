/**
 * Dashboard users as the auth layer sees them. Sessions carry the user's id, and every request re-reads the row,
 * so a role change or a disabled account takes effect on the next request instead of when the session expires.
 */
import type { Role } from "@/lib/roles";
import type { DbClient } from "../tenant";

/** The signed-in user, as tRPC procedures and pages receive it. */
export interface SessionUser {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  orgId: string;
  /** The team a developer acts for; admins and finance may have none. */
  teamId: string | null;
}

const SESSION_USER_SELECT = {
  id: true,
  email: true,
  name: true,
  role: true,
  orgId: true,
  teamId: true,
  disabledAt: true,
} as const;

/** Emails are stored lower-case; lookups are case-insensitive so rows written by older tools still match. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The active user with this id, or null when it does not exist or is disabled. */
export async function loadActiveUser(db: DbClient, id: string): Promise<SessionUser | null> {
  const row = await db.user.findUnique({ where: { id }, select: SESSION_USER_SELECT });
  return row && !row.disabledAt ? toSessionUser(row) : null;
}

/** The user row for an email (any case), with its password hash, for sign-in. */
export async function findUserForSignIn(db: DbClient, email: string) {
  return db.user.findFirst({
    where: { email: { equals: normalizeEmail(email), mode: "insensitive" } },
    select: { ...SESSION_USER_SELECT, passwordHash: true },
  });
}

function toSessionUser(row: { id: string; email: string; name: string | null; role: Role; orgId: string; teamId: string | null }): SessionUser {
  return { id: row.id, email: row.email, name: row.name, role: row.role, orgId: row.orgId, teamId: row.teamId };
}

export { toSessionUser };
