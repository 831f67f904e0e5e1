/**
 * The routing services of one process, created on first use for a Runtime: the health tracker (on rt.state, so
 * instances sharing Redis share it) and the learned cascade classifiers — loaded from RoutingModel rows in the
 * background (a request never waits on the database) and retrained from Feedback as it accumulates, one instance
 * at a time (a lock in the state store), off the request path and yielding to the event loop while it trains.
 */
import type { Runtime } from "../runtime";
import { localEmbedder } from "../embeddings/local";
import { withEmbeddings } from "./classifier/embedding";
import { decodeCounts, hashedNgrams, type FeatureExtractor } from "./classifier/features";
import {
  deserializeModel,
  learnedClassifier,
  serializeModel,
  trainLearned,
  type LearnedClassifier,
  type LearnedMetrics,
  type StoredModel,
  type TrainingDocument,
} from "./classifier/learned";
import { createHealthTracker, type HealthOptions, type HealthTracker } from "./health";
import type { RoutingServices } from "./resolve";
import { createPrefixAffinity } from "../cache/prefix-affinity";

export interface RoutingOptions {
  health?: Partial<HealthOptions>;
  /** How often a process looks for a newer trained model of a policy it uses. */
  modelRefreshMs?: number;
  /** New feedback samples on a policy that trigger a retraining. */
  retrainEvery?: number;
  /** Most feedback rows a training reads (the newest). */
  maxTrainingRows?: number;
  now?: () => number;
  random?: () => number;
  /** Prefix-sticky routing (server/cache/prefix-affinity.ts): options, or false to turn it off. */
  affinity?: { ttlMs?: number } | false;
  /** Features of learned cascades; default: hashed n-grams plus the local USE-lite embedding. */
  extractor?: FeatureExtractor;
}

export interface ClassifierStore {
  /** The policy's trained classifier from the local cache; a stale or missing entry is (re)loaded in the background. */
  get(orgId: string, policy: string): LearnedClassifier | null;
  /** Loads the newest stored model now. */
  reload(orgId: string, policy: string): Promise<LearnedClassifier | null>;
  /** Trains from the policy's feedback and stores the model; null when there is too little feedback. */
  train(orgId: string, policy: string): Promise<LearnedMetrics | null>;
  /** Counts a feedback sample; every `retrainEvery` samples a background retraining starts. */
  noteFeedback(orgId: string, policy: string): void;
  /** Waits for background loads and trainings (tests, shutdown). */
  idle(): Promise<void>;
}

export interface RoutingEngine extends RoutingServices {
  health: HealthTracker;
  classifiers: ClassifierStore;
}

const engines = new WeakMap<Runtime, RoutingEngine>();

/** The routing engine of a runtime (created with default options on first use). */
export function routingFor(rt: Runtime): RoutingEngine {
  let engine = engines.get(rt);
  if (!engine) {
    engine = createRoutingEngine(rt);
    engines.set(rt, engine);
  }
  return engine;
}

/** Replaces a runtime's engine with one built from `options` (tests: short breaker cool-downs, a fake clock). */
export function configureRouting(rt: Runtime, options: RoutingOptions): RoutingEngine {
  const engine = createRoutingEngine(rt, options);
  engines.set(rt, engine);
  return engine;
}

export function createRoutingEngine(rt: Runtime, options: RoutingOptions = {}): RoutingEngine {
  const now = options.now ?? Date.now;
  const health = createHealthTracker(rt.state, { now, ...options.health });
  const extractor = options.extractor ?? withEmbeddings(localEmbedder);
  const classifiers = createClassifierStore(rt, extractor, options, now);
  return {
    health,
    classifiers,
    extractor,
    learned: (orgId, policy) => classifiers.get(orgId, policy),
    affinity: options.affinity === false ? null : createPrefixAffinity(rt.state, typeof options.affinity === "object" ? options.affinity : {}),
    now,
    random: options.random ?? Math.random,
  };
}

/** The lexical extractor that models trained before sentence embeddings were added used. */
const LEXICAL = hashedNgrams();

interface CachedModel {
  classifier: LearnedClassifier | null;
  loadedAt: number;
  loading: Promise<LearnedClassifier | null> | null;
}

