import { describe, expect, it } from "vitest";
import { MigrationStateError, checkHistory } from "./migrate";

const files = [
  { name: "20260101000000_init", sql: "x", checksum: "aaa" },
  { name: "20260201000000_more", sql: "y", checksum: "bbb" },
];
const row = (name: string, checksum: string, finished = true, rolledBack = false) => ({
  migration_name: name,
  checksum,
  finished_at: finished ? new Date() : null,
  rolled_back_at: rolledBack ? new Date() : null,
});

describe("checkHistory", () => {
  it("lists pending migrations in order", () => {
    expect(checkHistory([], files).pending).toEqual(["20260101000000_init", "20260201000000_more"]);
    expect(checkHistory([row("20260101000000_init", "aaa")], files)).toEqual({
      applied: ["20260101000000_init"],
      pending: ["20260201000000_more"],
    });
  });

  it("refuses an unfinished migration", () => {
    expect(() => checkHistory([row("20260101000000_init", "aaa", false)], files)).toThrow(MigrationStateError);
  });

  it("ignores rows an operator rolled back", () => {
    expect(checkHistory([row("20260101000000_init", "aaa", false, true)], files).pending).toHaveLength(2);
  });

  it("refuses edited and unknown migrations", () => {
    expect(() => checkHistory([row("20260101000000_init", "zzz")], files)).toThrow(/edited/);
    expect(() => checkHistory([row("20270101000000_future", "ccc")], files)).toThrow(/does not know/);
  });
});
