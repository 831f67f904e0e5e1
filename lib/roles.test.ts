import { describe, expect, it } from "vitest";
import { allows } from "./roles";

describe("allows", () => {
  it("admits each role to its levels only", () => {
    expect(allows("public", null)).toBe(true);
    expect(allows("member", null)).toBe(false);
    expect(["admin", "developer", "finance"].map((r) => allows("admin", r as never))).toEqual([true, false, false]);
    expect(["admin", "developer", "finance"].map((r) => allows("finance", r as never))).toEqual([true, false, true]);
    expect(["admin", "developer", "finance"].map((r) => allows("developer", r as never))).toEqual([true, true, false]);
    expect(["admin", "developer", "finance"].map((r) => allows("member", r as never))).toEqual([true, true, true]);
  });
});
