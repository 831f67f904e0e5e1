/**
 * Sign-in end to end through next-auth (the real /api/auth handler) and the session it leaves: first-run setup,
 * credentials, cookie flags, throttling, tampered and stale sessions, disabled users.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTrpcHandler } from "../api/http";
import { callerAs, sessionCookie, trpcHttp } from "../api/testing";
import { startTestServer, type TestServer } from "../testing/harness";
import { checkCredentials, MAX_FAILURES } from "./credentials";
import { createAuthHandler } from "./handler";

let app: TestServer;
let auth: (request: Request) => Promise<Response>;
let trpc: (request: Request) => Promise<Response>;
const HOST = "dash.test:3000";
const PASSWORD = "correct horse battery staple";

beforeAll(async () => {
  app = await startTestServer();
  auth = createAuthHandler(app.rt);
  trpc = createTrpcHandler(app.rt);
});
afterAll(() => app?.dispose());

/** Cookie jar of one browser: name → value, updated from Set-Cookie. */
class Jar {
  readonly cookies = new Map<string, string>();
  update(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === "" || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

async function signIn(jar: Jar, email: string, password: string, headers: Record<string, string> = {}) {
  const csrf = await auth(new Request(`http://${HOST}/api/auth/csrf`, { headers: { host: HOST, cookie: jar.header(), ...headers } }));
  jar.update(csrf);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const response = await auth(
    new Request(`http://${HOST}/api/auth/callback/credentials`, {
      method: "POST",
      headers: { host: HOST, cookie: jar.header(), "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams({ email, password, csrfToken, callbackUrl: "/", json: "true" }),
    }),
  );
  jar.update(response);
  return { response, body: (await response.json()) as { url: string } };
}

describe("first-run setup", () => {
  it("is open with no user, creates one admin, then closes", async () => {
    const anonymous = callerAs(app.rt, null);
    expect(await anonymous.setup.status()).toEqual({ open: true });
    // Two people racing through the setup page: exactly one becomes admin.
    const results = await Promise.allSettled([
      anonymous.setup.createAdmin({ email: "Root@Example.com", password: PASSWORD, name: "Root" }),
      anonymous.setup.createAdmin({ email: "other@example.com", password: PASSWORD }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.find((r) => r.status === "rejected")).toMatchObject({ reason: { code: "CONFLICT" } });
    expect(await anonymous.setup.status()).toEqual({ open: false });
    expect(await app.rt.db.prisma.user.count({ where: { role: "admin" } })).toBe(1);
    await expect(anonymous.setup.createAdmin({ email: "late@example.com", password: PASSWORD })).rejects.toMatchObject({ code: "CONFLICT" });
    const audit = await app.rt.db.prisma.auditLog.findFirst({ where: { action: "setup.first_admin" } });
    expect(JSON.stringify(audit)).not.toContain("scrypt$");
  });
});

describe("credentials sign-in", () => {
  it("signs in with the setup admin's email in any case and opens tRPC", async () => {
    const winner = await app.rt.db.prisma.user.findFirstOrThrow({ where: { role: "admin" } });
    const jar = new Jar();
    const { response, body } = await signIn(jar, winner.email.toUpperCase(), PASSWORD);
    expect(response.status).toBe(200);
    expect(body.url).toBe(`http://${HOST}/`);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith("switchyard.session-token="));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/);
    const me = await trpcHttp(trpc, { path: "me.get", method: "GET", cookie: jar.header(), host: HOST });
    expect(me.status).toBe(200);
    expect(me.data).toMatchObject({ id: winner.id, role: "admin" });
    expect(app.logs.text()).not.toContain(PASSWORD);
  });

  it("sets Secure, __Secure- and __Host- cookies on https", async () => {
    const winner = await app.rt.db.prisma.user.findFirstOrThrow({ where: { role: "admin" } });
    const jar = new Jar();
    const { response, body } = await signIn(jar, winner.email, PASSWORD, { "x-forwarded-proto": "https" });
    expect(body.url).toBe(`https://${HOST}/`);
    const cookies = response.headers.getSetCookie();
    expect(cookies.find((c) => c.startsWith("__Secure-switchyard.session-token="))).toMatch(/; Secure/i);
    expect([...jar.cookies.keys()]).toContain("__Host-switchyard.csrf-token");
    // The https session is read on https requests only.
    const me = await trpcHttp(trpc, { path: "me.get", method: "GET", cookie: jar.header(), host: HOST, headers: { "x-forwarded-proto": "https" } });
    expect(me.status).toBe(200);
  });

  it("refuses a wrong password with no session, and throttles after repeated failures", async () => {
    // Unique per run: failure counters live in the shared state store (Redis in CI) for 15 minutes.
    const email = `throttle-${crypto.randomUUID()}@example.com`;
    const { hashPassword } = await import("./password");
    const org = await app.rt.db.prisma.organization.findFirstOrThrow({ where: { slug: "default" } });
    await app.rt.db.prisma.user.create({ data: { email, orgId: org.id, role: "finance", passwordHash: await hashPassword(PASSWORD) } });
    const jar = new Jar();
    const wrong = await signIn(jar, email, "not the password at all");
    expect(new URL(wrong.body.url).searchParams.get("error")).toBe("CredentialsSignin");
    expect([...jar.cookies.keys()].some((k) => k.includes("session-token"))).toBe(false);
    // The remaining failures in parallel (each is a full scrypt verification).
    const failures = Array.from({ length: MAX_FAILURES - 1 }, (_, i) => checkCredentials({ db: app.rt.db.prisma, state: app.rt.state }, { email, password: `wrong ${i} xxxxxxxxxxxx` }));
    expect((await Promise.all(failures)).every((r) => !r.ok)).toBe(true);
    // Even the right password is refused now, without revealing whether it was right.
    const throttled = await signIn(jar, email, PASSWORD);
    expect(new URL(throttled.body.url).searchParams.get("error")).toBe("TooManyAttempts");
    expect([...jar.cookies.keys()].some((k) => k.includes("session-token"))).toBe(false);
  });

  it("answers an unknown email exactly like a wrong password", async () => {
    const { body } = await signIn(new Jar(), `nobody-${crypto.randomUUID()}@example.com`, PASSWORD);
    expect(new URL(body.url).searchParams.get("error")).toBe("CredentialsSignin");
  });

  it("refuses the internal log endpoint", async () => {
    const response = await auth(new Request(`http://${HOST}/api/auth/_log`, { method: "POST", headers: { host: HOST, "content-type": "application/json" }, body: "{}" }));
    expect(response.status).toBe(404);
  });
});

describe("sessions", () => {
  it("treats tampered, expired and foreign-secret tokens as signed out", async () => {
    const user = await app.rt.db.prisma.user.findFirstOrThrow({ where: { role: "admin" }, select: { id: true, email: true, name: true, role: true, orgId: true, teamId: true } });
    const valid = await sessionCookie(app.rt, user);
    const tampered = valid.slice(0, -4) + (valid.endsWith("AAAA") ? "BBBB" : "AAAA");
    const expired = await sessionCookie(app.rt, user, { maxAge: -60 });
    const { encode } = await import("next-auth/jwt");
    const foreign = `switchyard.session-token=${await encode({ secret: "another installation's secret", token: { sub: user.id } })}`;
    expect((await trpcHttp(trpc, { path: "me.get", method: "GET", cookie: valid })).status).toBe(200);
    for (const cookie of [tampered, expired, foreign, "switchyard.session-token=garbage"]) {
      const res = await trpcHttp(trpc, { path: "me.get", method: "GET", cookie });
      expect(res.status).toBe(401);
      expect(res.error?.data.code).toBe("UNAUTHORIZED");
    }
  });

  it("stops a disabled user's session at the next request, and follows role changes", async () => {
    const org = await app.rt.db.prisma.organization.findFirstOrThrow({ where: { slug: "default" } });
    const user = await app.rt.db.prisma.user.create({
      data: { email: "soon-disabled@example.com", orgId: org.id, role: "admin" },
      select: { id: true, email: true, name: true, role: true, orgId: true, teamId: true },
    });
    const cookie = await sessionCookie(app.rt, user);
    expect((await trpcHttp(trpc, { path: "users.list", method: "GET", cookie })).status).toBe(200);
    await app.rt.db.prisma.user.update({ where: { id: user.id }, data: { role: "finance" } });
    expect((await trpcHttp(trpc, { path: "users.list", method: "GET", cookie })).status).toBe(403);
    await app.rt.db.prisma.user.update({ where: { id: user.id }, data: { disabledAt: new Date() } });
    expect((await trpcHttp(trpc, { path: "me.get", method: "GET", cookie })).status).toBe(401);
  });

  it("changes a password only with the current one", async () => {
    const { hashPassword } = await import("./password");
    const org = await app.rt.db.prisma.organization.findFirstOrThrow({ where: { slug: "default" } });
    const user = await app.rt.db.prisma.user.create({
      data: { email: "changer@example.com", orgId: org.id, role: "developer", passwordHash: await hashPassword(PASSWORD) },
      select: { id: true, email: true, name: true, role: true, orgId: true, teamId: true },
    });
    const { me } = callerAs(app.rt, user);
    await expect(me.changePassword({ current: "wrong password here", next: "a brand new password" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await me.changePassword({ current: PASSWORD, next: "a brand new password" });
    const deps = { db: app.rt.db.prisma, state: app.rt.state };
    expect((await checkCredentials(deps, { email: user.email, password: PASSWORD })).ok).toBe(false);
    expect((await checkCredentials(deps, { email: user.email, password: "a brand new password" })).ok).toBe(true);
    const audit = await app.rt.db.prisma.auditLog.findFirstOrThrow({ where: { action: "user.password_change", entityId: user.id } });
    expect(JSON.stringify(audit)).not.toMatch(/scrypt|brand new/);
  });
});
