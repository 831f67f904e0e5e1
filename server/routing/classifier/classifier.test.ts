import { describe, expect, it } from "vitest";
import { profileRequest } from "../profile";
import { withEmbeddings } from "./embedding";
import { decodeCounts, encodeCounts, extractAll, hashedNgrams } from "./features";
import { heuristicClassifier, heuristicScore } from "./heuristic";
import { deserializeModel, learnedClassifier, pickTier, serializeModel, trainLearned, type TrainingDocument } from "./learned";
import { fitIdf, score, tfidf, trainLogistic } from "./logistic";
import { outOfFoldNeighbours } from "./neighbours";

const extractor = hashedNgrams(16);
const extractor16 = () => hashedNgrams(16);
const ask = (text: string, extra: Record<string, unknown> = {}) => profileRequest({ model: "m", messages: [{ role: "user", content: text }], ...extra });

describe("hashed n-gram features", () => {
  it("counts unigrams and bigrams into buckets, and round-trips through storage", () => {
    const v = extractor.extract("The cat saw the cat");
    expect(v.indices.length).toBeGreaterThan(4);
    expect([...v.indices]).toEqual([...v.indices].sort((a, b) => a - b));
    expect(Math.max(...v.counts)).toBe(2); // "the" and "cat" twice (case-folded)
    const decoded = decodeCounts(encodeCounts(v), extractor.dimensions)!;
    expect([...decoded.indices]).toEqual([...v.indices]);
    expect([...decoded.counts]).toEqual([...v.counts]);
    expect(decodeCounts("not base64 of anything", extractor.dimensions)).toBeNull();
    expect(extractor.extract("")).toEqual({ indices: new Uint32Array(), counts: new Uint16Array() });
  });
});

