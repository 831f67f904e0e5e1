import { describe, expect, it } from "vitest";
import { maskSecrets, REDACTED } from "./audit";

describe("maskSecrets", () => {
  it("redacts secret-named fields at any depth and keeps the rest", () => {
    const masked = maskSecrets({
      name: "openai",
      keyLast4: "WXYZ",
      apiKey: "sk-live-abcdefghijklmnopqrstuvwx",
      nested: { passwordHash: "scrypt$1$2$3$4$5", password: "hunter2hunter2", clientSecret: "s3cr3t", hash: "ab12" },
      list: [{ token: "t0k3n" }],
      config: { headers: { "x-team": "blue" } },
    });
    expect(masked).toEqual({
      name: "openai",
      keyLast4: "WXYZ",
      apiKey: REDACTED,
      nested: { passwordHash: REDACTED, password: REDACTED, clientSecret: REDACTED, hash: REDACTED },
      list: [{ token: REDACTED }],
      config: { headers: { "x-team": "blue" } },
    });
  });

  it("scrubs key-shaped strings in innocent fields", () => {
    const masked = maskSecrets({ description: "uses sk-abcdefghijklmnopqrstuv and sy-ABCDEFGHIJKLMNOPQRSTUVWX" }) as { description: string };
    expect(masked.description).not.toMatch(/sk-abcdef|sy-ABCDEF/);
  });

  it("serializes dates and decimals, drops undefined, keeps null for secret fields left empty", () => {
    const decimal = { toJSON: () => "0.15" };
    expect(maskSecrets({ at: new Date("2026-01-02T03:04:05Z"), price: decimal, gone: undefined, apiKey: null })).toEqual({
      at: "2026-01-02T03:04:05.000Z",
      price: "0.15",
      apiKey: null,
    });
  });
});
