import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isValidTimeZone, periodWindow, startOfLocalDay, type BudgetPeriod } from "./periods";

const iso = (s: string) => new Date(s).getTime();
const win = (period: BudgetPeriod, tz: string, now: string) => {
  const w = periodWindow(period, tz, iso(now));
  return [w.start.toISOString(), w.end?.toISOString() ?? null];
};

describe("budget periods in UTC", () => {
  it("rolls a daily budget over at midnight, to the millisecond", () => {
    expect(win("daily", "UTC", "2026-03-14T23:59:59.999Z")).toEqual(["2026-03-14T00:00:00.000Z", "2026-03-15T00:00:00.000Z"]);
    expect(win("daily", "UTC", "2026-03-15T00:00:00.000Z")).toEqual(["2026-03-15T00:00:00.000Z", "2026-03-16T00:00:00.000Z"]);
  });

  it.each([
    ["2026-01-31T23:59:59.999Z", "2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"],
    ["2026-02-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"],
    ["2026-02-28T23:59:59.999Z", "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"],
    ["2028-02-29T12:00:00.000Z", "2028-02-01T00:00:00.000Z", "2028-03-01T00:00:00.000Z"],
    ["2026-04-30T23:59:59.999Z", "2026-04-01T00:00:00.000Z", "2026-05-01T00:00:00.000Z"],
    ["2026-12-31T23:59:59.999Z", "2026-12-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z"],
    ["2027-01-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z", "2027-02-01T00:00:00.000Z"],
  ])("rolls a monthly budget over at month end (%s)", (now, start, end) => {
    expect(win("monthly", "UTC", now)).toEqual([start, end]);
  });

  it("rolls a daily budget over at the year end and on leap days", () => {
    expect(win("daily", "UTC", "2026-12-31T12:00:00Z")).toEqual(["2026-12-31T00:00:00.000Z", "2027-01-01T00:00:00.000Z"]);
    expect(win("daily", "UTC", "2028-02-28T12:00:00Z")).toEqual(["2028-02-28T00:00:00.000Z", "2028-02-29T00:00:00.000Z"]);
    expect(win("daily", "UTC", "2028-02-29T12:00:00Z")).toEqual(["2028-02-29T00:00:00.000Z", "2028-03-01T00:00:00.000Z"]);
  });

  it("starts weeks on Monday, across month and year boundaries", () => {
    // 2026-01-01 is a Thursday.
    expect(win("weekly", "UTC", "2026-01-01T10:00:00Z")).toEqual(["2025-12-29T00:00:00.000Z", "2026-01-05T00:00:00.000Z"]);
    expect(win("weekly", "UTC", "2026-01-04T23:59:59.999Z")).toEqual(["2025-12-29T00:00:00.000Z", "2026-01-05T00:00:00.000Z"]);
    expect(win("weekly", "UTC", "2026-01-05T00:00:00.000Z")).toEqual(["2026-01-05T00:00:00.000Z", "2026-01-12T00:00:00.000Z"]);
    expect(win("weekly", "UTC", "2026-03-01T08:00:00Z")).toEqual(["2026-02-23T00:00:00.000Z", "2026-03-02T00:00:00.000Z"]);
  });

  it("opens a lifetime window at the budget's creation and never closes it", () => {
    const created = new Date("2025-06-01T12:34:56Z");
    expect(periodWindow("lifetime", "UTC", iso("2030-01-01T00:00:00Z"), created)).toEqual({ start: created, end: null });
  });
});