describe("dense features", () => {
  // A stand-in embedder: one-hot on the prompt's first letter (the real one is USE-lite, loaded on first use).
  const embedder = {
    id: "fake-4",
    dimensions: 4,
    calls: 0,
    async embed(texts: string[]) {
      this.calls += texts.length;
      return texts.map((t) => [0, 1, 2, 3].map((k) => (t.charCodeAt(0) % 4 === k ? 1 : 0)));
    },
  };

  it("adds the embedding to the n-grams only when asked for the full features, and stores it as int8", async () => {
    const extractor = withEmbeddings(embedder, extractor16());
    expect(extractor.name).toBe("hashed-ngrams-v1-16+fake-4");
    expect("dense" in extractor.extract("abc")).toBe(false);
    expect(embedder.calls).toBe(0);
    const full = await extractAll(extractor, "abc");
    expect(embedder.calls).toBe(1);
    expect([...full.dense!]).toEqual([0, 1, 0, 0]);
    const decoded = decodeCounts(encodeCounts({ ...full, dense: Float32Array.from([0.5, -0.25, 0, 0.125]) }), extractor.dimensions)!;
    expect([...decoded.indices]).toEqual([...full.indices]);
    // Quantised to int8 with scale max|v| / 127: every value within half a step.
    [0.5, -0.25, 0, 0.125].forEach((v, j) => expect(Math.abs(decoded.dense![j]! - v)).toBeLessThanOrEqual(0.5 / 127 / 2 + 1e-6));
    expect(decodeCounts(encodeCounts(full).slice(0, -4), extractor.dimensions)).toBeNull();
    expect(await extractAll(extractor16(), "abc")).toEqual(extractor16().extract("abc"));
  });

  it("embeds a text once: later and concurrent requests for it share the result, a failure is not remembered", async () => {
    let calls = 0;
    let fail = true;
    const flaky = {
      id: "flaky-4",
      dimensions: 4,
      async embed(texts: string[]) {
        calls += texts.length;
        if (fail) throw new Error("model not loaded");
        return texts.map(() => [1, 0, 0, 0]);
      },
    };
    const extractor = withEmbeddings(flaky, extractor16());
    await expect(extractAll(extractor, "same prompt")).rejects.toThrow("model not loaded");
    fail = false;
    const [a, b] = await Promise.all([extractAll(extractor, "same prompt"), extractAll(extractor, "same prompt")]);
    expect(calls).toBe(2);
    expect([...a.dense!]).toEqual([1, 0, 0, 0]);
    a.dense![0] = 9; // each caller gets its own copy
    expect([...(await extractAll(extractor, "same prompt")).dense!]).toEqual([1, 0, 0, 0]);
    expect([...b.dense!]).toEqual([1, 0, 0, 0]);
    expect(calls).toBe(2);
    await extractAll(extractor, "another prompt");
    expect(calls).toBe(3);
  });

  it("learns from the dense part where the words carry no signal, and the model survives storage", async () => {
    // Same words everywhere; only the dense vector says which prompts the weak tier fails.
    const documents: TrainingDocument[] = Array.from({ length: 400 }, (_, i) => {
      const hard = i % 3 === 0;
      return { features: { ...extractor.extract(`question ${i % 7}`), dense: Float32Array.from(hard ? [1, 0, 0.2, 0] : [0, 1, 0.2, 0]) }, labels: [hard ? 0 : 1, 1] };
    });
    const model = await trainLearned(documents, { tiers: 2, dimensions: extractor.dimensions, denseDimensions: 4, minQualityRatio: 0.95 });
    expect(model.metrics.tierShares[1]).toBeGreaterThan(0.25);
    expect(model.metrics.tierShares[1]).toBeLessThan(0.45);
    const classifier = learnedClassifier(model, extractor);
    const hard = { ...extractor.extract("question 1"), dense: Float32Array.from([1, 0, 0.2, 0]) };
    const easy = { ...extractor.extract("question 1"), dense: Float32Array.from([0, 1, 0.2, 0]) };
    expect(classifier.classifyFeatures(hard, 2).tier).toBe(1);
    expect(classifier.classifyFeatures(easy, 2).tier).toBe(0);
    const restored = learnedClassifier(deserializeModel(JSON.parse(JSON.stringify(serializeModel(model, "x")))), extractor);
    expect(restored.classifyFeatures(hard, 2).score).toBeCloseTo(classifier.classifyFeatures(hard, 2).score, 5);
    expect(restored.model.denseDimensions).toBe(4);
    // Without a dense vector (a synchronous caller) the training mean stands in: between the two kinds.
    const bare = extractor.extract("question 1");
    const gain = classifier.classifyFeatures(bare, 2).score;
    expect(restored.classifyFeatures(bare, 2).score).toBeCloseTo(gain, 5);
    expect(gain).toBeGreaterThan(classifier.classifyFeatures(easy, 2).score);
    expect(gain).toBeLessThan(classifier.classifyFeatures(hard, 2).score);
  });

  it("uses neighbour label rates where no linear model over the embedding separates the prompts, and stores them", async () => {
    // XOR: the weak tier fails in two opposite quadrants, so no hyperplane through the vectors tells them apart.
    const point = (i: number) => {
      const a = i % 2 === 0 ? 1 : -1;
      const b = Math.floor(i / 2) % 2 === 0 ? 1 : -1;
      const jitter = ((i * 7919) % 101) / 500;
      return { hard: a === b, dense: Float32Array.from([a + jitter, b - jitter, 0.3, 0]) };
    };
    const documents: TrainingDocument[] = Array.from({ length: 400 }, (_, i) => {
      const { hard, dense } = point(i);
      return { features: { ...extractor.extract(`question ${i % 7}`), dense }, labels: [hard ? 0 : 1, 1] };
    });
    const options = { tiers: 2, dimensions: extractor.dimensions, denseDimensions: 4, minQualityRatio: 0.95 };
    const model = await trainLearned(documents, { ...options, neighbours: { k: 20, weight: 0.5 } });
    const linear = await trainLearned(documents, { ...options, neighbours: false });
    expect(linear.neighbours).toBeUndefined();
    expect(model.neighbours!.count).toBe(400);
    // Half the prompts are hard: with neighbours the cross-validated strong share is close to that, without it is not.
    expect(model.metrics.tierShares[1]).toBeLessThan(0.6);
    expect(linear.metrics.tierShares[1]).toBeGreaterThan(0.8);
    const classifier = learnedClassifier(model, extractor);
    const words = extractor.extract("question 1");
    const hard = { ...words, dense: Float32Array.from([-1, -1, 0.3, 0]) };
    const easy = { ...words, dense: Float32Array.from([1, -1, 0.3, 0]) };
    expect(classifier.classifyFeatures(hard, 2).tier).toBe(1);
    expect(classifier.classifyFeatures(easy, 2).tier).toBe(0);
    const stored = serializeModel(model, "x");
    expect(Buffer.from(stored.neighbours!.vectors, "base64").length).toBe(400 * 4); // int8
    const restored = learnedClassifier(deserializeModel(JSON.parse(JSON.stringify(stored))), extractor);
    expect(restored.classifyFeatures(hard, 2).score).toBeCloseTo(classifier.classifyFeatures(hard, 2).score, 5);
    expect(restored.classifyFeatures(easy, 2).score).toBeCloseTo(classifier.classifyFeatures(easy, 2).score, 5);
    // The cap on stored vectors: an evenly spaced subset.
    const capped = await trainLearned(documents, { ...options, neighbours: { k: 20, weight: 0.5, maxStored: 100 } });
    expect(capped.neighbours!.count).toBe(100);
  });

  it("finds cross-validation neighbours only among the other folds", async () => {
    const dense = [[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [0.95, 0.05]].map((v) => Float32Array.from(v));
    const near = await outOfFoldNeighbours(dense, [0, 0, 1, 1, 1], 2);
    expect([...near[0]!]).toEqual([4, 3]);
    expect([...near[4]!]).toEqual([0, 1]);
    expect([...near[2]!]).toEqual([1, 0]);
  });
});

describe("logistic regression", () => {
  it("learns a separable signal", () => {
    const texts = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? `alpha topic ${i}` : `omega topic ${i}`));
    const docs = texts.map((t) => extractor.extract(t));
    const idf = fitIdf(docs, extractor.dimensions);
    const rows = docs.map((d) => tfidf(d, idf));
    const model = trainLogistic(rows, texts.map((_, i) => (i % 2 === 0 ? 1 : 0)), extractor.dimensions, { epochs: 20, learningRate: 0.2 });
    expect(score(model, tfidf(extractor.extract("alpha topic new"), idf))).toBeGreaterThan(0.8);
    expect(score(model, tfidf(extractor.extract("omega topic new"), idf))).toBeLessThan(0.2);
  });
});

