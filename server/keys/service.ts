/**
 * Creating and revoking API keys. Shared by the CLI, the tRPC routers and tests; every change bumps the config
 * version so each instance's auth cache drops the key within its refresh interval.
 */
import type { Db } from "../db/client";
import { bumpConfigVersion } from "../gateway/snapshot";
import { generateApiKey } from "./api-keys";

export interface CreateApiKeyInput {
  orgId: string;
  teamId: string;
  name: string;
  ownerId?: string | null;
  allowedModels?: string[];
  allowStore?: boolean;
  /** Defer every non-streaming chat request to the batch tier. */
  deferrable?: boolean;
  expiresAt?: Date | null;
  rpmLimit?: number | null;
  tpmLimit?: number | null;
}

/** Creates a key; the returned `key` is the only time the secret exists outside the caller's hands. */
export async function createApiKey(db: Db, input: CreateApiKeyInput) {
  const { key, prefix, hash } = generateApiKey();
  const record = await db.apiKey.create({
    data: {
      orgId: input.orgId,
      teamId: input.teamId,
      ownerId: input.ownerId ?? null,
      name: input.name,
      prefix,
      hash,
      allowedModels: input.allowedModels ?? [],
      allowStore: input.allowStore ?? false,
      deferrable: input.deferrable ?? false,
      expiresAt: input.expiresAt ?? null,
      rpmLimit: input.rpmLimit ?? null,
      tpmLimit: input.tpmLimit ?? null,
    },
    select: { id: true, name: true, prefix: true, teamId: true, createdAt: true, expiresAt: true, allowedModels: true },
  });
  return { key, record };
}

export async function revokeApiKey(db: Db, id: string): Promise<void> {
  await db.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
  await bumpConfigVersion(db);
}
