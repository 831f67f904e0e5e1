/**
 * next-auth options for one request: credentials (email + password) always, GitHub and OpenID Connect when their
 * variables are set. Sessions are JWTs (encrypted, A256GCM) in an HttpOnly, SameSite=Lax cookie, Secure with the
 * __Secure- / __Host- prefixes on https. The token carries the user's id, organization, team and role; the
 * server re-reads the user on every request (server/auth/session.ts), so these claims are for display only.
 * SSO signs in existing users only, matched by a verified email: accounts are created by an admin.
 */
import type { AuthOptions, CookiesOptions, User } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import GitHubProvider from "next-auth/providers/github";
import type { OAuthConfig } from "next-auth/providers/oauth";
import type { Role } from "@/lib/roles";
import type { Runtime } from "../runtime";
import { scrubSecrets } from "../obs/log";
import type { AuthRuntime } from "./config";
import { checkCredentials } from "./credentials";
import type { RequestOrigin } from "./origin";
import { findUserForSignIn, loadActiveUser } from "./users";

/** Error code shown on the sign-in page when too many attempts failed. */
export const THROTTLED_ERROR = "TooManyAttempts";

export function sessionCookieName(secure: boolean): string {
  return `${secure ? "__Secure-" : ""}switchyard.session-token`;
}

export function authCookies(secure: boolean): CookiesOptions {
  const prefix = secure ? "__Secure-" : "";
  const options = { httpOnly: true, sameSite: "lax", path: "/", secure } as const;
  const shortLived = { ...options, maxAge: 15 * 60 };
  return {
    sessionToken: { name: sessionCookieName(secure), options },
    callbackUrl: { name: `${prefix}switchyard.callback-url`, options },
    // __Host-: only this exact origin may set or read it (no Domain attribute, path /).
    csrfToken: { name: `${secure ? "__Host-" : ""}switchyard.csrf-token`, options },
    pkceCodeVerifier: { name: `${prefix}switchyard.pkce.code_verifier`, options: shortLived },
    state: { name: `${prefix}switchyard.state`, options: shortLived },
    nonce: { name: `${prefix}switchyard.nonce`, options },
  };
}

interface OidcProfile {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  preferred_username?: string;
}

function oidcProvider(oidc: NonNullable<AuthRuntime["oidc"]>): OAuthConfig<OidcProfile> {
  return {
    id: "oidc",
    name: oidc.name,
    type: "oauth",
    wellKnown: `${oidc.issuer}/.well-known/openid-configuration`,
    authorization: { params: { scope: "openid email profile" } },
    idToken: true,
    checks: ["pkce", "state"],
    clientId: oidc.clientId,
    clientSecret: oidc.clientSecret,
    profile(profile) {
      // An unverified email proves nothing about who signs in: drop it, so the sign-in is refused below.
      const verified = profile.email_verified === true || (oidc.trustEmail && profile.email_verified !== false);
      return { id: profile.sub, email: verified ? (profile.email ?? null) : null, name: profile.name ?? profile.preferred_username ?? null };
    },
  };
}

export function buildAuthOptions(rt: Runtime, auth: AuthRuntime, origin: RequestOrigin): AuthOptions {
  const db = rt.db.prisma;
  const providers: AuthOptions["providers"] = [
    CredentialsProvider({
      id: "credentials",
      name: "Email and password",
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(credentials) {
        const result = await checkCredentials({ db, state: rt.state }, credentials);
        if (result.ok) {
          rt.log.info({ userId: result.user.id, method: "credentials" }, "dashboard sign-in");
          return { id: result.user.id, email: result.user.email, name: result.user.name };
        }
        if (result.reason === "throttled") throw new Error(THROTTLED_ERROR);
        return null;
      },
    }),
  ];
  if (auth.github) providers.push(GitHubProvider({ clientId: auth.github.clientId, clientSecret: auth.github.clientSecret }));
  if (auth.oidc) providers.push(oidcProvider(auth.oidc));

  return {
    secret: auth.secret,
    providers,
    session: { strategy: "jwt", maxAge: auth.maxAgeSeconds },
    jwt: { maxAge: auth.maxAgeSeconds },
    useSecureCookies: origin.secure,
    cookies: authCookies(origin.secure),
    pages: { signIn: "/sign-in", error: "/sign-in" },
    callbacks: {
      async signIn({ user, account }) {
        if (account?.provider === "credentials") return true;
        // SSO: only an existing, enabled account with this (verified) email may sign in.
        if (!user.email) return false;
        const row = await findUserForSignIn(db, user.email);
        if (!row || row.disabledAt) {
          rt.log.info({ method: account?.provider }, "SSO sign-in refused: no active user with that email");
          return false;
        }
        rt.log.info({ userId: row.id, method: account?.provider }, "dashboard sign-in");
        return true;
      },
      async jwt({ token, user, account, trigger }) {
        // Only a sign-in sets claims; a client-sent session update (trigger "update") is ignored on purpose.
        if ((trigger !== "signIn" && trigger !== "signUp") || !user) return token;
        const row = account?.provider === "credentials" ? await loadActiveUser(db, user.id) : await ssoUser(user);
        if (!row) return token;
        return { sub: row.id, email: row.email, name: row.name, role: row.role, orgId: row.orgId, teamId: row.teamId };
      },
      async session({ session, token }) {
        session.user = {
          id: token.sub ?? "",
          email: token.email ?? "",
          name: token.name ?? null,
          role: token.role as Role,
          orgId: token.orgId as string,
          teamId: (token.teamId as string | null) ?? null,
        };
        return session;
      },
    },
    logger: {
      // next-auth's metadata can hold request details; keep the code and a scrubbed message only.
      error: (code, metadata) =>
        rt.log.warn({ code, reason: scrubSecrets(metadata instanceof Error ? metadata.message : String((metadata as { message?: unknown })?.message ?? "")) }, "auth error"),
      warn: (code) => rt.log.debug({ code }, "auth warning"),
      debug: () => {},
    },
  };

  async function ssoUser(user: User) {
    const row = user.email ? await findUserForSignIn(db, user.email) : null;
    return row ? loadActiveUser(db, row.id) : null;
  }
}