describe("learned cascade classifier", () => {
  // The weak tier answers "easy" prompts and fails "hard" ones; the strong tier answers everything.
  const documents: TrainingDocument[] = Array.from({ length: 300 }, (_, i) => {
    const hard = i % 3 === 0;
    return { features: extractor.extract(`${hard ? "integrate the tensor field" : "say hello to"} item ${i}`), labels: [hard ? 0 : 1, 1] };
  });

  it("escalates only what the weak tier gets wrong, with the threshold chosen by cross-validation", async () => {
    const model = await trainLearned(documents, { tiers: 2, dimensions: extractor.dimensions, minQualityRatio: 0.95 });
    expect(model.metrics.qualityRatio).toBeGreaterThanOrEqual(0.95);
    expect(model.metrics.tierShares[1]).toBeGreaterThan(0.25);
    expect(model.metrics.tierShares[1]).toBeLessThan(0.45);
    const classifier = learnedClassifier(model, extractor);
    expect(classifier.classify(ask("integrate the tensor field item 999"), 2)).toMatchObject({ tier: 1, classifier: "learned" });
    expect(classifier.classify(ask("say hello to item 999"), 2).tier).toBe(0);
    expect(classifier.classifyFeatures(extractor.extract("say hello to item 999"), 2, -1).tier).toBe(1); // a fixed threshold wins
  });

  it("survives storage", async () => {
    const model = await trainLearned(documents, { tiers: 2, dimensions: extractor.dimensions, minQualityRatio: 0.9 });
    const restored = deserializeModel(JSON.parse(JSON.stringify(serializeModel(model, extractor.name))));
    const probe = extractor.extract("integrate the tensor field now");
    const a = learnedClassifier(model, extractor).classifyFeatures(probe, 2);
    const b = learnedClassifier(restored, extractor).classifyFeatures(probe, 2);
    expect(b.tier).toBe(a.tier);
    expect(b.score).toBeCloseTo(a.score, 5);
  });

  it("refuses to train without labels on the cheapest and the top tier", async () => {
    const partial = documents.map((d) => ({ ...d, labels: [d.labels[0]!, null] }));
    await expect(trainLearned(partial, { tiers: 2, dimensions: extractor.dimensions, minQualityRatio: 0.95 })).rejects.toThrow(/labelled prompts/);
  });

  it("picks the cheapest tier within the threshold of the top tier", () => {
    expect(pickTier([0.5, 0.7, 0.9], 0.25)).toBe(1);
    expect(pickTier([0.8, 0.7, 0.9], 0.15)).toBe(0);
    expect(pickTier([null, 0.7, 0.9], 0.5)).toBe(1);
    expect(pickTier([0.1, 0.2, 0.9], 0.1)).toBe(2);
  });
});