function createClassifierStore(rt: Runtime, extractor: FeatureExtractor, options: RoutingOptions, now: () => number): ClassifierStore {
  const refreshMs = options.modelRefreshMs ?? 60_000;
  const retrainEvery = options.retrainEvery ?? 50;
  const maxRows = options.maxTrainingRows ?? 20_000;
  const cache = new Map<string, CachedModel>();
  const background = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    background.add(p);
    void p.finally(() => background.delete(p)).catch(() => {});
    return p;
  };
  const keyOf = (orgId: string, policy: string) => `${orgId}\u0000${policy}`;

  const load = (orgId: string, policy: string): Promise<LearnedClassifier | null> => {
    const key = keyOf(orgId, policy);
    let entry = cache.get(key);
    if (!entry) {
      entry = { classifier: null, loadedAt: Number.NEGATIVE_INFINITY, loading: null };
      cache.set(key, entry);
    }
    const target = entry;
    target.loading ??= track(
      (async () => {
        try {
          const row = await rt.db.prisma.routingModel.findUnique({ where: { orgId_policy: { orgId, policy } } });
          const stored = row?.model as StoredModel | undefined;
          // Models trained on n-grams alone (before embeddings) still load: they ignore the dense part.
          const usable = stored && (stored.extractor === extractor.name || stored.extractor === LEXICAL.name);
          target.classifier = usable ? learnedClassifier(deserializeModel(stored), extractor) : null;
        } catch (error) {
          rt.log.warn({ err: error, policy }, "cannot load the policy's routing model; the heuristic classifier stands in");
        }
        target.loadedAt = now();
        target.loading = null;
        return target.classifier;
      })(),
    );
    return target.loading;
  };

  const train = async (orgId: string, policy: string): Promise<LearnedMetrics | null> => {
    const config = rt.snapshot.current().orgs.get(orgId)?.policies.get(policy);
    const document = config?.document;
    if (!document || document.strategy !== "cascade" || document.classifier.kind !== "learned") return null;
    const tiers = document.targets.length;
    const rows = await rt.db.prisma.feedback.findMany({
      where: { orgId, policy, features: { not: null }, tier: { not: null } },
      select: { tier: true, score: true, features: true },
      orderBy: { createdAt: "desc" },
      take: maxRows,
    });
    const documents = feedbackDocuments(rows, tiers, (encoded) => decodeCounts(encoded, extractor.dimensions));
    const perTier = (t: number) => documents.filter((d) => d.labels[t] !== null).length;
    if (perTier(0) < document.classifier.minSamples || perTier(tiers - 1) < document.classifier.minSamples) return null;
    const model = await trainLearned(documents, {
      tiers,
      dimensions: extractor.dimensions,
      denseDimensions: extractor.denseDimensions ?? 0,
      minQualityRatio: document.classifier.minQualityRatio,
    });
    const stored = serializeModel(model, extractor.name);
    const data = { kind: `${extractor.name}/logistic`, model: stored as unknown as object, samples: documents.length, metrics: model.metrics as unknown as object, trainedAt: new Date() };
    await rt.db.prisma.routingModel.upsert({ where: { orgId_policy: { orgId, policy } }, create: { orgId, policy, ...data }, update: data });
    const entry = cache.get(keyOf(orgId, policy));
    const classifier = learnedClassifier(model, extractor);
    if (entry) Object.assign(entry, { classifier, loadedAt: now() });
    else cache.set(keyOf(orgId, policy), { classifier, loadedAt: now(), loading: null });
    rt.log.info({ policy, samples: documents.length, threshold: model.threshold, qualityRatio: model.metrics.qualityRatio }, "routing model trained");
    return model.metrics;
  };

  return {
    get(orgId, policy) {
      const entry = cache.get(keyOf(orgId, policy));
      if (!entry || (now() - entry.loadedAt >= refreshMs && !entry.loading)) void load(orgId, policy);
      return entry?.classifier ?? null;
    },
    reload: load,
    train,
    noteFeedback(orgId, policy) {
      void track(
        (async () => {
          const count = await rt.state.incrBy(`routing:feedback:${orgId}:${policy}`, 1);
          if (count % retrainStep(count, retrainEvery) !== 0) return;
          // One instance trains; the lock lapses if it dies mid-way.
          if (!(await rt.state.setIfAbsent(`routing:training:${orgId}:${policy}`, String(now()), 10 * 60_000))) return;
          try {
            await train(orgId, policy);
          } finally {
            await rt.state.del(`routing:training:${orgId}:${policy}`);
          }
        })().catch((error) => rt.log.warn({ err: error, policy }, "routing model training failed")),
      );
    },
    async idle() {
      while (background.size > 0) await Promise.allSettled([...background]);
    },
  };
}

/**
 * Samples between two retrainings once `count` have been seen: `every` at first, then doubling each time the count
 * doubles past 10 × `every`, so retraining follows ~5–10% growth of the data and its total cost stays a small multiple
 * of one training on everything (a training with nearest neighbours compares every pair of rows).
 */
export function retrainStep(count: number, every: number): number {
  return every * 2 ** Math.floor(Math.log2(Math.max(1, count / (10 * every))));
}

/**
 * Training documents from feedback rows (newest first). Rows of the same prompt (identical features) become one
 * document labelled on every tier that answered it — the newest label per tier — so the cross-validation sees both
 * outcomes where they are known instead of imputing the missing one from a prediction.
 */
export function feedbackDocuments<F>(
  rows: ReadonlyArray<{ tier: number | null; score: number; features: string | null }>,
  tiers: number,
  decode: (encoded: string) => F | null,
): Array<{ features: F; labels: Array<number | null> }> {
  const byPrompt = new Map<string, { features: F; labels: Array<number | null> }>();
  for (const row of rows) {
    if (row.features === null || row.tier === null || row.tier < 0 || row.tier >= tiers) continue;
    let document = byPrompt.get(row.features);
    if (!document) {
      const features = decode(row.features);
      if (!features) continue;
      document = { features, labels: new Array<number | null>(tiers).fill(null) };
      byPrompt.set(row.features, document);
    }
    document.labels[row.tier] ??= row.score;
  }
  return [...byPrompt.values()];
}
