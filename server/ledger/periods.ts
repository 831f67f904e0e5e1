/**
 * Budget periods as calendar windows in the budget's time zone: a day starts at local midnight, a week on Monday
 * (ISO 8601), a month on its 1st; a lifetime budget's window opens when the budget was created and never ends.
 * Pure: the instant is passed in, so roll-overs (midnight, month end, DST days) are tested exhaustively.
 */

export type BudgetPeriod = "daily" | "weekly" | "monthly" | "lifetime";

export interface PeriodWindow {
  /** First instant of the period. */
  start: Date;
  /** First instant of the next period (when the budget resets); null for lifetime budgets. */
  end: Date | null;
}

interface LocalDate {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
}

interface LocalTime extends LocalDate {
  /** Milliseconds since local midnight as the wall clock reads. */
  msOfDay: number;
  /** 1 = Monday … 7 = Sunday */
  isoWeekday: number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Whether `timeZone` is an IANA zone this runtime knows ("UTC", "Europe/Paris", …). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      weekday: "short",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock of `timeZone` at `instant` (ms). */
function wallClock(instant: number, timeZone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instant))) parts[part.type] = part.value;
  const ms = ((instant % 1000) + 1000) % 1000;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    msOfDay: ((Number(parts.hour) * 60 + Number(parts.minute)) * 60 + Number(parts.second)) * 1000 + ms,
    isoWeekday: WEEKDAYS[parts.weekday!]!,
  };
}

/** Offset of the zone at `instant`: wall clock read as UTC, minus the instant. */
function offsetAt(instant: number, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day) + w.msOfDay - instant;
}

const sameDate = (a: LocalDate, b: LocalDate) => a.year === b.year && a.month === b.month && a.day === b.day;

/**
 * The first instant whose local date is `date`. Usually local midnight; when a DST change skips midnight the day
 * starts at the jump, and when one repeats the first hour the day starts at its first occurrence.
 */
export function startOfLocalDay(date: LocalDate, timeZone: string): number {
  // `Date.UTC` normalizes day overflow (day 32 → next month), so callers can step by days.
  const asUtc = Date.UTC(date.year, date.month - 1, date.day);
  const normalized = new Date(asUtc);
  const target = { year: normalized.getUTCFullYear(), month: normalized.getUTCMonth() + 1, day: normalized.getUTCDate() };
  let t = asUtc - offsetAt(asUtc, timeZone);
  t = asUtc - offsetAt(t, timeZone);
  const local = wallClock(t, timeZone);
  if (!sameDate(local, target)) {
    // Landed in the previous evening: midnight does not exist that day; the day begins when the clock jumps.
    t += DAY_MS - local.msOfDay;
  }
  const earlier = wallClock(t - HOUR_MS, timeZone);
  if (sameDate(earlier, target)) t = t - HOUR_MS - earlier.msOfDay;
  return t;
}

/** The budget window containing `now`. `createdAt` opens a lifetime budget's window. */
export function periodWindow(period: BudgetPeriod, timeZone: string, now: Date | number, createdAt: Date = new Date(0)): PeriodWindow {
  const instant = typeof now === "number" ? now : now.getTime();
  if (period === "lifetime") return { start: createdAt, end: null };
  const local = wallClock(instant, timeZone);
  let first: LocalDate;
  let next: LocalDate;
  if (period === "daily") {
    first = local;
    next = { ...local, day: local.day + 1 };
  } else if (period === "weekly") {
    first = { ...local, day: local.day - (local.isoWeekday - 1) };
    next = { ...first, day: first.day + 7 };
  } else {
    first = { ...local, day: 1 };
    next = local.month === 12 ? { year: local.year + 1, month: 1, day: 1 } : { year: local.year, month: local.month + 1, day: 1 };
  }
  return { start: new Date(startOfLocalDay(first, timeZone)), end: new Date(startOfLocalDay(next, timeZone)) };
}
