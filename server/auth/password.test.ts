import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "./password";

describe("password hashing", () => {
  it("writes scrypt$N$r$p$salt$hash and verifies only the right password", async () => {
    const hash = await hashPassword("correct horse battery staple");
    expect(hash).toMatch(/^scrypt\$32768\$8\$3\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    expect(hash).not.toContain("correct horse");
    expect(await verifyPassword("correct horse battery staple", hash)).toBe(true);
    expect(await verifyPassword("correct horse battery stapl", hash)).toBe(false);
    expect(await verifyPassword("", hash)).toBe(false);
  });

  it("salts every hash", async () => {
    const [a, b] = await Promise.all([hashPassword("same password!"), hashPassword("same password!")]);
    expect(a).not.toBe(b);
    expect(await verifyPassword("same password!", b)).toBe(true);
  });

  it("verifies composed and decomposed Unicode as the same password", async () => {
    const hash = await hashPassword("caf\u00e9-au-lait-42");
    expect(await verifyPassword("cafe\u0301-au-lait-42", hash)).toBe(true);
  });

  it("honours the parameters stored in the hash", async () => {
    const stored = await hashPassword("parameters travel");
    // Same salt and key, parameters changed: the derived key differs, so the password no longer verifies.
    const tampered = stored.replace("$32768$8$3$", "$16384$8$3$");
    expect(await verifyPassword("parameters travel", tampered)).toBe(false);
  });

  it.each([
    ["empty", ""],
    ["another scheme", "bcrypt$2b$10$abcdefghijklmnopqrstuv"],
    ["too few parts", "scrypt$16384$8$1$c2FsdA=="],
    ["N not a power of two", "scrypt$1000$8$1$c2FsdHNhbHQ=$" + "A".repeat(44)],
    ["N too large", "scrypt$2147483648$8$1$c2FsdHNhbHQ=$" + "A".repeat(44)],
    ["p out of range", "scrypt$16384$8$99$c2FsdHNhbHQ=$" + "A".repeat(44)],
    ["an empty salt", "scrypt$16384$8$1$$" + "A".repeat(44)],
    ["a short hash", "scrypt$16384$8$1$c2FsdHNhbHQ=$AAAA"],
  ])("refuses a malformed hash (%s) without throwing", async (_name, stored) => {
    expect(await verifyPassword("anything at all", stored)).toBe(false);
  });
});
