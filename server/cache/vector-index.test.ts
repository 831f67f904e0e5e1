import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalize } from "./embedder";
import { VectorIndex } from "./vector-index";

const vec = (...v: number[]) => normalize(v);

describe("VectorIndex", () => {
  it("finds the same nearest neighbours as a plain scan", () => {
    const vector = fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }).map((v) => normalize([...v, 0.01]));
    fc.assert(
      fc.property(fc.array(vector, { minLength: 1, maxLength: 40 }), vector, (items, query) => {
        const index = new VectorIndex<{ id: string; vector: Float32Array }>();
        items.forEach((v, i) => index.add("b", { id: String(i), vector: v }));
        const dot = (a: Float32Array) => a.reduce((s, x, i) => s + x * query[i]!, 0);
        const expected = items.map((v) => dot(v)).sort((a, b) => b - a).slice(0, 3);
        const got = index.search("b", query, 3).map((n) => n.similarity);
        expect(got.map((x) => x.toFixed(5))).toEqual(expected.map((x) => x.toFixed(5)));
      }),
    );
  });

  it("keeps buckets apart, evicts the oldest at the cap and removes by id or predicate", () => {
    const index = new VectorIndex<{ id: string; vector: Float32Array; tag: string }>(2);
    index.add("a", { id: "1", vector: vec(1, 0), tag: "x" });
    index.add("b", { id: "2", vector: vec(1, 0), tag: "y" });
    expect(index.search("a", vec(1, 0), 5).map((n) => n.item.id)).toEqual(["1"]);
    index.add("a", { id: "3", vector: vec(0, 1), tag: "x" });
    const evicted = index.add("a", { id: "4", vector: vec(1, 1), tag: "y" });
    expect(evicted.map((e) => e.id)).toEqual(["1"]);
    expect(index.search("a", vec(1, 0), 5).map((n) => n.item.id)).toEqual(["4", "3"]);
    expect(index.search("a", vec(1, 0), 5, (item) => item.tag === "x").map((n) => n.item.id)).toEqual(["3"]);
    expect(index.removeWhere((item) => item.tag === "y")).toBe(2);
    expect(index.remove("3")?.id).toBe("3");
    expect(index.size).toBe(0);
    expect(index.search("a", vec(1, 0), 5)).toEqual([]);
  });
});
