/**
 * The transparent difficulty classifier: a score in [0, 1] from rules anyone can read — prompt length, reasoning
 * cues ("prove", "step by step", "trade-offs"), code, maths, several questions at once, and what the request needs
 * (reasoning effort, tools, a JSON schema). Tiers split the score at evenly spaced thresholds unless the policy
 * gives its own.
 */
import type { RequestProfile } from "../profile";
import type { Difficulty, DifficultyClassifier } from "./types";

const REASONING = /\b(prove|proof|derive|derivation|step[- ]by[- ]step|explain (why|how)|justify|analy[sz]e|analysis|compare|contrast|trade-?offs?|optimi[sz]e|design|architect\w*|debug|root cause|evaluate|critique|reason\w*)\b/i;
const CODE = /```|\b(function|class|def|import|return|const|let|var|public|private|SELECT|FROM)\b|=>|#include|\{\s*\n/;
const MATH = /\b(calculate|compute|solve|equation|integral|derivative|probability|how (many|much)|percent(age)?|average|ratio)\b|\d+\s*[-+*/^=×÷]\s*\d+/i;
const ENUMERATION = /^\s*(\d+[.)]|[-*•])\s+\S/gm;

/** Weights of the signals; they sum to 1 so the score stays in [0, 1]. */
const WEIGHTS = { length: 0.35, reasoning: 0.2, code: 0.1, math: 0.15, multi: 0.1, needs: 0.1 } as const;

export function heuristicScore(profile: RequestProfile): { score: number; signals: string[] } {
  const text = profile.lastUserText.slice(0, 20_000);
  const signals: string[] = [];
  // 50 tokens or fewer count as short; 3,200 or more as long (log scale in between).
  const length = Math.min(1, Math.max(0, Math.log2(Math.max(1, profile.promptTokens) / 50) / 6));
  let score = WEIGHTS.length * length;
  if (length > 0) signals.push(`length ${length.toFixed(2)}`);
  const add = (name: keyof typeof WEIGHTS, hit: boolean) => {
    if (!hit) return;
    score += WEIGHTS[name];
    signals.push(name);
  };
  add("reasoning", REASONING.test(text));
  add("code", CODE.test(text));
  add("math", MATH.test(text));
  add("multi", (text.match(/\?/g)?.length ?? 0) > 1 || (text.match(ENUMERATION)?.length ?? 0) > 2);
  add("needs", profile.needs.has("reasoning") || profile.needs.has("tools") || profile.needs.has("json_schema"));
  return { score: Math.min(1, score), signals };
}

/** Evenly spaced thresholds for n tiers: [1/n, 2/n, …]. */
export function evenThresholds(tiers: number): number[] {
  return Array.from({ length: tiers - 1 }, (_, i) => (i + 1) / tiers);
}

export function heuristicClassifier(thresholds?: readonly number[]): DifficultyClassifier {
  return {
    name: "heuristic",
    classify(profile, tiers): Difficulty {
      const { score, signals } = heuristicScore(profile);
      const cuts = thresholds && thresholds.length > 0 ? thresholds : evenThresholds(tiers);
      const tier = Math.min(tiers - 1, cuts.filter((cut) => score >= cut).length);
      return { tier, score, classifier: "heuristic", detail: signals.join(", ") || "no difficulty signal" };
    },
  };
}
