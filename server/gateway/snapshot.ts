/**
 * Holds the data plane's configuration: loaded at start and reloaded in the background when the `config_version`
 * setting changes (every control-plane write bumps it), so no request waits on a configuration query and every
 * instance converges within the refresh interval.
 */
import type { Db } from "../db/client";
import type { Logger } from "../obs/log";

export const CONFIG_VERSION_KEY = "config_version";

export async function readConfigVersion(db: Db): Promise<string> {
  const row = await db.setting.findUnique({ where: { key: CONFIG_VERSION_KEY } });
  return JSON.stringify(row?.value ?? 0);
}

/** Bumps the config version; every instance reloads its snapshot within its refresh interval. */
export async function bumpConfigVersion(db: Db): Promise<void> {
  const value = `${Date.now()}-${Math.random().toString(36).slice(2, 10)}`;
  await db.setting.upsert({
    where: { key: CONFIG_VERSION_KEY },
    create: { key: CONFIG_VERSION_KEY, value },
    update: { value },
  });
}

export interface SnapshotHolder<T> {
  current(): T;
  /** Called after each reload (config changed somewhere): caches derived from config drop their entries. */
  onChange(listener: (snapshot: T) => void): void;
  /** Checks the version now and reloads when it changed. */
  refresh(): Promise<void>;
  stop(): void;
}

export async function createSnapshotHolder<T>(options: {
  load: (version: string) => Promise<T>;
  readVersion: () => Promise<string>;
  log: Logger;
  intervalMs?: number;
}): Promise<SnapshotHolder<T>> {
  const { load, readVersion, log } = options;
  let version = await readVersion();
  let snapshot = await load(version);
  const listeners: Array<(snapshot: T) => void> = [];
  const reload = async () => {
    try {
      const latest = await readVersion();
      if (latest !== version) {
        snapshot = await load(latest);
        version = latest;
        for (const listener of listeners) listener(snapshot);
      }
    } catch (error) {
      log.warn({ err: error }, "config snapshot refresh failed; serving the previous snapshot");
    }
  };
  // At most one reload runs and one waits. A caller that bumped the version must not be handed a reload that read
  // the version before its bump, so a refresh during a reload queues a fresh one (shared by all who ask meanwhile).
  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  const refresh = (): Promise<void> => {
    if (queued) return queued;
    if (running) {
      queued = running.then(() => {
        queued = null;
        return refresh();
      });
      return queued;
    }
    running = reload().finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(refresh, options.intervalMs ?? 1_000);
  timer.unref();
  return {
    current: () => snapshot,
    onChange: (listener) => void listeners.push(listener),
    refresh,
    stop: () => clearInterval(timer),
  };
}
