import { describe, expect, it } from "vitest";
import { fillSeries, forecastMonthEnd, monthBounds, monthKey, percentile, rangeWindow, ratio, type SeriesRow } from "./series";

const row = (time: string, over: Partial<SeriesRow> = {}): SeriesRow => ({
  time: new Date(time), calls: 1, errors: 0, cacheHits: 0, costUsd: "0.1", baselineCostUsd: "0.2",
  savingsRoutingUsd: "0.1", savingsCacheUsd: "0", savingsPromptCacheUsd: "0", savingsBatchUsd: "0", savingsCapsUsd: "0", ...over,
});

describe("rangeWindow", () => {
  it("ends with the bucket containing now", () => {
    const now = Date.parse("2026-11-26T10:30:00Z");
    expect(rangeWindow("24h", now)).toEqual({ from: new Date("2026-11-25T11:00:00Z"), to: new Date("2026-11-26T11:00:00Z"), bucket: "hour" });
    expect(rangeWindow("30d", now)).toEqual({ from: new Date("2026-10-28T00:00:00Z"), to: new Date("2026-11-27T00:00:00Z"), bucket: "day" });
  });
});

describe("fillSeries", () => {
  const window = { from: new Date("2026-11-26T00:00:00Z"), to: new Date("2026-11-26T04:00:00Z"), bucket: "hour" as const };
  it("fills missing buckets with zeros and sums rows of one bucket exactly", () => {
    const points = fillSeries([row("2026-11-26T01:00:00Z"), row("2026-11-26T01:59:59Z", { costUsd: "0.2", errors: 1 }), row("2026-11-26T09:00:00Z")], window);
    expect(points.map((p) => p.calls)).toEqual([0, 2, 0, 0]);
    expect(points[1]!.cost).toBe(0.3); // 0.1 + 0.2 exactly, not 0.30000000000000004
    expect(points[1]!.errors).toBe(1);
    expect(points[1]!.routing).toBe(0.2);
    expect(points.map((p) => p.t)).toEqual([0, 1, 2, 3].map((h) => Date.parse("2026-11-26T00:00:00Z") + h * 3_600_000));
  });
});

describe("forecastMonthEnd", () => {
  it("extends month-to-date spend linearly to the end of the month", () => {
    // November has 30 days; at the start of day 11 one third has elapsed.
    expect(forecastMonthEnd("10", Date.parse("2026-11-11T00:00:00Z"))).toBe("30");
    expect(forecastMonthEnd("0.0000000001", Date.parse("2026-11-16T00:00:00Z"))).toBe("0.0000000002");
    expect(forecastMonthEnd("5", Date.parse("2026-11-01T00:00:00Z"))).toBe("5");
  });
});

describe("months, percentiles, ratios", () => {
  it("month bounds and keys are UTC", () => {
    expect(monthBounds("2026-12")).toEqual({ start: new Date("2026-12-01T00:00:00Z"), end: new Date("2027-01-01T00:00:00Z") });
    expect(monthKey(new Date("2026-02-28T23:59:59Z"))).toBe("2026-02");
  });
  it("nearest-rank percentiles", () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95)).toBe(95);
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(1, 4)).toBe(0.25);
  });
});
