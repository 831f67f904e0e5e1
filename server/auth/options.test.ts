import { describe, expect, it } from "vitest";
import type { Runtime } from "../runtime";
import type { AuthRuntime } from "./config";
import { authCookies, buildAuthOptions, sessionCookieName } from "./options";

const rt = { db: { prisma: {} }, state: {}, log: {} } as unknown as Runtime;
const base: AuthRuntime = { secret: "s".repeat(43), maxAgeSeconds: 3600, github: null, oidc: null };
const origin = { origin: "http://localhost:3000", host: "localhost:3000", secure: false };

describe("buildAuthOptions", () => {
  it("offers email and password only, by default", () => {
    const options = buildAuthOptions(rt, base, origin);
    expect(options.providers.map((p) => p.id)).toEqual(["credentials"]);
    expect(options.session).toMatchObject({ strategy: "jwt", maxAge: 3600 });
    expect(options.secret).toBe(base.secret);
  });

  it("adds GitHub and OIDC when configured", () => {
    const options = buildAuthOptions(
      rt,
      {
        ...base,
        github: { clientId: "gh-id", clientSecret: "gh-secret" },
        oidc: { issuer: "https://idp.example.com/realms/x", clientId: "id", clientSecret: "secret", name: "Okta", trustEmail: false },
      },
      origin,
    );
    expect(options.providers.map((p) => p.id)).toEqual(["credentials", "github", "oidc"]);
    const oidc = options.providers[2] as unknown as { wellKnown: string; name: string; profile: (p: object) => { email: string | null } };
    expect(oidc.wellKnown).toBe("https://idp.example.com/realms/x/.well-known/openid-configuration");
    expect(oidc.name).toBe("Okta");
    // An unverified email proves nothing: it is dropped, so the sign-in is refused.
    expect(oidc.profile({ sub: "1", email: "a@example.com", email_verified: false }).email).toBeNull();
    expect(oidc.profile({ sub: "1", email: "a@example.com" }).email).toBeNull();
    expect(oidc.profile({ sub: "1", email: "a@example.com", email_verified: true }).email).toBe("a@example.com");
  });

  it("trusts emails without the claim only when told to", () => {
    const options = buildAuthOptions(rt, { ...base, oidc: { issuer: "https://idp.example.com", clientId: "i", clientSecret: "s", name: "SSO", trustEmail: true } }, origin);
    const oidc = options.providers[1] as unknown as { profile: (p: object) => { email: string | null } };
    expect(oidc.profile({ sub: "1", email: "a@example.com" }).email).toBe("a@example.com");
    expect(oidc.profile({ sub: "1", email: "a@example.com", email_verified: false }).email).toBeNull();
  });
});

describe("cookies", () => {
  it("are HttpOnly and SameSite=Lax, Secure with prefixes on https", () => {
    const plain = authCookies(false);
    expect(plain.sessionToken).toEqual({ name: "switchyard.session-token", options: { httpOnly: true, sameSite: "lax", path: "/", secure: false } });
    const secure = authCookies(true);
    expect(secure.sessionToken.name).toBe(sessionCookieName(true));
    expect(secure.sessionToken.name.startsWith("__Secure-")).toBe(true);
    expect(secure.csrfToken.name.startsWith("__Host-")).toBe(true);
    for (const cookie of Object.values(secure)) expect(cookie.options).toMatchObject({ httpOnly: true, sameSite: "lax", secure: true });
  });
});
