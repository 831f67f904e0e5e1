import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppError } from "../errors";
import { chatCompletionRequest } from "./chat";
import { assertNoForbiddenKeys, parseOrThrow } from "./common";

const base = { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] };

function rejection(body: unknown): AppError {
  try {
    assertNoForbiddenKeys(body);
    parseOrThrow(chatCompletionRequest, body);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

describe("chat completion validation", () => {
  it("accepts a rich, valid request", () => {
    const body = {
      ...base,
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: [{ type: "text", text: "what is this" }, { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "low" } }] },
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "call_1", content: "42" },
      ],
      tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: { api_key: { type: "string" } } } } }],
      tool_choice: "auto",
      response_format: { type: "json_schema", json_schema: { name: "answer", schema: { type: "object" }, strict: true } },
      temperature: 0.2,
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 100,
      n: 1,
      metadata: { feature: "search" },
      switchyard: { max_cost_usd: 0.01, require: ["tools"] },
    };
    expect(() => assertNoForbiddenKeys(body)).not.toThrow();
    expect(parseOrThrow(chatCompletionRequest, body).messages).toHaveLength(4);
  });

  it.each([
    [{ ...base, temperature: "hot" }, "invalid_value", "temperature"],
    [{ ...base, max_tokens: -1 }, "invalid_value", "max_tokens"],
    [{ ...base, n: 1000 }, "invalid_value", "n"],
    [{ ...base, messages: [] }, "invalid_value", "messages"],
    [{ model: "x" }, "missing_required_parameter", "messages"],
    [{ ...base, model: undefined }, "missing_required_parameter", "model"],
    [{ ...base, frobnicate: true }, "unknown_parameter", "frobnicate"],
    [{ ...base, messages: [{ role: "user", content: "a\u0000b" }] }, "invalid_value", "messages[0].content"],
    [{ ...base, messages: [{ role: "user", content: "bad \ud800 surrogate" }] }, "invalid_value", "messages[0].content"],
    [{ ...base, messages: [{ role: "wizard", content: "x" }] }, "invalid_value", "messages[0].role"],
    [{ ...base, api_base: "http://169.254.169.254" }, "forbidden_parameter", "api_base"],
    [{ ...base, metadata: { base_url: "http://evil" } }, "forbidden_parameter", "metadata.base_url"],
    [{ ...base, extra_body: { nested: { "api-key": "sk-x" } } }, "forbidden_parameter", "extra_body.nested.api-key"],
    [{ ...base, headers: { Authorization: "Bearer x" } }, "forbidden_parameter", "headers"],
  ])("rejects %j with %s", (body, code, param) => {
    const error = rejection(body);
    expect(error.status).toBe(400);
    expect(error.code).toBe(code);
    expect(error.options.param).toBe(param);
  });

  it("rejects 100k messages with param set, quickly", () => {
    const body = { ...base, messages: Array.from({ length: 100_000 }, () => ({ role: "user", content: "x" })) };
    expect(rejection(body).options.param).toBe("messages");
  });

  it("keeps valid surrogate pairs (emoji)", () => {
    expect(() => parseOrThrow(chatCompletionRequest, { ...base, messages: [{ role: "user", content: "ok 😀" }] })).not.toThrow();
  });

  it("never throws anything but a 400 AppError on arbitrary input (fuzz)", () => {
    const field = fc.constantFrom("model", "messages", "temperature", "max_tokens", "n", "stop", "tools", "tool_choice", "response_format", "stream", "metadata", "logit_bias", "seed", "top_p", "user");
    fc.assert(
      fc.property(fc.dictionary(field, fc.jsonValue()), fc.jsonValue(), (patch, whole) => {
        for (const body of [{ ...base, ...patch }, whole]) {
          try {
            assertNoForbiddenKeys(body);
            parseOrThrow(chatCompletionRequest, body);
          } catch (error) {
            expect(error).toBeInstanceOf(AppError);
            expect((error as AppError).status).toBe(400);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
