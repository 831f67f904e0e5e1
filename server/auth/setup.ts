/**
 * First run: the first admin is created either on the /setup page or from SWITCHYARD_ADMIN_EMAIL /
 * SWITCHYARD_ADMIN_PASSWORD. Setup is open exactly while no user exists; creating the first admin runs under a
 * transaction-scoped advisory lock, so two people racing through the setup page cannot both become admin.
 */
import type { SetupInput } from "@/lib/contracts/auth";
import { recordAudit } from "../api/audit";
import type { Db } from "../db/client";
import { AppError } from "../gateway/errors";
import type { Logger } from "../obs/log";
import { ensureDefaultTenant } from "../tenant";
import { hashPassword } from "./password";
import { normalizeEmail, type SessionUser } from "./users";

/** Arbitrary constant naming the setup lock (pg advisory locks are keyed by a bigint). */
const SETUP_LOCK = 5_912_783_401;

export async function needsSetup(db: Db): Promise<boolean> {
  return (await db.user.count()) === 0;
}

/**
 * Creates the first admin, in the default organization and team.
 * @throws AppError(409, "setup_closed") when a user already exists.
 */
export async function createFirstAdmin(db: Db, input: SetupInput): Promise<SessionUser> {
  const passwordHash = await hashPassword(input.password);
  return db.$transaction(async (tx) => {
    await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${SETUP_LOCK})`);
    if ((await tx.user.count()) > 0) throw new AppError(409, "setup_closed", "Setup is complete: sign in instead");
    const { orgId, teamId } = await ensureDefaultTenant(tx);
    const user = await tx.user.create({
      data: { orgId, teamId, email: normalizeEmail(input.email), name: input.name ?? null, role: "admin", passwordHash },
      select: { id: true, email: true, name: true, role: true, orgId: true, teamId: true },
    });
    await recordAudit(tx, {
      orgId,
      actorId: user.id,
      action: "setup.first_admin",
      entity: "user",
      entityId: user.id,
      after: { email: user.email, name: user.name, role: user.role, teamId, hasPassword: true },
    });
    return user;
  });
}

/**
 * Creates the first admin from SWITCHYARD_ADMIN_EMAIL / _PASSWORD when no user exists yet. Later starts leave the
 * account alone (the password is not reset to the variable's value). Returns whether it created one.
 */
export async function bootstrapAdminFromEnv(
  db: Db,
  env: { SWITCHYARD_ADMIN_EMAIL?: string; SWITCHYARD_ADMIN_PASSWORD?: string },
  log: Logger,
): Promise<boolean> {
  const email = env.SWITCHYARD_ADMIN_EMAIL;
  const password = env.SWITCHYARD_ADMIN_PASSWORD;
  if (!email || !password || !(await needsSetup(db))) return false;
  try {
    await createFirstAdmin(db, { email, password, name: "Admin" });
  } catch (error) {
    // Another instance won the race: the admin exists, which is what we wanted.
    if (error instanceof AppError && error.code === "setup_closed") return false;
    throw error;
  }
  log.info({ email: normalizeEmail(email) }, "created the first admin from SWITCHYARD_ADMIN_EMAIL");
  return true;
}
