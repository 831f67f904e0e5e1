/**
 * API-key authentication for the data plane: one hash-indexed read per key, cached in memory. The cache is
 * dropped whenever the config version changes (revoking or disabling a key, or disabling a user, bumps it), so such
 * a key stops working on every instance within the snapshot refresh interval; expiry is checked on every request
 * from the cached row. A key stops with its owner: disabling a user (someone who left) pauses the keys they created.
 */
import { LRUCache } from "lru-cache";
import type { Db } from "../db/client";
import type { Prisma } from "../db/generated/client";
import { extractApiKey, hashApiKey } from "../keys/api-keys";
import { AppError } from "./errors";
import type { SnapshotHolder } from "./snapshot";

export interface AuthContext {
  apiKeyId: string;
  orgId: string;
  teamId: string;
  ownerId: string | null;
  /** Models and policies the key may use; empty = any. */
  allowedModels: string[];
  allowStore: boolean;
  rpmLimit: number | null;
  tpmLimit: number | null;
  /** The key defers all its non-streaming chat traffic to the batch tier (server/batch/defer.ts). */
  deferrable?: boolean;
}

interface CachedKey {
  context: AuthContext;
  expiresAt: number | null;
  /** Why the key is refused whatever the time (revoked, disabled, owner disabled); null: it is not. */
  refusal: string | null;
}

const UNKNOWN = Symbol("unknown");

/** What authentication reads of a key (the batch worker's loadKeys reads the same). */
export const KEY_AUTH_SELECT = {
  id: true,
  orgId: true,
  teamId: true,
  ownerId: true,
  allowedModels: true,
  allowStore: true,
  rpmLimit: true,
  tpmLimit: true,
  deferrable: true,
  expiresAt: true,
  revokedAt: true,
  disabledAt: true,
  owner: { select: { disabledAt: true } },
} as const satisfies Prisma.ApiKeySelect;

export type KeyAuthRow = Prisma.ApiKeyGetPayload<{ select: typeof KEY_AUTH_SELECT }>;

export function authContextOf(row: KeyAuthRow): AuthContext {
  return {
    apiKeyId: row.id,
    orgId: row.orgId,
    teamId: row.teamId,
    ownerId: row.ownerId,
    allowedModels: row.allowedModels,
    allowStore: row.allowStore,
    rpmLimit: row.rpmLimit,
    tpmLimit: row.tpmLimit,
    deferrable: row.deferrable,
  };
}

/** Why a key is refused whatever the time (expiry is checked per request); null: it is not. */
export type KeyRefusal = "revoked" | "disabled" | "owner_disabled";

export function keyRefusal(row: Pick<KeyAuthRow, "revokedAt" | "disabledAt" | "owner">): KeyRefusal | null {
  if (row.revokedAt) return "revoked";
  if (row.disabledAt) return "disabled";
  if (row.owner?.disabledAt) return "owner_disabled";
  return null;
}

const REFUSALS: Record<KeyRefusal, string> = {
  revoked: "This API key has been revoked",
  disabled: "This API key is disabled",
  owner_disabled: "This API key's owner is disabled",
};

export interface Authenticator {
  authenticate(headers: Headers, now?: number): Promise<AuthContext>;
  clear(): void;
}

export function createAuthenticator(db: Db, snapshot: SnapshotHolder<unknown>): Authenticator {
  // Unknown hashes are cached briefly too, so a flood of bad keys cannot turn into a flood of queries.
  const cache = new LRUCache<string, CachedKey | typeof UNKNOWN>({ max: 50_000, ttl: 60_000 });
  snapshot.onChange(() => cache.clear());

  const load = async (hash: string): Promise<CachedKey | typeof UNKNOWN> => {
    const row = await db.apiKey.findUnique({ where: { hash }, select: KEY_AUTH_SELECT });
    if (!row) return UNKNOWN;
    const refusal = keyRefusal(row);
    return {
      context: authContextOf(row),
      expiresAt: row.expiresAt?.getTime() ?? null,
      refusal: refusal && REFUSALS[refusal],
    };
  };

  return {
    clear: () => cache.clear(),
    async authenticate(headers, now = Date.now()) {
      const key = extractApiKey(headers);
      if (!key) {
        throw new AppError(401, "invalid_api_key", "Missing API key: send it as 'Authorization: Bearer <key>' or 'x-api-key'");
      }
      const hash = hashApiKey(key);
      let entry = cache.get(hash);
      if (entry === undefined) {
        entry = await load(hash);
        cache.set(hash, entry, entry === UNKNOWN ? { ttl: 2_000 } : {});
      }
      if (entry === UNKNOWN) throw new AppError(401, "invalid_api_key", "Invalid API key");
      if (entry.refusal) throw new AppError(401, "invalid_api_key", entry.refusal);
      if (entry.expiresAt !== null && entry.expiresAt <= now) throw new AppError(401, "invalid_api_key", "This API key has expired");
      return entry.context;
    },
  };
}
