import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSecretBox, parseMasterKey } from "./secret-box";

describe("secret box", () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);

  it("round-trips and never repeats a ciphertext", () => {
    const box = createSecretBox(new Map([[1, k1]]), 1);
    const a = box.encrypt("sk-test-provider-key");
    const b = box.encrypt("sk-test-provider-key");
    expect(a).not.toBe(b);
    expect(a.startsWith("v1:")).toBe(true);
    expect(a).not.toContain("sk-test");
    expect(box.decrypt(a)).toBe("sk-test-provider-key");
  });

  it("decrypts older versions after rotation", () => {
    const old = createSecretBox(new Map([[1, k1]]), 1).encrypt("secret");
    const rotated = createSecretBox(new Map([[1, k1], [2, k2]]), 2);
    expect(rotated.decrypt(old)).toBe("secret");
    expect(rotated.encrypt("x").startsWith("v2:")).toBe(true);
  });

  it("rejects tampered ciphertexts and unknown versions", () => {
    const box = createSecretBox(new Map([[1, k1]]), 1);
    const [v, iv, tag, data] = box.encrypt("secret").split(":");
    const flipped = Buffer.from(data!, "base64");
    flipped[0] = flipped[0]! ^ 1;
    expect(() => box.decrypt([v, iv, tag, flipped.toString("base64")].join(":"))).toThrow();
    expect(() => box.decrypt(`v9:${iv}:${tag}:${data}`)).toThrow(/version 9/);
    expect(() => box.decrypt("garbage")).toThrow(/malformed/);
  });

  it("parses hex and base64 master keys of 32 bytes only", () => {
    expect(parseMasterKey("ab".repeat(32))).toHaveLength(32);
    expect(parseMasterKey(k1.toString("base64"))).toEqual(k1);
    expect(() => parseMasterKey("short")).toThrow(/32 bytes/);
  });
});
