/**
 * Per-runtime auth state: the derived session secret, session lifetime, which sign-in methods are configured,
 * and the one-time start-up work (next-auth host detection, the first admin from the environment). Computed on
 * first use by any auth entry point (sign-in, setup page, tRPC, page guards) and then shared.
 */
import { enableNextAuthHostDetection } from "../env";
import type { Runtime } from "../runtime";
import { sessionSecretFor } from "./secret";
import { bootstrapAdminFromEnv } from "./setup";

export interface AuthRuntime {
  secret: string;
  /** Session lifetime in seconds (JWT expiry and cookie max-age). */
  maxAgeSeconds: number;
  github: { clientId: string; clientSecret: string } | null;
  oidc: { issuer: string; clientId: string; clientSecret: string; name: string; trustEmail: boolean } | null;
}

const cache = new WeakMap<Runtime, Promise<AuthRuntime>>();

export function authRuntime(rt: Runtime): Promise<AuthRuntime> {
  let entry = cache.get(rt);
  if (!entry) {
    entry = initialize(rt);
    // A failed start (database briefly down) must not be cached forever.
    entry.catch(() => cache.delete(rt));
    cache.set(rt, entry);
  }
  return entry;
}

async function initialize(rt: Runtime): Promise<AuthRuntime> {
  const { env } = rt;
  enableNextAuthHostDetection();
  await bootstrapAdminFromEnv(rt.db.prisma, env, rt.log);
  return {
    secret: sessionSecretFor(env, rt.log, rt.db.kind === "postgres"),
    maxAgeSeconds: Math.round(env.SWITCHYARD_SESSION_HOURS * 3600),
    github:
      env.SWITCHYARD_GITHUB_CLIENT_ID && env.SWITCHYARD_GITHUB_CLIENT_SECRET
        ? { clientId: env.SWITCHYARD_GITHUB_CLIENT_ID, clientSecret: env.SWITCHYARD_GITHUB_CLIENT_SECRET }
        : null,
    oidc:
      env.SWITCHYARD_OIDC_ISSUER && env.SWITCHYARD_OIDC_CLIENT_ID && env.SWITCHYARD_OIDC_CLIENT_SECRET
        ? {
            issuer: env.SWITCHYARD_OIDC_ISSUER.replace(/\/+$/, ""),
            clientId: env.SWITCHYARD_OIDC_CLIENT_ID,
            clientSecret: env.SWITCHYARD_OIDC_CLIENT_SECRET,
            name: env.SWITCHYARD_OIDC_NAME,
            trustEmail: env.SWITCHYARD_OIDC_TRUST_EMAIL,
          }
        : null,
  };
}

/** Sign-in methods shown on the sign-in page (ids as next-auth names them). */
export function ssoProviders(auth: AuthRuntime): Array<{ id: "github" | "oidc"; name: string }> {
  const out: Array<{ id: "github" | "oidc"; name: string }> = [];
  if (auth.github) out.push({ id: "github", name: "GitHub" });
  if (auth.oidc) out.push({ id: "oidc", name: auth.oidc.name });
  return out;
}
