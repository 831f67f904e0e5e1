import { describe, expect, it } from "vitest";
import { LoadError, percentile, summarize } from "./load";

describe("percentile (nearest rank)", () => {
  const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1); // 1..100

  it("picks the ranked sample, not an interpolation", () => {
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile(Float64Array.of(0.25, 0.75), 50)).toBe(0.25);
  });

  it("clamps to the first sample for tiny percentiles", () => {
    expect(percentile(sorted, 0)).toBe(1);
    expect(percentile(Float64Array.of(7), 99)).toBe(7);
  });
});

describe("summarize", () => {
  it("sorts numerically and keeps sub-millisecond precision", () => {
    const total = [0.9, 0.31, 10.5, 0.305, 2];
    const result = summarize(total, [0.2, 0.1, 0.3, 0.05, 0.4], 500);
    expect(result.requests).toBe(5);
    expect(result.rps).toBe(10);
    expect(result.p50Ms).toBe(0.9);
    expect(result.p99Ms).toBe(10.5);
    expect(result.maxMs).toBe(10.5);
    expect(result.meanMs).toBeCloseTo(14.015 / 5, 10);
    expect(result.ttfbP50Ms).toBe(0.2);
  });

  it("refuses an empty measurement", () => {
    expect(() => summarize([], [], 1000)).toThrow(LoadError);
  });
});
