/**
 * The semantic cache's verification step: after a nearest-neighbour match above the threshold, the request and the
 * cached question must also agree on what embeddings blur. Precision comes first: a wrong cached answer is worse
 * than a paid call, so any disagreement rejects the match.
 *
 * Rejected when the two differ in
 * - numbers ("lose 44 lbs in 3 months" / "45 lbs in 5 months");
 * - negation ("is supported" / "is not supported");
 * - question type ("why …" / "how …"; "how many" / "how much");
 * - named entities, identifiers or quoted terms present on one side only ("Sacramento" / "Kingsburg");
 * - opposite words ("boyfriend" / "girlfriend", "maximize" / "minimize", "before" / "after");
 * - roles: the same words in the same sentence frame, in another order ("do girls like introvert guys" /
 *   "do guys like introvert girls");
 * - content words, unless the difference is a rewording: a topic word added, dropped or swapped in an otherwise
 *   identical question ("elective courses in biology" / "in chemistry", "where can I buy steroids" / "… online")
 *   is a different question; a rephrasing also swaps the generic words around it ("can be used to obtain" /
 *   "you can get"), and then the embedding's judgement stands.
 */
import { contrasting, features, generic, sameWord, unmatched, type TextFeatures } from "./lexical";

export type VerifyReason = "numbers" | "negation" | "question_type" | "entities" | "contrast" | "order" | "content";

export interface Verdict {
  ok: boolean;
  reason?: VerifyReason;
}

/** Entities of `a` that `b` never mentions (in any case or inflection). */
function missingEntities(a: TextFeatures, b: TextFeatures): boolean {
  for (const entity of a.entities) if (!b.words.some((w) => sameWord(entity, w))) return true;
  return false;
}

/**
 * The same content words in the same frame of function words, but in another order: the roles changed. A
 * rephrasing that reorders (active / passive) changes the frame too.
 */
function swapped(q: TextFeatures, c: TextFeatures): boolean {
  if (q.content.length !== c.content.length || q.content.length < 2) return false;
  const frame = (f: TextFeatures) => f.words.map((w) => (f.content.includes(w) ? "_" : w)).join(" ");
  if (frame(q) !== frame(c)) return false;
  const inOrder = q.content.every((w, i) => sameWord(w, c.content[i]!));
  // Both ways: "many many station" / "many station use" share a frame, but the second brings a word of its own.
  const covers = (a: TextFeatures, b: TextFeatures) => a.content.every((w) => b.content.some((x) => sameWord(w, x)));
  const sameWords = covers(q, c) && covers(c, q);
  return sameWords && !inOrder;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

export function verifyMatch(query: string | TextFeatures, cached: string | TextFeatures): Verdict {
  const q = typeof query === "string" ? features(query) : query;
  const c = typeof cached === "string" ? features(cached) : cached;
  if (!sameSet(q.numbers, c.numbers)) return { ok: false, reason: "numbers" };
  if (q.negated !== c.negated) return { ok: false, reason: "negation" };
  if (q.questionType !== null && c.questionType !== null && q.questionType !== c.questionType) return { ok: false, reason: "question_type" };
  if (missingEntities(q, c) || missingEntities(c, q)) return { ok: false, reason: "entities" };
  if (contrasting(q.words, c.words)) return { ok: false, reason: "contrast" };
  if (swapped(q, c)) return { ok: false, reason: "order" };
  const onlyQ = unmatched(q.content, c.content);
  const onlyC = unmatched(c.content, q.content);
  const topical = [...onlyQ, ...onlyC].filter((w) => !generic(w));
  if (topical.length === 0) return { ok: true };
  const reworded = onlyQ.length + onlyC.length > topical.length;
  return reworded ? { ok: true } : { ok: false, reason: "content" };
}