describe("heuristic classifier", () => {
  it("scores short chit-chat low and long multi-part reasoning high", () => {
    expect(heuristicScore(ask("hi")).score).toBeLessThan(0.2);
    const hard = ask(`Prove step by step why the estimate holds. ${"Compute 17 * 23 and the integral of x^2. ".repeat(40)} What changes? Why?`);
    const { score: s, signals } = heuristicScore(hard);
    expect(s).toBeGreaterThan(0.6);
    expect(signals).toEqual(expect.arrayContaining(["reasoning", "math", "multi"]));
    expect(heuristicScore(ask("hi", { reasoning_effort: "high" })).signals).toContain("needs");
  });

  it("splits tiers at even thresholds unless given its own", () => {
    const easy = ask("hello there");
    expect(heuristicClassifier().classify(easy, 2).tier).toBe(0);
    expect(heuristicClassifier([0]).classify(easy, 2).tier).toBe(1);
    expect(heuristicClassifier().classify(easy, 3).detail).toBeTruthy();
  });
});

describe("retraining schedule", () => {
  it("retrains every `every` samples at first, then at ~5–10% growth", async () => {
    const { retrainStep } = await import("../engine");
    const at = (limit: number) => Array.from({ length: limit }, (_, i) => i + 1).filter((n) => n % retrainStep(n, 50) === 0);
    expect(at(1_000)).toEqual([50, 100, 150, 200, 250, 300, 350, 400, 450, 500, 550, 600, 650, 700, 750, 800, 850, 900, 950, 1000]);
    const later = at(20_000).filter((n) => n > 1_000);
    expect(later.slice(0, 3)).toEqual([1100, 1200, 1300]);
    expect(later.length).toBeLessThan(60);
    for (let i = 1; i < later.length; i++) expect((later[i]! - later[i - 1]!) / later[i - 1]!).toBeLessThanOrEqual(0.1);
  });
});

describe("feedback documents", () => {
  it("merges rows of the same prompt into one document labelled on each tier, newest label first", async () => {
    const { feedbackDocuments } = await import("../engine");
    const rows = [
      { tier: 1, score: 1, features: "A" },
      { tier: 0, score: 0, features: "A" },
      { tier: 0, score: 1, features: "A" }, // older than the row above: ignored
      { tier: 0, score: 1, features: "B" },
      { tier: 5, score: 1, features: "B" }, // no such tier
      { tier: null, score: 1, features: "C" },
      { tier: 0, score: 1, features: null },
      { tier: 0, score: 1, features: "bad" },
    ];
    const docs = feedbackDocuments(rows, 2, (e) => (e === "bad" ? null : { id: e }));
    expect(docs).toEqual([
      { features: { id: "A" }, labels: [0, 1] },
      { features: { id: "B" }, labels: [1, null] },
    ]);
  });
});
