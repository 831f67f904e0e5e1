import { describe, expect, it } from "vitest";
import { deriveSessionSecret } from "./secret";

describe("deriveSessionSecret", () => {
  it("is stable for one master key, differs between keys, and is not the master key", () => {
    const a = Buffer.alloc(32, 1);
    const b = Buffer.alloc(32, 2);
    expect(deriveSessionSecret(a)).toBe(deriveSessionSecret(Buffer.from(a)));
    expect(deriveSessionSecret(a)).not.toBe(deriveSessionSecret(b));
    expect(Buffer.from(deriveSessionSecret(a), "base64url")).toHaveLength(32);
    expect(deriveSessionSecret(a)).not.toBe(a.toString("base64url"));
  });
});
