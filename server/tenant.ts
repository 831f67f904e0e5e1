import type { Db } from "./db/client";
import type { Prisma } from "./db/generated/client";

/** A Prisma client or an interactive transaction's client. */
export type DbClient = Db | Prisma.TransactionClient;

/**
 * The default organization and team, created when missing: the CLI and a config file may run against a database
 * no server has started on yet (the same rows server/runtime.ts creates at start).
 */
export async function ensureDefaultTenant(db: DbClient): Promise<{ orgId: string; teamId: string }> {
  const org = await db.organization.upsert({
    where: { slug: "default" },
    create: { name: "Default organization", slug: "default" },
    update: {},
  });
  const team = await db.team.upsert({
    where: { orgId_slug: { orgId: org.id, slug: "default" } },
    create: { orgId: org.id, name: "Default team", slug: "default" },
    update: {},
  });
  return { orgId: org.id, teamId: team.id };
}
