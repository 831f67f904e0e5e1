import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseForm } from "./parse-form";

const schema = z.object({ name: z.string().min(2, "too short").regex(/^[a-z]+$/, "lowercase only"), limit: z.coerce.number().int() });

describe("parseForm", () => {
  it("returns the parsed input and clears the messages", () => {
    let shown: Record<string, string> | undefined;
    expect(parseForm(schema, { name: "ok", limit: "3" }, (e) => (shown = e))).toEqual({ name: "ok", limit: 3 });
    expect(shown).toEqual({});
  });

  it("returns null and shows one message per field, the first one when a field has several (as the server's errors show)", () => {
    let shown: Record<string, string> | undefined;
    expect(parseForm(schema, { name: "A", limit: "x" }, (e) => (shown = e))).toBeNull();
    expect(shown).toEqual({ name: "too short", limit: expect.any(String) });
  });
});
