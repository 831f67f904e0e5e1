import { describe, expect, it } from "vitest";
import { createHashingEmbedder, createLocalEmbedder } from "./embedder";

const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe("embedders", () => {
  it("hashing: deterministic unit vectors, closer for texts sharing words", async () => {
    const e = createHashingEmbedder(128);
    const [a, a2, b, c] = await e.embed(["the night train to Vienna", "the night train to Vienna", "the night train to Venice", "cheap flights"]);
    expect(Array.from(a!)).toEqual(Array.from(a2!));
    expect(norm(a!)).toBeCloseTo(1);
    expect(cos(a!, b!)).toBeGreaterThan(cos(a!, c!));
  });

  it("local: loads the model once on first use and normalizes its vectors", async () => {
    let loads = 0;
    const e = createLocalEmbedder(async () => {
      loads += 1;
      return { id: "fake", embed: async (texts) => texts.map((t) => [t.length, 1, 0]) };
    });
    const [v] = await e.embed(["abc"]);
    await e.embed(["x"]);
    expect(loads).toBe(1);
    expect(norm(v!)).toBeCloseTo(1);
    expect(e.distanceScale).toBeLessThan(1);
  });

  it("local: reports a model that cannot load on every call", async () => {
    const e = createLocalEmbedder(async () => {
      throw new Error("model missing");
    });
    await expect(e.embed(["x"])).rejects.toThrow("model missing");
    await expect(e.embed(["y"])).rejects.toThrow("model missing");
  });
});
