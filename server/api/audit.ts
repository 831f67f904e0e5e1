/**
 * The audit log: every configuration change writes one AuditLog row (who, what, before/after, when) through
 * `recordAudit`, inside the transaction that makes the change, so a change and its record commit together.
 * Snapshots pass through `maskSecrets`: secret-named fields become "[REDACTED]" and key-shaped strings anywhere
 * are scrubbed, so not even a mistake in a caller's snapshot puts a key in the log.
 */
import type { Prisma } from "../db/generated/client";
import { scrubSecrets } from "../obs/log";
import type { DbClient } from "../tenant";

export interface AuditEntry {
  orgId: string;
  /** The user who made the change; null for the system (config file, start-up). */
  actorId: string | null;
  /** "<entity>.<verb>", e.g. "provider.update", "apiKey.revoke", "policy.rollback". */
  action: string;
  entity: string;
  entityId?: string | null;
  before?: unknown;
  after?: unknown;
}

/** Field names whose values are secrets (or hashes of them) wherever they appear. */
const SECRET_FIELD = /^(password|passwordhash|hash|key|apikey|api_key|encryptedkey|secret|clientsecret|token|authorization|cookie)$/i;

export const REDACTED = "[REDACTED]";

/** Deep copy with secret fields replaced and key-shaped substrings scrubbed; Dates become ISO strings. */
export function maskSecrets(value: unknown): Prisma.InputJsonValue | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return scrubSecrets(value);
  if (typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item));
  if (typeof value === "object") {
    // Prisma.Decimal and friends: their JSON form is their value.
    if (typeof (value as { toJSON?: unknown }).toJSON === "function") return maskSecrets((value as { toJSON(): unknown }).toJSON());
    const out: Record<string, Prisma.InputJsonValue | null> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      out[key] = SECRET_FIELD.test(key) && item !== null ? REDACTED : maskSecrets(item);
    }
    return out;
  }
  return null;
}

export async function recordAudit(db: DbClient, entry: AuditEntry): Promise<void> {
  const before = maskSecrets(entry.before);
  const after = maskSecrets(entry.after);
  await db.auditLog.create({
    data: {
      orgId: entry.orgId,
      actorId: entry.actorId,
      action: entry.action,
      entity: entry.entity,
      entityId: entry.entityId ?? null,
      ...(before !== null ? { before } : {}),
      ...(after !== null ? { after } : {}),
    },
  });
}
