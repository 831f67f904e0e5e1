/**
 * Email + password sign-in. Answers are the same for an unknown email, a wrong password, a disabled account and an
 * SSO-only account (no password), and take about as long (a dummy hash is verified), so sign-in reveals nothing
 * about which emails exist. Failed attempts are counted per email in the shared state store: after
 * MAX_FAILURES within the window, further attempts are refused without checking the password.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { Db } from "../db/client";
import type { StateStore } from "../state/store";
import { hashPassword, verifyPassword } from "./password";
import { findUserForSignIn, normalizeEmail, toSessionUser, type SessionUser } from "./users";

export const MAX_FAILURES = 10;
export const FAILURE_WINDOW_MS = 15 * 60_000;

const credentialsInput = z.object({
  email: z.string().trim().min(3).max(320),
  password: z.string().min(1).max(1024),
});

export type SignInResult = { ok: true; user: SessionUser } | { ok: false; reason: "invalid" | "throttled" };

let dummyHash: Promise<string> | null = null;

function failureKey(email: string): string {
  // Hashed: the state store (Redis) should not hold a list of emails people tried.
  return `auth:failures:${createHash("sha256").update(normalizeEmail(email)).digest("hex").slice(0, 32)}`;
}

export async function checkCredentials(deps: { db: Db; state: StateStore }, raw: unknown): Promise<SignInResult> {
  const parsed = credentialsInput.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: "invalid" };
  const { email, password } = parsed.data;
  const key = failureKey(email);
  const failures = Number((await deps.state.get(key)) ?? 0);
  if (failures >= MAX_FAILURES) return { ok: false, reason: "throttled" };

  const user = await findUserForSignIn(deps.db, email);
  dummyHash ??= hashPassword(crypto.randomUUID());
  const hash = user?.passwordHash ?? (await dummyHash);
  const matches = await verifyPassword(password, hash);
  if (!user || !user.passwordHash || !matches || user.disabledAt) {
    await deps.state.incrBy(key, 1, FAILURE_WINDOW_MS);
    return { ok: false, reason: "invalid" };
  }
  await deps.state.del(key);
  return { ok: true, user: toSessionUser(user) };
}
