/**
 * The data plane's view of configuration: loaded from the database at start and reloaded in the background
 * when the `config_version` setting changes, so no request waits on a configuration query.
 */
import type { Db } from "../db/client";
import type { Logger } from "../obs/log";

export interface SnapshotModel {
  id: string;
  ownedBy: string;
  created: number;
}

export interface ConfigSnapshot {
  version: string;
  loadedAt: number;
  models: SnapshotModel[];
}

export const CONFIG_VERSION_KEY = "config_version";

export async function loadSnapshot(db: Db): Promise<ConfigSnapshot> {
  const [version, models, policies] = await Promise.all([
    db.setting.findUnique({ where: { key: CONFIG_VERSION_KEY } }),
    db.modelOverride.findMany({
      where: { enabled: true },
      select: { modelId: true, createdAt: true, provider: { select: { name: true, enabled: true } } },
      orderBy: { modelId: "asc" },
    }),
    db.policy.findMany({ where: { enabled: true }, select: { name: true, createdAt: true }, orderBy: { name: "asc" } }),
  ]);
  return {
    version: JSON.stringify(version?.value ?? 0),
    loadedAt: Date.now(),
    models: [
      ...policies.map((p) => ({ id: p.name, ownedBy: "switchyard", created: Math.floor(p.createdAt.getTime() / 1000) })),
      ...models
        .filter((m) => m.provider?.enabled !== false)
        .map((m) => ({
          id: m.modelId,
          ownedBy: m.provider?.name ?? "custom",
          created: Math.floor(m.createdAt.getTime() / 1000),
        })),
    ],
  };
}

/** Bumps the config version; every instance reloads its snapshot within its refresh interval. */
export async function bumpConfigVersion(db: Db): Promise<void> {
  const value = Date.now();
  await db.setting.upsert({
    where: { key: CONFIG_VERSION_KEY },
    create: { key: CONFIG_VERSION_KEY, value },
    update: { value },
  });
}

export interface SnapshotHolder {
  current(): ConfigSnapshot;
  /** Checks the version now and reloads when it changed. */
  refresh(): Promise<void>;
  stop(): void;
}

export async function createSnapshotHolder(db: Db, log: Logger, intervalMs = 1_000): Promise<SnapshotHolder> {
  let snapshot = await loadSnapshot(db);
  let running: Promise<void> | null = null;
  const refresh = () => {
    running ??= (async () => {
      try {
        const row = await db.setting.findUnique({ where: { key: CONFIG_VERSION_KEY } });
        if (JSON.stringify(row?.value ?? 0) !== snapshot.version) snapshot = await loadSnapshot(db);
      } catch (error) {
        log.warn({ err: error }, "config snapshot refresh failed; serving the previous snapshot");
      } finally {
        running = null;
      }
    })();
    return running;
  };
  const timer = setInterval(refresh, intervalMs);
  timer.unref();
  return {
    current: () => snapshot,
    refresh,
    stop: () => clearInterval(timer),
  };
}
