import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decimalToString, divRound, normalizeDecimal, parseDecimal } from "./money";

describe("parseDecimal / decimalToString", () => {
  it.each([
    ["0", 0n, "0"],
    ["0.15", 1_500_000_000n, "0.15"],
    ["2.5", 25_000_000_000n, "2.5"],
    ["-1", -10_000_000_000n, "-1"],
    ["+3.75", 37_500_000_000n, "3.75"],
    [".5", 5_000_000_000n, "0.5"],
    ["7.", 70_000_000_000n, "7"],
    ["1e-7", 1_000n, "0.0000001"],
    ["1.5E+3", 15_000_000_000_000n, "1500"],
    ["0.0000000001", 1n, "0.0000000001"],
    ["0.00000000005", 1n, "0.0000000001"],
    ["0.00000000004999", 0n, "0"],
    ["-0.00000000005", -1n, "-0.0000000001"],
    [" 12.3400 ", 123_400_000_000n, "12.34"],
  ])("parses %j", (text, units, canonical) => {
    expect(parseDecimal(text)).toBe(units);
    expect(decimalToString(units)).toBe(canonical);
  });

  it("reads JSON numbers through their shortest decimal form, so dataset prices stay exact", () => {
    expect(parseDecimal(0.0375)).toBe(375_000_000n);
    expect(parseDecimal(0.1 + 0.2)).toBe(3_000_000_000n); // 0.30000000000000004 rounds at 10 digits
    expect(parseDecimal(1e-7)).toBe(1_000n);
    expect(parseDecimal(18.75)).toBe(187_500_000_000n);
  });

  it("reads Prisma.Decimal-like values through toFixed()", () => {
    const decimalJsLike = { toFixed: () => "0.0000001234", toString: () => "1.234e-7" };
    expect(parseDecimal(decimalJsLike)).toBe(1_234n);
  });

  it.each(["", "abc", "1.2.3", "1e", "--1", "0x10", "1e999", "Infinity"])("refuses %j", (text) => {
    expect(() => parseDecimal(text)).toThrow(RangeError);
  });

  it("refuses non-finite numbers", () => {
    expect(() => parseDecimal(Number.NaN)).toThrow(RangeError);
    expect(() => parseDecimal(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it("round-trips every 10-digit decimal", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), (units) => {
        expect(parseDecimal(decimalToString(units))).toBe(units);
      }),
    );
  });

  it("normalizes to the canonical form", () => {
    expect(normalizeDecimal("3.7500")).toBe("3.75");
    expect(normalizeDecimal(0.3)).toBe("0.3");
  });
});

describe("divRound", () => {
  it.each([
    [5n, 10n, 1n],
    [4n, 10n, 0n],
    [-5n, 10n, -1n],
    [-4n, 10n, 0n],
    [15n, 10n, 2n],
    [1n, 3n, 0n],
    [2n, 3n, 1n],
  ])("%d / %d = %d", (n, d, q) => {
    expect(divRound(n, d)).toBe(q);
  });
});