describe("budget periods in a time zone", () => {
  it("uses local midnight (New York, standard and daylight time)", () => {
    expect(win("daily", "America/New_York", "2026-01-15T04:59:59.999Z")).toEqual(["2026-01-14T05:00:00.000Z", "2026-01-15T05:00:00.000Z"]);
    expect(win("daily", "America/New_York", "2026-01-15T05:00:00.000Z")).toEqual(["2026-01-15T05:00:00.000Z", "2026-01-16T05:00:00.000Z"]);
    expect(win("daily", "America/New_York", "2026-07-15T12:00:00Z")).toEqual(["2026-07-15T04:00:00.000Z", "2026-07-16T04:00:00.000Z"]);
  });

  it("has 23- and 25-hour days on DST changes", () => {
    // US DST 2026: starts Sunday 8 March, ends Sunday 1 November.
    expect(win("daily", "America/New_York", "2026-03-08T12:00:00Z")).toEqual(["2026-03-08T05:00:00.000Z", "2026-03-09T04:00:00.000Z"]);
    expect(win("daily", "America/New_York", "2026-11-01T12:00:00Z")).toEqual(["2026-11-01T04:00:00.000Z", "2026-11-02T05:00:00.000Z"]);
    // Monthly across the spring change: March starts in standard time, April in daylight time.
    expect(win("monthly", "America/New_York", "2026-03-20T00:00:00Z")).toEqual(["2026-03-01T05:00:00.000Z", "2026-04-01T04:00:00.000Z"]);
  });

  it("handles half- and quarter-hour offsets and zones ahead of UTC", () => {
    expect(win("daily", "Asia/Kolkata", "2026-05-31T18:29:59.999Z")).toEqual(["2026-05-30T18:30:00.000Z", "2026-05-31T18:30:00.000Z"]);
    expect(win("monthly", "Asia/Kolkata", "2026-05-31T18:30:00.000Z")).toEqual(["2026-05-31T18:30:00.000Z", "2026-06-30T18:30:00.000Z"]);
    expect(win("daily", "Asia/Kathmandu", "2026-05-31T20:00:00Z")).toEqual(["2026-05-31T18:15:00.000Z", "2026-06-01T18:15:00.000Z"]);
    // Kiritimati (UTC+14) is already in the next month while UTC is still on the 31st.
    expect(win("monthly", "Pacific/Kiritimati", "2026-12-31T10:00:00Z")).toEqual(["2026-12-31T10:00:00.000Z", "2027-01-31T10:00:00.000Z"]);
  });

  it("starts the day at the jump when DST skips midnight (São Paulo, 2018)", () => {
    // On 4 November 2018 clocks went from 00:00 to 01:00 in São Paulo: the day began at 03:00Z (01:00 local).
    expect(startOfLocalDay({ year: 2018, month: 11, day: 4 }, "America/Sao_Paulo")).toBe(iso("2018-11-04T03:00:00Z"));
    expect(win("daily", "America/Sao_Paulo", "2018-11-04T12:00:00Z")).toEqual(["2018-11-04T03:00:00.000Z", "2018-11-05T02:00:00.000Z"]);
    expect(win("daily", "America/Sao_Paulo", "2018-11-04T02:59:59.999Z")).toEqual(["2018-11-03T03:00:00.000Z", "2018-11-04T03:00:00.000Z"]);
  });

  it("starts the day at the first midnight when DST repeats the first hour (Havana, 2025)", () => {
    // On 2 November 2025 Cuba went from 01:00 CDT back to 00:00 CST: midnight happened twice.
    expect(startOfLocalDay({ year: 2025, month: 11, day: 2 }, "America/Havana")).toBe(iso("2025-11-02T04:00:00Z"));
    expect(win("daily", "America/Havana", "2025-11-02T05:30:00Z")).toEqual(["2025-11-02T04:00:00.000Z", "2025-11-03T05:00:00.000Z"]);
  });

  it("skips a day that never happened (Samoa, 29 → 31 December 2011)", () => {
    expect(win("daily", "Pacific/Apia", "2011-12-29T12:00:00Z")).toEqual(["2011-12-29T10:00:00.000Z", "2011-12-30T10:00:00.000Z"]);
    expect(win("daily", "Pacific/Apia", "2011-12-30T10:00:00Z")).toEqual(["2011-12-30T10:00:00.000Z", "2011-12-31T10:00:00.000Z"]);
  });

  it("knows valid zones", () => {
    expect(isValidTimeZone("Europe/Paris")).toBe(true);
    expect(isValidTimeZone("UTC")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus")).toBe(false);
  });

  const SAMOA_SKIP = iso("2011-12-30T10:00:00Z");
  const zones = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "America/Sao_Paulo", "America/Havana", "Pacific/Chatham", "Pacific/Apia"];
  it("holds for any instant and zone: start ≤ now < end, and the windows tile time", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: iso("2000-01-01T00:00:00Z"), max: iso("2040-01-01T00:00:00Z") }),
        fc.constantFrom(...zones),
        fc.constantFrom<BudgetPeriod>("daily", "weekly", "monthly"),
        (now, tz, period) => {
          const w = periodWindow(period, tz, now);
          const start = w.start.getTime();
          const end = w.end!.getTime();
          expect(start).toBeLessThanOrEqual(now);
          expect(now).toBeLessThan(end);
          // The instant before the start belongs to the previous window, which ends exactly at our start.
          expect(periodWindow(period, tz, start - 1).end!.getTime()).toBe(start);
          expect(periodWindow(period, tz, end).start.getTime()).toBe(end);
          const hours = (end - start) / 3_600_000;
          const [min, max] = period === "daily" ? [22, 26] : period === "weekly" ? [166, 170] : [670, 746];
          // Samoa (Pacific/Apia) skipped 30 December 2011 when it moved across the date line (at 10:00 UTC): the
          // week and the month around it are a day shorter.
          const lostDate = tz === "Pacific/Apia" && period !== "daily" && start < SAMOA_SKIP && end > SAMOA_SKIP ? 24 : 0;
          expect(hours).toBeGreaterThanOrEqual(min - lostDate);
          expect(hours).toBeLessThanOrEqual(max);
        },
      ),
      { numRuns: 600 },
    );
  });

  it("gives Samoa's week and month of 30 December 2011, a date that never happened, one day less", () => {
    const inside = iso("2011-12-26T10:00:00Z");
    const hours = (w: { start: Date; end: Date | null }) => (w.end!.getTime() - w.start.getTime()) / 3_600_000;
    expect(hours(periodWindow("weekly", "Pacific/Apia", inside))).toBe(144);
    expect(hours(periodWindow("monthly", "Pacific/Apia", inside))).toBe(30 * 24);
    expect(periodWindow("daily", "Pacific/Apia", SAMOA_SKIP).start.getTime()).toBe(SAMOA_SKIP); // the 31st starts at once
  });
});
