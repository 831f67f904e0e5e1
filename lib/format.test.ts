import { describe, expect, it } from "vitest";
import { formatDateTime, formatRelative, formatTokens, formatUsd } from "./format";

describe("formatters", () => {
  it("keeps decimal prices exact", () => {
    expect(formatUsd("0.0375")).toBe("$0.0375");
    expect(formatUsd("2.5")).toBe("$2.50");
    expect(formatUsd("1234567")).toBe("$1,234,567.00");
    expect(formatUsd("-3.1")).toBe("-$3.10");
    expect(formatUsd(null)).toBe("—");
  });

  it("shortens token counts", () => {
    expect(formatTokens(128_000)).toBe("128K");
    expect(formatTokens(1_048_576)).toBe("1.05M");
    expect(formatTokens(512)).toBe("512");
    expect(formatTokens(null)).toBe("—");
  });

  it("formats times in UTC and relative to now", () => {
    expect(formatDateTime("2026-11-26T23:00:00Z")).toBe("Nov 26, 2026, 11:00 PM UTC");
    const now = Date.parse("2026-11-26T23:00:00Z");
    expect(formatRelative("2026-11-26T22:57:00Z", now)).toBe("3 minutes ago");
    expect(formatRelative("2026-11-28T23:00:00Z", now)).toBe("in 2 days");
    expect(formatRelative(null, now)).toBe("never");
  });
});
