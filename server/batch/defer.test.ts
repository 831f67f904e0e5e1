import { describe, expect, it } from "vitest";
import { AppError } from "../gateway/errors";
import { DEFER_LIMITS, parseDeadline } from "./defer";

const NOW = Date.parse("2030-01-01T00:00:00Z");

describe("parseDeadline (x-switchyard-defer)", () => {
  it("reads seconds from now", () => {
    expect(parseDeadline("3600", NOW).toISOString()).toBe("2030-01-01T01:00:00.000Z");
    expect(parseDeadline(" 1.5 ", NOW).getTime()).toBe(NOW + 1_500);
  });

  it("reads ISO 8601 instants with a time zone", () => {
    expect(parseDeadline("2030-01-01T09:00:00Z", NOW).toISOString()).toBe("2030-01-01T09:00:00.000Z");
    expect(parseDeadline("2030-01-01T09:00:00.250+02:00", NOW).toISOString()).toBe("2030-01-01T07:00:00.250Z");
  });

  it.each(["", "soon", "-5", "1e3", "2030-01-01", "2030-01-01T09:00:00", "Tue, 01 Jan 2030 09:00:00 GMT"])("refuses %j", (value) => {
    expect(() => parseDeadline(value, NOW)).toThrow(AppError);
  });

  it("refuses deadlines too close or too far", () => {
    expect(() => parseDeadline("0.5", NOW)).toThrow(/at least 1 second/);
    expect(() => parseDeadline("2029-12-31T23:00:00Z", NOW)).toThrow(/at least 1 second/);
    expect(() => parseDeadline(String(DEFER_LIMITS.maxMs / 1000 + 1), NOW)).toThrow(/within 7 days/);
    expect(parseDeadline(String(DEFER_LIMITS.maxMs / 1000), NOW).getTime()).toBe(NOW + DEFER_LIMITS.maxMs);
  });

  it("answers 400 invalid_defer", () => {
    try {
      parseDeadline("soon", NOW);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ status: 400, code: "invalid_defer" });
    }
  });
});
