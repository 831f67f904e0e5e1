/**
 * Test helpers for the control plane: a small organization (two teams, one user per role, a user in a second
 * organization), session cookies minted the way next-auth mints them, in-process callers with a chosen user, and
 * HTTP-level calls to the tRPC handler (superjson on the wire, as the dashboard sends).
 */
import { encode } from "next-auth/jwt";
import superjson from "superjson";
import { authRuntime } from "../auth/config";
import { sessionCookieName } from "../auth/options";
import type { SessionUser } from "../auth/users";
import type { Runtime } from "../runtime";
import { ensureDefaultTenant } from "../tenant";
import { createCaller } from "./root";

export interface TestOrg {
  orgId: string;
  teamA: string;
  teamB: string;
  users: { admin: SessionUser; developerA: SessionUser; developerB: SessionUser; finance: SessionUser; outsider: SessionUser };
}

/** Creates teams "team-a" / "team-b", one user per role, and an admin of a second organization ("outsider"). */
export async function createTestOrg(rt: Runtime): Promise<TestOrg> {
  const db = rt.db.prisma;
  const { orgId } = await ensureDefaultTenant(db);
  const teamA = (await db.team.create({ data: { orgId, name: "Team A", slug: "team-a" } })).id;
  const teamB = (await db.team.create({ data: { orgId, name: "Team B", slug: "team-b" } })).id;
  const other = await db.organization.create({ data: { name: "Other org", slug: "other" } });
  const make = async (email: string, role: SessionUser["role"], teamId: string | null, org = orgId): Promise<SessionUser> =>
    db.user.create({ data: { orgId: org, email, role, teamId, name: email.split("@")[0]! }, select: { id: true, email: true, name: true, role: true, orgId: true, teamId: true } });
  return {
    orgId,
    teamA,
    teamB,
    users: {
      admin: await make("admin@example.com", "admin", null),
      developerA: await make("dev-a@example.com", "developer", teamA),
      developerB: await make("dev-b@example.com", "developer", teamB),
      finance: await make("finance@example.com", "finance", null),
      outsider: await make("outsider@example.com", "admin", null, other.id),
    },
  };
}

/** A `Cookie` header value holding a valid session for `user` (as next-auth would have set it). */
export async function sessionCookie(rt: Runtime, user: SessionUser, options: { secure?: boolean; maxAge?: number } = {}): Promise<string> {
  const auth = await authRuntime(rt);
  const token = await encode({
    secret: auth.secret,
    maxAge: options.maxAge ?? auth.maxAgeSeconds,
    token: { sub: user.id, email: user.email, name: user.name, role: user.role, orgId: user.orgId, teamId: user.teamId },
  });
  return `${sessionCookieName(options.secure ?? false)}=${token}`;
}

/** An in-process caller acting as `user` (null: signed out). */
export function callerAs(rt: Runtime, user: SessionUser | null, extra: Partial<Parameters<typeof createCaller>[0]> = {}) {
  return createCaller({ rt, user, requestId: "test", ...extra });
}

export interface HttpCall {
  path: string;
  input?: unknown;
  method?: string;
  cookie?: string;
  headers?: Record<string, string>;
  /** Raw body and content type instead of the superjson JSON body. */
  body?: BodyInit;
  host?: string;
}

/** Calls the tRPC fetch handler like the dashboard does (GET for queries, POST JSON for mutations, no batching). */
export async function trpcHttp(handler: (request: Request) => Promise<Response>, call: HttpCall) {
  const method = call.method ?? "POST";
  const host = call.host ?? "switchyard.test";
  let url = `http://${host}/api/trpc/${call.path}`;
  const headers = new Headers({ host, ...call.headers });
  if (call.cookie) headers.set("cookie", call.cookie);
  let body: BodyInit | undefined;
  if (method === "GET") {
    if (call.input !== undefined) url += `?input=${encodeURIComponent(JSON.stringify(superjson.serialize(call.input)))}`;
  } else {
    body = call.body ?? JSON.stringify(superjson.serialize(call.input));
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const response = await handler(new Request(url, { method, headers, body }));
  const text = await response.text();
  let json: { result?: { data: unknown }; error?: unknown } | null = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  const error = json?.error ? (superjson.deserialize(json.error as never) as { message: string; data: { code: string; reason: string | null } }) : null;
  const data = json?.result ? superjson.deserialize(json.result.data as never) : undefined;
  return { status: response.status, headers: response.headers, text, data, error };
}
