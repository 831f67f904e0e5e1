import { describe, expect, it } from "vitest";
import { calibrate, matchSemantic } from "./semantic-match";

const item = (query: string) => ({ id: query, query, vector: new Float32Array(1) });
const n = (query: string, similarity: number) => ({ item: item(query), similarity });

describe("matchSemantic", () => {
  it("serves the nearest neighbour above the calibrated threshold", () => {
    const result = matchSemantic("How do I reset my password?", [n("How can I reset my password?", 0.9), n("How do I change my email?", 0.7)], {
      threshold: 0.92,
      distanceScale: 0.6,
    });
    expect(result.entry?.query).toBe("How can I reset my password?");
    expect(result.similarity).toBeCloseTo(calibrate(0.9, 0.6));
    expect(matchSemantic("How do I reset my password?", [n("How can I reset my password?", 0.85)], { threshold: 0.92, distanceScale: 0.6 })).toMatchObject({
      entry: null,
      reason: "below_threshold",
    });
    expect(matchSemantic("anything", [], { threshold: 0.9 })).toMatchObject({ entry: null, best: null });
  });

  it("never falls back to a farther neighbour when the nearest fails verification", () => {
    const result = matchSemantic("Trains to Lyon in 2024?", [n("Trains to Lyon in 2023?", 0.99), n("Which trains go to Lyon in 2024?", 0.97)], { threshold: 0.9 });
    expect(result).toMatchObject({ entry: null, reason: "numbers" });
  });

  it("refuses an ambiguous match, unless verification tells the rival apart", () => {
    const rivals = [n("How do I cancel my booking?", 0.96), n("How can I cancel my booking?", 0.955)];
    expect(matchSemantic("How would I cancel my booking?", rivals, { threshold: 0.9 })).toMatchObject({ entry: null, reason: "ambiguous" });
    expect(matchSemantic("How would I cancel my booking?", [rivals[0]!, n("How can I cancel my booking?", 0.94)], { threshold: 0.9 }).entry?.query).toBe(
      "How do I cancel my booking?",
    );
    const told = [n("Trains to Lyon in 2024", 0.96), n("Trains to Lyon in 2023", 0.955)];
    expect(matchSemantic("The trains to Lyon in 2024", told, { threshold: 0.9 }).entry?.query).toBe("Trains to Lyon in 2024");
  });
});
