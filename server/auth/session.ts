/**
 * Reads the dashboard session from a request's cookies: decrypts next-auth's JWT with the derived secret, then
 * loads the user it names. A missing, tampered or expired token, or a user that no longer exists or is disabled,
 * is no session. Works from plain Headers, so tRPC, route handlers and server components share it.
 */
import { decode } from "next-auth/jwt";
import type { Runtime } from "../runtime";
import { authRuntime } from "./config";
import { sessionCookieName } from "./options";
import { requestOrigin } from "./origin";
import { loadActiveUser, type SessionUser } from "./users";

type HeaderBag = Pick<Headers, "get">;

/** Cookie header → value of `name`, joining next-auth's chunks (`name.0`, `name.1`, …) when it split a large one. */
export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  const jar = new Map<string, string>();
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    if (!jar.has(key)) jar.set(key, part.slice(eq + 1).trim());
  }
  const whole = jar.get(name);
  if (whole) return decodeURIComponent(whole);
  const chunks: string[] = [];
  for (let i = 0; jar.has(`${name}.${i}`); i += 1) chunks.push(jar.get(`${name}.${i}`)!);
  return chunks.length > 0 ? decodeURIComponent(chunks.join("")) : null;
}

/** The signed-in user of a request, or null. */
export async function readSessionUser(rt: Runtime, headers: HeaderBag): Promise<SessionUser | null> {
  const auth = await authRuntime(rt);
  const { secure } = requestOrigin(headers, rt.env);
  const token = readCookie(headers.get("cookie"), sessionCookieName(secure));
  if (!token) return null;
  let userId: string | undefined;
  try {
    userId = (await decode({ token, secret: auth.secret }))?.sub;
  } catch {
    return null; // tampered, encrypted with another secret, or expired (jose checks `exp`)
  }
  return userId ? loadActiveUser(rt.db.prisma, userId) : null;
}
