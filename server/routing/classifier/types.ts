/** The pluggable difficulty classifier of cascade policies. */
import type { RequestProfile } from "../profile";

export interface Difficulty {
  /** The tier the request starts at (0 = cheapest). */
  tier: number;
  /** Difficulty in [0, 1] (heuristic), or the predicted quality gain of the top tier over the cheapest (learned). */
  score: number;
  /** Which classifier decided ("heuristic", "learned"). */
  classifier: string;
  /** Why, in a few words (signals found, threshold used). */
  detail?: string;
}

export interface DifficultyClassifier {
  readonly name: string;
  /** Picks the starting tier among `tiers` (≥ 2). Pure: the same request gets the same answer. */
  classify(profile: RequestProfile, tiers: number): Difficulty;
}
