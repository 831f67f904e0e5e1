import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDirectives, planText, planToolCalls, quoteOf, replyText } from "./compose";
import { embedText, toBase64Float32 } from "./embeddings";
import { sampleFromSchema } from "./json-sample";
import { countTokens, decode, encode, textOfTokens, textPieces, tokenPieces } from "./tokens";

describe("token helpers", () => {
  it("builds text of exactly N tokens from any base sentence", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 80 }), fc.integer({ min: 0, max: 300 }), (base, n) => {
        expect(countTokens(textOfTokens(base, n))).toBe(n);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps the start of the sentence when the target is shorter", () => {
    const text = textOfTokens('Simulated reply from gpt-4o: you said "hello world".', 5);
    expect(text.startsWith("Simulated")).toBe(true);
    expect(countTokens(text)).toBe(5);
  });

  it("splits tokens into stream pieces that rebuild the text, never halving a character", () => {
    fc.assert(
      // U+FFFD is what a halved character decodes to, so texts that already contain it cannot show a halving.
      fc.property(fc.string({ unit: "grapheme", maxLength: 60 }).filter((t) => !t.includes("\uFFFD")), (text) => {
        const tokens = encode(text);
        const pieces = tokenPieces(tokens);
        expect(pieces.map((p) => p.text).join("")).toBe(text);
        expect(pieces.flatMap((p) => p.tokens)).toEqual(tokens);
        for (const p of pieces) expect(p.text.includes("\uFFFD")).toBe(false);
      }),
      { numRuns: 200 },
    );
    expect(textPieces("ab 𝔘𝔫 🧑‍🤝‍🧑").length).toBeGreaterThan(1);
  });

  it("never lets a character cut at a token boundary leak into the next decode", () => {
    const tokens = encode("𝔘𝔫");
    expect(tokens.length).toBeGreaterThan(2);
    expect(decode(tokens.slice(0, 1))).toBe("\uFFFD");
    expect(decode(encode("abc"))).toBe("abc");
    tokenPieces(tokens.slice(0, 1));
    expect(tokenPieces(encode("xyz")).map((p) => p.text).join("")).toBe("xyz");
  });

  it("treats special-token text typed by a user as plain text", () => {
    expect(countTokens("<|endoftext|> hi")).toBeGreaterThan(2);
  });
});

describe("directives and replies", () => {
  it("parses directives, alone or combined, and strips them from the quote", () => {
    const { directives, clean } = parseDirectives("Tell me a joke [[sim:tokens=50]] please [[sim:reasoning=7,tools=none]]");
    expect(directives).toEqual({ tokens: 50, reasoning: 7, noTools: true });
    expect(clean).toBe("Tell me a joke please");
  });

  it("quotes the first words of the message and names the model and choice", () => {
    expect(quoteOf("one two three", 2)).toBe("one two ...");
    expect(quoteOf("")).toBe("(nothing)");
    expect(replyText("gpt-4o", "hi", 0)).toBe('Simulated reply from gpt-4o: you said "hi".');
    expect(replyText("gpt-4o", "hi", 1)).toBe('Simulated reply 2 from gpt-4o: you said "hi".');
    expect(countTokens(replyText("gpt-4o", "hi", 0, 40))).toBe(40);
  });

  it("cuts at the earliest stop sequence, then at the token limit", () => {
    const stopped = planText("alpha beta gamma delta", { stop: ["delta", "beta"] });
    expect(stopped).toMatchObject({ text: "alpha ", finish: "stop_sequence", stopSequence: "beta" });
    const limited = planText("alpha beta gamma delta", { maxTokens: 2 });
    expect(limited).toMatchObject({ text: "alpha beta", finish: "length" });
    expect(limited.tokens).toHaveLength(2);
    expect(planText("alpha", { maxTokens: 5 })).toMatchObject({ text: "alpha", finish: "stop" });
  });

  it("calls tools: all in parallel, one when not parallel, the named one, none after results in auto mode", () => {
    const tools = [
      { name: "get_weather", schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
      { name: "get_time", schema: { type: "object", properties: { tz: { type: "string", enum: ["UTC", "CET"] } }, required: ["tz"] } },
    ];
    const base = { parallel: true, afterToolResult: false, hint: "Paris" };
    expect(planToolCalls(tools, "auto", base).map((c) => c.name)).toEqual(["get_weather", "get_time"]);
    expect(planToolCalls(tools, "auto", { ...base, parallel: false }).map((c) => c.name)).toEqual(["get_weather"]);
    expect(planToolCalls(tools, { name: "get_time" }, base)).toEqual([{ name: "get_time", args: { tz: "UTC" }, argsJson: '{"tz":"UTC"}' }]);
    expect(planToolCalls(tools, "auto", { ...base, afterToolResult: true })).toEqual([]);
    expect(planToolCalls(tools, "required", { ...base, afterToolResult: true })).toHaveLength(2);
    expect(planToolCalls(tools, "none", base)).toEqual([]);
    expect(planToolCalls(tools, "auto", { ...base, noTools: true })).toEqual([]);
  });
});

describe("schema samples", () => {
  it("fills required properties by type, resolving refs, enums and unions", () => {
    const schema = {
      type: "object",
      properties: {
        name: { type: "string", minLength: 3 },
        age: { type: "integer", minimum: 18 },
        score: { type: "number", exclusiveMinimum: 0 },
        ok: { type: "boolean" },
        tags: { type: "array", items: { type: "string" }, minItems: 2 },
        kind: { enum: ["a", "b"] },
        maybe: { anyOf: [{ type: "null" }, { type: "integer" }] },
        address: { $ref: "#/$defs/address" },
        optional: { type: "string" },
      },
      required: ["name", "age", "score", "ok", "tags", "kind", "maybe", "address"],
      $defs: { address: { type: "object", properties: { zip: { type: ["string", "null"] } }, required: ["zip"] } },
    };
    expect(sampleFromSchema(schema, "hi")).toEqual({
      name: "hix",
      age: 18,
      score: 0.5,
      ok: true,
      tags: ["hi", "hi"],
      kind: "a",
      maybe: 0,
      address: { zip: "hi" },
    });
  });

  it("understands Gemini's upper-case OpenAPI types and fills every property when none is required", () => {
    expect(sampleFromSchema({ type: "OBJECT", properties: { n: { type: "INTEGER" }, s: { type: "STRING", format: "date" } } })).toEqual({
      n: 0,
      s: "2025-01-01",
    });
  });
});

describe("embeddings", () => {
  const cosine = (a: number[], b: number[]) => a.reduce((sum, v, i) => sum + v * b[i]!, 0);

  it("are deterministic unit vectors of the requested size", () => {
    const v = embedText("The quick brown fox", 256);
    expect(v).toHaveLength(256);
    expect(embedText("The quick brown fox", 256)).toEqual(v);
    expect(cosine(v, v)).toBeCloseTo(1, 6);
    expect(cosine(embedText("", 8), embedText("", 8))).toBeCloseTo(1, 6);
  });

  it("put texts sharing words closer than unrelated texts", () => {
    const a = embedText("how do I reset my password", 512);
    const b = embedText("how can I reset my password please", 512);
    const c = embedText("best pizza in naples", 512);
    expect(cosine(a, b)).toBeGreaterThan(0.6);
    expect(cosine(a, b)).toBeGreaterThan(cosine(a, c));
  });

  it("encodes base64 as little-endian float32", () => {
    const buffer = Buffer.from(toBase64Float32([0.5, -1]), "base64");
    expect([buffer.readFloatLE(0), buffer.readFloatLE(4)]).toEqual([0.5, -1]);
  });
});
