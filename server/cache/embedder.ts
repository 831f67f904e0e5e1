/**
 * Embedders for the semantic cache, behind one interface:
 * - `local` (default): the bundled Universal Sentence Encoder lite (512-d, offline, server/embeddings/local.ts),
 *   loaded on first use;
 * - a provider's embeddings model (`<provider>/<model>` in a cache rule), called through the provider adapter;
 * - a deterministic hashing embedder (bag of words and bigrams) for tests and benchmarks without a model.
 * Vectors are unit length, so a dot product is the cosine similarity.
 */
import type { Transport } from "../providers/transport";
import type { GatewayConfig } from "../gateway/config";
import { providerModel } from "../gateway/config";
import { adapterFor, send, upstreamTarget } from "../gateway/upstream";
import type { Target } from "../gateway/resolve";

export interface Embedder {
  /** Stable id stored with every vector: vectors of different embedders are never compared. */
  readonly id: string;
  /**
   * Puts the embedder's cosines on one similarity scale, so one rule threshold means about the same precision
   * whatever the embedder: similarity = 1 − (1 − cosine) × distanceScale (default 1: similarity = cosine).
   */
  readonly distanceScale?: number;
  embed(texts: string[]): Promise<Float32Array[]>;
}

/** Scales a vector to unit length (a zero vector stays zero and never matches anything). */
export function normalize(values: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(values);
  let norm = 0;
  for (let i = 0; i < out.length; i++) norm += out[i]! * out[i]!;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < out.length; i++) out[i]! /= norm;
  return out;
}

/**
 * USE-lite's cosines run high: unrelated sentences on one topic often reach 0.8 and its paraphrases spread over
 * 0.85–0.97. This scale maps them so the default rule threshold (0.92) lands on its precision-first operating point
 * (cosine ≈ 0.87; see bench/cache.ts and the README's cache figures).
 */
export const LOCAL_DISTANCE_SCALE = 0.6;

/** The shape server/embeddings/local.ts exports (the module is loaded lazily: its weights cost ~130 MB). */
interface LocalModule {
  localEmbedder: { id: string; embed(texts: string[]): Promise<number[][]> };
}

/**
 * The bundled offline embedder. `load` is injectable so a benchmark can supply the same model from elsewhere; by
 * default it imports server/embeddings/local.ts on first use. A load failure is remembered and rethrown on each call,
 * so the cache can report it and fall back to exact matching.
 */
export function createLocalEmbedder(load: () => Promise<LocalModule["localEmbedder"]> = defaultLocalLoader): Embedder {
  let model: Promise<LocalModule["localEmbedder"]> | null = null;
  return {
    id: "local:use-lite-512",
    distanceScale: LOCAL_DISTANCE_SCALE,
    async embed(texts) {
      model ??= load();
      const vectors = await (await model).embed(texts);
      return vectors.map(normalize);
    },
  };
}

async function defaultLocalLoader(): Promise<LocalModule["localEmbedder"]> {
  const module = (await import("../embeddings/local")) as LocalModule;
  return module.localEmbedder;
}

/** FNV-1a, 32-bit. */
function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * A deterministic embedder without a model: signed feature hashing of lowercased words and word bigrams. Texts that
 * share words are close, identical texts are identical vectors. Good for tests; no understanding of paraphrase.
 */
export function createHashingEmbedder(dimensions = 256): Embedder {
  return {
    id: `hashing:${dimensions}`,
    async embed(texts) {
      return texts.map((text) => {
        const vector = new Float32Array(dimensions);
        const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
        const features = [...words, ...words.slice(1).map((w, i) => `${words[i]} ${w}`)];
        for (const feature of features) {
          const sign = (fnv1a(feature, 0x9747b28c) & 1) === 0 ? 1 : -1;
          vector[fnv1a(feature) % dimensions]! += sign * (feature.includes(" ") ? 0.5 : 1);
        }
        return normalize(vector);
      });
    },
  };
}

/**
 * An embeddings model behind one of the organization's providers (`<provider>/<model>`), called through the
 * provider's adapter and the gateway transport (SSRF guard and timeouts included). The vectors are not billed to
 * the caller: the cache's own lookups are infrastructure cost, like the database.
 */
export function createProviderEmbedder(options: {
  transport: Transport;
  config: () => GatewayConfig;
  orgId: string;
  /** "<provider>/<model>" */
  spec: string;
}): Embedder {
  const slash = options.spec.indexOf("/");
  const providerName = options.spec.slice(0, slash);
  const modelId = options.spec.slice(slash + 1);
  return {
    id: `provider:${options.spec}`,
    async embed(texts) {
      if (texts.length === 0) return [];
      const org = options.config().orgs.get(options.orgId);
      const provider = org?.providers.get(providerName);
      if (!org || !provider || slash <= 0) throw new Error(`embedder provider '${providerName}' is not configured`);
      const target: Target = { provider, modelId, model: providerModel(org, provider, modelId) ?? null };
      const adapter = adapterFor(target);
      if (!adapter.embeddings) throw new Error(`provider '${providerName}' has no embeddings API`);
      const upstream = upstreamTarget(target);
      const request = { model: modelId, input: texts, encoding_format: "float" as const };
      const spec = adapter.embeddings.buildRequest(request, upstream);
      const response = await send(options.transport, adapter, spec, AbortSignal.timeout(10_000), provider.allowPrivate);
      const parsed = adapter.embeddings.parseResponse(await response.json(), upstream, request);
      const byIndex = [...parsed.data].sort((a, b) => a.index - b.index);
      return byIndex.map((d) => {
        if (typeof d.embedding === "string") throw new Error("expected float embeddings");
        return normalize(d.embedding);
      });
    },
  };
}
