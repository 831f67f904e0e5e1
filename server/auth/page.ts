/**
 * Guards for server components (pages and layouts): the signed-in user from the request's cookies, a redirect to
 * /sign-in without one, and to /setup while no user exists. Pages declare the access level they need; data still
 * comes through tRPC, which checks again on every call.
 */
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { allows, type AccessLevel } from "@/lib/roles";
import { getRuntime } from "../runtime";
import { authRuntime } from "./config";
import { readSessionUser } from "./session";
import { needsSetup } from "./setup";
import type { SessionUser } from "./users";

/** The signed-in user, or null (no redirect). */
export async function getPageUser(): Promise<SessionUser | null> {
  const rt = await getRuntime();
  return readSessionUser(rt, await headers());
}

/** The signed-in user; redirects to /setup (no user exists yet) or /sign-in (signed out). */
export async function requirePageUser(): Promise<SessionUser> {
  const rt = await getRuntime();
  await authRuntime(rt);
  const user = await readSessionUser(rt, await headers());
  if (user) return user;
  if (await needsSetup(rt.db.prisma)) redirect("/setup");
  redirect("/sign-in");
}

/** The signed-in user and whether their role passes `level` (a page renders <Forbidden /> when it does not). */
export async function requirePageAccess(level: AccessLevel): Promise<{ user: SessionUser; allowed: boolean }> {
  const user = await requirePageUser();
  return { user, allowed: allows(level, user.role) };
}
