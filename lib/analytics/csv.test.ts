import { describe, expect, it } from "vitest";
import { toCsv } from "./csv";

describe("toCsv", () => {
  it("quotes, doubles quotes, keeps decimals exact and uses CRLF", () => {
    expect(toCsv(["a", "b"], [["x,y", 'say "hi"'], ["0.0000001234", 12], [null, "line\nbreak"]])).toBe(
      'a,b\r\n"x,y","say ""hi"""\r\n0.0000001234,12\r\n,"line\nbreak"\r\n',
    );
  });
  it("defuses formulas but not negative numbers", () => {
    expect(toCsv(["v"], [["=HYPERLINK(1)"], ["-1.5"], ["@x"]])).toBe("v\r\n'=HYPERLINK(1)\r\n-1.5\r\n'@x\r\n");
  });
});
