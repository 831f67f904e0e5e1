/**
 * The built-in demo provider. A fresh install has no provider keys, so the README's run command would show a
 * gateway with nothing behind it; instead, when no provider exists yet, Switchyard registers a clearly labelled
 * "demo-simulator" provider (and a "demo" policy) served by the in-process provider simulator. Providers whose
 * base URL starts with `builtin://simulator` always point at that simulator, wherever it listens this time.
 */
import type { Database } from "./db/client";
import { bumpConfigVersion } from "./gateway/snapshot";
import type { Logger } from "./obs/log";
import { startSimulator, type Simulator } from "./providers/simulator";

export const BUILTIN_SIMULATOR = "builtin://simulator";

/** Creates the demo provider and policy on a fresh install (no providers at all). Returns whether it did. */
export async function seedDemo(db: Database, log: Logger): Promise<boolean> {
  if ((await db.prisma.provider.count()) > 0) return false;
  const org = await db.prisma.organization.findUniqueOrThrow({ where: { slug: "default" } });
  await db.prisma.provider.create({
    data: {
      orgId: org.id,
      name: "demo-simulator",
      kind: "simulator",
      baseUrl: `${BUILTIN_SIMULATOR}/openai/v1`,
      allowPrivate: true,
      config: { protocol: "openai", label: "Demo: simulated upstream, not a real LLM" },
    },
  });
  await db.prisma.policy.create({
    data: {
      orgId: org.id,
      name: "demo",
      description: "Demo policy: the cheap simulated model first, the larger one as fallback. Replace with real providers.",
      document: {
        targets: [
          { provider: "demo-simulator", model: "sim-small" },
          { provider: "demo-simulator", model: "sim-large" },
        ],
        reference: { provider: "demo-simulator", model: "sim-large" },
      },
    },
  });
  await bumpConfigVersion(db.prisma);
  log.info("fresh install: registered the demo-simulator provider and the 'demo' policy (simulated answers, real prices)");
  return true;
}

/** Starts the in-process simulator when some provider uses it. */
export async function startBuiltinSimulator(db: Database): Promise<Simulator | null> {
  const uses = await db.prisma.provider.count({ where: { baseUrl: { startsWith: BUILTIN_SIMULATOR } } });
  return uses > 0 ? startSimulator({ host: "127.0.0.1", port: 0 }) : null;
}

/** Rewrites a builtin:// base URL to the running simulator's address. */
export function resolveBuiltinUrl(baseUrl: string, simulatorUrl: string | null): string {
  if (!baseUrl.startsWith(BUILTIN_SIMULATOR) || !simulatorUrl) return baseUrl;
  return simulatorUrl + baseUrl.slice(BUILTIN_SIMULATOR.length);
}
