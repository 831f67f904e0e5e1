import { describe, expect, it } from "vitest";
import { AppError } from "../gateway/errors";
import { parseInputFile, validateLine } from "./input";

const line = (customId: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ custom_id: customId, method: "POST", url: "/v1/chat/completions", body: { model: "m", messages: [{ role: "user", content: "hi" }] }, ...extra });

describe("parseInputFile", () => {
  it("reads JSONL lines with their 1-based line numbers, skipping blank lines and CRLF endings", () => {
    const parsed = parseInputFile(`${line("a")}\r\n\r\n${line("b")}\n`, "/v1/chat/completions");
    expect(parsed).toEqual({
      ok: true,
      lines: [
        { line: 1, customId: "a", url: "/v1/chat/completions", body: { model: "m", messages: [{ role: "user", content: "hi" }] } },
        { line: 3, customId: "b", url: "/v1/chat/completions", body: { model: "m", messages: [{ role: "user", content: "hi" }] } },
      ],
    });
  });

  it("reports every file-level problem with its line and parameter", () => {
    const text = [
      "not json",
      "[1,2]",
      line(""),
      line("dup"),
      line("dup"),
      line("get", { method: "GET" }),
      line("emb", { url: "/v1/embeddings" }),
      line("nobody", { body: "text" }),
      line("x".repeat(513)),
    ].join("\n");
    const parsed = parseInputFile(text, "/v1/chat/completions");
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors.map((e) => [e.line, e.code, e.param])).toEqual([
      [1, "invalid_json_line", null],
      [2, "invalid_json_line", null],
      [3, "missing_required_parameter", "custom_id"],
      [5, "duplicate_custom_id", "custom_id"],
      [6, "invalid_value", "method"],
      [7, "mismatched_endpoint", "url"],
      [8, "invalid_value", "body"],
      [9, "invalid_value", "custom_id"],
    ]);
  });

  it("refuses an empty file", () => {
    expect(parseInputFile("\n\n", "/v1/embeddings")).toEqual({ ok: false, errors: [{ code: "empty_file", message: expect.any(String), param: null, line: null }] });
  });
});

describe("validateLine", () => {
  it("validates chat bodies with the live endpoint's schema and strips routing overrides", () => {
    const valid = validateLine("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }], switchyard: { max_cost_usd: 1 } });
    expect(valid).toEqual({ kind: "chat", request: { model: "m", messages: [{ role: "user", content: "x" }] } });
    const bad = () => validateLine("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }], temperature: 9 });
    expect(bad).toThrow(AppError);
    expect(bad).toThrow(/temperature/);
    expect(() => validateLine("/v1/chat/completions", { model: "m", messages: [], nope: 1 })).toThrow(AppError);
  });

  it("refuses streaming lines and forbidden keys", () => {
    expect(() => validateLine("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }], stream: true })).toThrow(/cannot stream/);
    expect(() => validateLine("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }], api_base: "http://evil" })).toThrow(/not allowed/);
  });

  it("validates embeddings bodies", () => {
    expect(validateLine("/v1/embeddings", { model: "e", input: ["a", "b"] })).toEqual({ kind: "embeddings", request: { model: "e", input: ["a", "b"] } });
    expect(() => validateLine("/v1/embeddings", { model: "e" })).toThrow(/input/);
  });
});
