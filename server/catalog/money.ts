/**
 * Exact decimals for money and prices. Floating point never touches a price or a cost: values are bigint counts
 * of 10^-10 units, the scale of the database's Decimal(20, 10) money columns, so an amount round-trips through
 * Postgres without rounding. A price in "USD per 1M tokens" and an amount in "USD" use the same representation.
 */

/** Fractional digits kept: 10, like the `Decimal(20, 10)` columns in prisma/schema.prisma. */
export const DECIMAL_SCALE = 10;

/** 10^DECIMAL_SCALE: the bigint that represents 1 (USD, or USD per 1M tokens). */
export const DECIMAL_ONE = 10n ** BigInt(DECIMAL_SCALE);

/**
 * What a decimal may arrive as: a decimal string ("0.15", "1e-7"), a JSON number from a dataset, or a
 * Prisma.Decimal (decimal.js), whose `toFixed()` prints every digit without exponent notation.
 */
export type DecimalLike = string | number | { toFixed(): string };

const DECIMAL_RE = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
// Exponents beyond this are not prices or amounts; refusing them keeps a hostile input from building a huge bigint.
const MAX_EXPONENT = 60;

/**
 * Parses a decimal into bigint units of 10^-10, exactly. Digits beyond the 10th fractional place are rounded
 * half away from zero (what Postgres does when it stores a numeric into a Decimal(20, 10) column).
 * Numbers are read through their shortest round-trip string, so the JSON number 0.0375 parses as 0.0375 exactly.
 * @throws RangeError when the value is not a finite decimal.
 */
export function parseDecimal(value: DecimalLike): bigint {
  if (typeof value !== "string") return parseText(typeof value === "number" ? numberText(value) : value.toFixed());
  // Every priced call parses the same few catalog prices, several times each: remember short ones (bigints are
  // immutable; failures are not cached, so they throw every time; the bounds keep client-sent strings from
  // growing the map).
  if (value.length > MAX_REMEMBERED_LENGTH) return parseText(value.trim());
  let units = remembered.get(value);
  if (units === undefined) {
    units = parseText(value.trim());
    if (remembered.size >= MAX_REMEMBERED) remembered.clear();
    remembered.set(value, units);
  }
  return units;
}

const MAX_REMEMBERED = 4_096;
const MAX_REMEMBERED_LENGTH = 40;
const remembered = new Map<string, bigint>();

function parseText(text: string): bigint {
  const match = DECIMAL_RE.exec(text);
  const [, sign, whole = "", fraction = "", exponentText] = match ?? [];
  if (!match || whole.length + fraction.length === 0) {
    throw new RangeError(`not a decimal number: ${JSON.stringify(text)}`);
  }
  const exponent = Number(exponentText ?? 0);
  if (Math.abs(exponent) > MAX_EXPONENT) throw new RangeError(`decimal exponent out of range: ${JSON.stringify(text)}`);
  const digits = BigInt(whole + fraction || "0");
  const shift = exponent - fraction.length + DECIMAL_SCALE;
  const magnitude = shift >= 0 ? digits * 10n ** BigInt(shift) : divRound(digits, 10n ** BigInt(-shift));
  return sign === "-" ? -magnitude : magnitude;
}

function numberText(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  return String(value);
}

/** Canonical decimal string of units of 10^-10: no exponent, no trailing zeros ("0.0375", "2.5", "0", "-1"). */
export function decimalToString(units: bigint): string {
  const negative = units < 0n;
  const magnitude = negative ? -units : units;
  const whole = magnitude / DECIMAL_ONE;
  const fraction = (magnitude % DECIMAL_ONE).toString().padStart(DECIMAL_SCALE, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** Normalizes any DecimalLike to the canonical decimal string (rounded to 10 fractional digits). */
export function normalizeDecimal(value: DecimalLike): string {
  return decimalToString(parseDecimal(value));
}

/** numerator / denominator rounded half away from zero; denominator must be positive. */
export function divRound(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  const quotient = (magnitude + denominator / 2n) / denominator;
  return negative ? -quotient : quotient;
}
