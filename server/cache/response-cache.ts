/**
 * The response cache behind the pipeline's `ResponseCache` hook: exact first, then semantic, per tenant.
 *
 * Lookup (after authentication and admission, so a revoked key or an exhausted budget never reaches it):
 *   per-request controls → matching rule → cacheable? → exact store → semantic index (same partition, same
 *   context hash, nearest neighbours, threshold, verification) → hit | semantic-hit | miss | bypass | shadow.
 * Store (after a fresh, complete answer): exact store (memory LRU or Redis) and, for semantic rules, the vector
 * index and its CacheEntry row.
 *
 * Tenancy: every key starts with organization and team (and the API key when the rule scopes per key), then the
 * rule and its namespace generation, then the request's namespace — an entry never answers another tenant.
 * Shadow rules compute what would have been served and report it (outcome "shadow",
 * x-switchyard-cache-shadow and the similarity) but always answer fresh.
 */
import type { CallContext, CacheLookup, ResponseCache } from "../gateway/hooks";
import type { Runtime } from "../runtime";
import { Counter, Histogram, type Registry } from "prom-client";
import { createTransport } from "../providers/transport";
import { prunePurgeLog } from "./admin";
import { parseCacheControls, type CacheControls } from "./controls";
import { createLocalEmbedder, createProviderEmbedder, type Embedder } from "./embedder";
import { createMemoryExactStore, createRedisExactStore, storeKey, type ExactStore, type KeyParts, type StoredAnswer } from "./exact-store";
import { exactKey, semanticParts, type SemanticParts } from "./key";
import { loadRules, matchRule, notCacheableReason, type CacheRuleConfig } from "./rules";
import { matchSemantic } from "./semantic-match";
import { SemanticStore, bucketKey } from "./semantic-store";

export interface ResponseCacheOptions {
  /** Exact-cache storage; default Redis when REDIS_URL is set, else an in-memory LRU. */
  exact?: ExactStore;
  /** The embedder for a semantic rule; default: the bundled local model, or the rule's `<provider>/<model>`. */
  embedderFor?: (rule: CacheRuleConfig) => Embedder;
  now?: () => number;
  /** How often rows written by other instances and recorded purges are read (ms). */
  syncIntervalMs?: number;
}

