/**
 * Deciding a semantic hit from the nearest neighbours (pure; the cache and the benchmark run this same function):
 * 1. similarity: the embedder's cosine on its calibrated scale (see `Embedder.distanceScale`) must reach the rule's
 *    threshold;
 * 2. verification (verify.ts): the nearest neighbour's numbers, negation, question type, entities, opposites and
 *    content words must agree with the request's;
 * 3. ambiguity: when another cached question that verification cannot tell apart is about as close, the request
 *    could mean either — no hit.
 */
import { features, type TextFeatures } from "./lexical";
import { verifyMatch, type VerifyReason } from "./verify";
import type { Neighbour } from "./vector-index";

export interface MatchCandidate {
  /** The cached request's last user turn. */
  query: string;
}

export interface MatchSettings {
  /** Minimum calibrated similarity. */
  threshold: number;
  /** The embedder's distance scale: similarity = 1 − (1 − cosine) × scale. */
  distanceScale?: number;
  /** Two candidates closer than this (calibrated) to the request are ambiguous. */
  ambiguityMargin?: number;
}

export const DEFAULT_AMBIGUITY_MARGIN = 0.01;

export interface MatchResult<T> {
  entry: T | null;
  /** Calibrated similarity of the served entry. */
  similarity: number;
  /** Calibrated similarity of the nearest neighbour, whatever was decided; null when the bucket was empty. */
  best: number | null;
  /** Why nothing was served. */
  reason?: "below_threshold" | "ambiguous" | VerifyReason;
}

const featureCache = new WeakMap<object, TextFeatures>();

function featuresOf(candidate: MatchCandidate): TextFeatures {
  let f = featureCache.get(candidate);
  if (!f) {
    f = features(candidate.query);
    featureCache.set(candidate, f);
  }
  return f;
}

export function calibrate(cosine: number, scale = 1): number {
  return 1 - (1 - cosine) * scale;
}

export function matchSemantic<T extends MatchCandidate>(query: string, neighbours: ReadonlyArray<Neighbour<T>>, settings: MatchSettings): MatchResult<T> {
  const scale = settings.distanceScale ?? 1;
  const margin = settings.ambiguityMargin ?? DEFAULT_AMBIGUITY_MARGIN;
  const scored = neighbours.map((n) => ({ item: n.item, similarity: calibrate(n.similarity, scale) }));
  const best = scored[0]?.similarity ?? null;
  const above = scored.filter((n) => n.similarity >= settings.threshold);
  if (above.length === 0) return { entry: null, similarity: 0, best, reason: "below_threshold" };
  // Only the nearest neighbour may be served: when it fails verification, a farther one that passes is more likely
  // a lookalike than the same question.
  const winner = above[0]!;
  const q = features(query);
  const verdict = verifyMatch(q, featuresOf(winner.item));
  if (!verdict.ok) return { entry: null, similarity: 0, best, reason: verdict.reason };
  // A rival about as close that verification cannot tell apart: the request could mean either. (Two cached rewordings
  // of one question are rare: the second would have been a hit instead of being stored.)
  const rival = above.some(
    (other) =>
      other !== winner &&
      other.similarity >= winner.similarity - margin &&
      verifyMatch(q, featuresOf(other.item)).ok,
  );
  if (rival) return { entry: null, similarity: 0, best, reason: "ambiguous" };
  return { entry: winner.item, similarity: winner.similarity, best };
}