export interface SwitchyardResponseCache extends ResponseCache {
  /** Resolves once rules, the semantic index and the exact store are loaded (or loading failed and was logged). */
  readonly ready: Promise<void>;
  /** Reloads rules and applies recorded purges (runs on every config change). */
  reload(): Promise<void>;
  /** Reads semantic entries written by other instances and recorded purges. */
  sync(): Promise<void>;
  /** Waits for background writes. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** What lookup decided, kept for the matching store() call of the same request. */
interface Decision {
  rule: CacheRuleConfig;
  parts: KeyParts;
  partition: string;
  semantic: (SemanticParts & { vector: Float32Array | null; embedder: Embedder }) | null;
}

const PURGE_OVERLAP_MS = 10_000;
/** The in-memory exact cache's bound (the semantic index has its own, see SemanticStore). */
const MEMORY_MAX_BYTES = 128 * 1024 * 1024;

const running = new WeakMap<Runtime, SwitchyardResponseCache>();

/**
 * The response cache the gateway of this process runs on `rt`, if any: the control plane (same process) can call
 * `reload()` after writing rules or purges to apply them here at once instead of at the next config refresh.
 */
export function runningResponseCache(rt: Runtime): SwitchyardResponseCache | undefined {
  return running.get(rt);
}

const BYPASS: CacheLookup = { answer: null, outcome: "bypass", headers: {}, store: false };

export function createResponseCache(rt: Runtime, options: ResponseCacheOptions = {}): SwitchyardResponseCache {
  const log = rt.log.child({ component: "response-cache" });
  const now = options.now ?? Date.now;
  const db = rt.db.prisma;
  const semantic = new SemanticStore(db, log, { now });
  const decisions = new WeakMap<CallContext, Decision>();
  const metrics = cacheMetrics(rt.metrics.registry);
  let rules = new Map<string, CacheRuleConfig[]>();
  let purgeWatermark = new Date(0);
  const appliedPurges = new Set<string>();
  let exact: ExactStore = options.exact ?? createMemoryExactStore({ now, maxBytes: MEMORY_MAX_BYTES });
  let semanticInUse = false;
  // Until the rules are known (a database failure at start), nothing is served or stored: an admin's rule may
  // forbid caching what the built-in default would cache.
  let rulesLoaded = false;

  const local = createLocalEmbedder();
  // Provider embedders call upstream through their own transport (SSRF guard and timeouts included).
  const transport = createTransport();
  const providerEmbedders = new Map<string, Embedder>();
  const embedderFor =
    options.embedderFor ??
    ((rule: CacheRuleConfig): Embedder => {
      if (rule.embedder === "local") return local;
      const id = `${rule.orgId}:${rule.embedder}`;
      let embedder = providerEmbedders.get(id);
      if (!embedder) {
        embedder = createProviderEmbedder({ transport, config: () => rt.snapshot.current(), orgId: rule.orgId, spec: rule.embedder });
        providerEmbedders.set(id, embedder);
      }
      return embedder;
    });

  const warned = new Set<string>();
  const warnOnce = (what: string, error: unknown) => {
    if (warned.has(what)) return;
    warned.add(what);
    log.warn({ err: error }, `${what}; the response cache carries on without it`);
  };

  const applyPurges = async () => {
    // Re-read a little before the watermark (purges recorded by other instances may commit out of order).
    const since = new Date(purgeWatermark.getTime() - PURGE_OVERLAP_MS);
    const purges = await db.cachePurge.findMany({ where: { createdAt: { gte: since } }, orderBy: { createdAt: "asc" } });
    for (const p of purges) {
      if (appliedPurges.has(p.id)) continue;
      appliedPurges.add(p.id);
      const filter = {
        orgId: p.orgId,
        before: p.before.getTime(),
        ...(p.teamId ? { teamId: p.teamId } : {}),
        ...(p.ruleId ? { ruleId: p.ruleId } : {}),
      };
      semantic.purge(filter);
      await exact.purge(filter).catch((error) => warnOnce("purging the exact cache failed", error));
      if (p.createdAt > purgeWatermark) purgeWatermark = p.createdAt;
    }
  };

  const reload = async () => {
    rules = await loadRules(db);
    rulesLoaded = true;
    semanticInUse = [...rules.values()].some((list) => list.some((r) => r.semantic));
    await applyPurges();
  };

  const sync = async () => {
    await applyPurges();
    if (semanticInUse) await semantic.sync();
  };

  const loading = (async () => {
    if (!options.exact && rt.env.REDIS_URL) {
      try {
        exact = await createRedisExactStore(rt.env.REDIS_URL);
      } catch (error) {
        log.error({ err: error }, "cannot connect the exact response cache to Redis; using this instance's memory");
      }
    }
    // Purges recorded before this start are already reflected in the rows the index loads, and the exact store
    // is empty (memory) or was purged by the instances running then (Redis).
    const last = await db.cachePurge.findFirst({ orderBy: { createdAt: "desc" }, select: { createdAt: true } });
    if (last) {
      purgeWatermark = last.createdAt;
      for (const p of await db.cachePurge.findMany({ where: { createdAt: { gte: new Date(last.createdAt.getTime() - PURGE_OVERLAP_MS) } }, select: { id: true } })) {
        appliedPurges.add(p.id);
      }
    }
    await reload();
    await semantic.sync();
  })();
  const ready = loading.catch((error) => {
    log.error({ err: error }, "response cache failed to load; caching stays off until its rules load (next config change)");
  });

  rt.snapshot.onChange(() => {
    void reload().catch((error) => log.error({ err: error }, "reloading cache rules failed"));
  });
  const timer = setInterval(() => {
    void sync().catch((error) => warnOnce("syncing the semantic cache failed", error));
  }, options.syncIntervalMs ?? 2_000);
  timer.unref();
  const sweeper = setInterval(() => {
    void Promise.all([semantic.sweep(), prunePurgeLog(db)]).catch((error) => warnOnce("sweeping expired cache entries failed", error));
  }, 5 * 60_000);
  sweeper.unref();

  const close = async () => {
    clearInterval(timer);
    clearInterval(sweeper);
    await semantic.flush();
    await exact.close();
    await transport.close();
  };
  rt.onShutdown(close);

  const outcome = (result: CacheLookup): CacheLookup => {
    metrics.lookups.inc({ outcome: result.outcome });
    return result;
  };

  async function lookup(call: CallContext): Promise<CacheLookup> {
    const controls = parseCacheControls(call.headers);
    await ready;
    if (!rulesLoaded) return outcome(BYPASS);
    const rule = matchRule(rules.get(call.key.orgId) ?? [], {
      orgId: call.key.orgId,
      teamId: call.key.teamId,
      policyId: call.plan.policy?.id ?? null,
      endpoint: call.endpoint,
    });
    if (notCacheableReason(rule, call.canonical) !== null) return outcome(BYPASS);
    const decision = decide(call, rule, controls);
    decisions.set(call, decision);
    const store = !controls.noStore;
    if (controls.noCache) return outcome({ answer: null, outcome: "bypass", headers: {}, store });
    const minCreatedAt = controls.maxAgeS === null ? 0 : now() - controls.maxAgeS * 1000;

    if (rule.exact) {
      const entry = await exact.get(storeKey(decision.parts)).catch((error) => {
        warnOnce("the exact cache store failed", error);
        return null;
      });
      if (entry && entry.createdAt >= minCreatedAt && entry.expiresAt > now()) {
        return outcome(served(rule, entry.answer, entry.createdAt, "hit", null, store));
      }
    }
    if (decision.semantic) {
      const same = semantic.findExact(decision.partition, decision.parts.hash, minCreatedAt);
      if (same) return outcome(served(rule, same.answer, same.createdAt, "hit", null, store));
      const { embedder } = decision.semantic;
      try {
        decision.semantic.vector = (await embedder.embed([decision.semantic.query]))[0] ?? null;
      } catch (error) {
        warnOnce(`the semantic cache embedder '${embedder.id}' failed`, error);
      }
      if (decision.semantic.vector) {
        const bucket = bucketKey(decision.partition, decision.semantic.context, embedder.id);
        const neighbours = semantic.search(bucket, decision.semantic.vector, 4, minCreatedAt);
        const match = matchSemantic(decision.semantic.query, neighbours, { threshold: rule.threshold, distanceScale: embedder.distanceScale ?? 1 });
        if (match.best !== null) metrics.similarity.observe({ decision: match.entry ? "match" : match.reason ?? "miss" }, match.best);
        if (match.entry) return outcome(served(rule, match.entry.answer, match.entry.createdAt, "semantic-hit", match.similarity, store));
      }
    }
    return outcome({ answer: null, outcome: "miss", headers: {}, store });
  }

  function decide(call: CallContext, rule: CacheRuleConfig, controls: CacheControls): Decision {
    const policyVersion = call.plan.policy ? `${call.plan.policy.id}@${call.plan.policy.version}` : null;
    const parts: KeyParts = {
      orgId: call.key.orgId,
      teamId: call.key.teamId,
      keyScope: rule.scope === "key" ? call.key.apiKeyId : "*",
      rule: rule.id ?? "default",
      generation: rule.namespace,
      namespace: controls.namespace,
      hash: exactKey(call.canonical, policyVersion),
    };
    const partition = storeKey({ ...parts, hash: "" });
    const split = rule.semantic ? semanticParts(call.canonical, policyVersion) : null;
    return { rule, parts, partition, semantic: split ? { ...split, vector: null, embedder: embedderFor(rule) } : null };
  }

  function served(
    rule: CacheRuleConfig,
    answer: StoredAnswer,
    createdAt: number,
    kind: "hit" | "semantic-hit",
    similarity: number | null,
    store: boolean,
  ): CacheLookup {
    const headers: Record<string, string> = { age: String(Math.max(0, Math.floor((now() - createdAt) / 1000))) };
    if (similarity !== null) headers["x-switchyard-cache-similarity"] = similarity.toFixed(4);
    if (rule.shadow) {
      // Would have been served: report it, answer fresh (and refresh the entry with the fresh answer).
      return { answer: null, outcome: "shadow", headers: { ...headers, "x-switchyard-cache-shadow": kind }, store };
    }
    return {
      answer: { ...answer, outcome: kind, ...(similarity !== null ? { similarity } : {}) },
      outcome: kind,
      headers,
      store: false,
    };
  }

  async function storeAnswer(call: CallContext, answer: StoredAnswer): Promise<void> {
    try {
      const decision = decisions.get(call);
      if (!decision) return;
      if (answer.response.choices.some((c) => c.finish_reason === "content_filter")) return;
      const { rule } = decision;
      const serialized = JSON.stringify(answer);
      const bytes = Buffer.byteLength(serialized);
      if (bytes > rule.maxEntryBytes) return;
      const createdAt = now();
      const ttlMs = rule.ttlSeconds * 1000;
      if (rule.exact) {
        await exact
          .set(storeKey(decision.parts), { answer, createdAt, expiresAt: createdAt + ttlMs, bytes }, ttlMs)
          .catch((error) => warnOnce("the exact cache store failed", error));
      }
      const sem = decision.semantic;
      if (sem) {
        if (!sem.vector) sem.vector = (await sem.embedder.embed([sem.query]).catch(() => []))[0] ?? null;
        if (!sem.vector) return;
        semantic.add(
          {
            id: crypto.randomUUID(),
            vector: sem.vector,
            orgId: call.key.orgId,
            teamId: call.key.teamId,
            apiKeyId: rule.scope === "key" ? call.key.apiKeyId : null,
            ruleId: rule.id,
            partition: decision.partition,
            exactKey: decision.parts.hash,
            contextHash: sem.context,
            query: sem.query,
            embedder: sem.embedder.id,
            answer,
            createdAt,
            expiresAt: createdAt + ttlMs,
            bytes,
          },
          true,
        );
      }
    } catch (error) {
      warnOnce("storing a response in the cache failed", error);
    }
  }

  const cache: SwitchyardResponseCache = {
    ready,
    reload,
    sync,
    flush: () => semantic.flush(),
    close,
    lookup,
    store: storeAnswer,
  };
  running.set(rt, cache);
  return cache;
}

function cacheMetrics(registry: Registry) {
  const existing = registry.getSingleMetric("switchyard_cache_lookups_total");
  if (existing) {
    return {
      lookups: existing as Counter<"outcome">,
      similarity: registry.getSingleMetric("switchyard_cache_semantic_similarity") as Histogram<"decision">,
    };
  }
  return {
    lookups: new Counter({
      name: "switchyard_cache_lookups_total",
      help: "Response cache lookups by outcome (hit, semantic-hit, miss, bypass, shadow).",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    similarity: new Histogram({
      name: "switchyard_cache_semantic_similarity",
      help: "Similarity of the nearest semantic-cache neighbour, by what was decided (match, below threshold, ambiguous, failed verification).",
      labelNames: ["decision"],
      buckets: [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98, 0.99, 1],
      registers: [registry],
    }),
  };
}
