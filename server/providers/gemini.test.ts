import { describe, expect, it } from "vitest";
import { rejection } from "../testing/app-error";
import { TEST_KEY } from "./adapter.contract";
import { geminiSse } from "./fixtures/gemini";
import { THOUGHT_SIGNATURE_SEPARATOR } from "./gemini";
import { getAdapter } from "./registry";
import { UpstreamError, type ChatChunk, type ChatRequest, type UpstreamTarget } from "./types";

const adapter = getAdapter("gemini");
const target: UpstreamTarget = {
  kind: "gemini",
  baseUrl: "https://generativelanguage.googleapis.com/v1beta",
  apiKey: TEST_KEY,
  model: "gemini-2.5-flash",
};
const hello: ChatRequest = { model: "m", messages: [{ role: "user", content: "Hi" }] };

function body(req: ChatRequest, dropParams?: string[]): Record<string, unknown> {
  const options = dropParams ? { dropParams: new Set(dropParams) } : undefined;
  return JSON.parse(adapter.buildRequest(req, target, options).body) as Record<string, unknown>;
}

function stream(events: ReturnType<typeof geminiSse>): { chunks: ChatChunk[]; finished: boolean } {
  const parser = adapter.createStreamParser(target);
  const chunks = events.flatMap((e) => parser.push(e));
  const finished = parser.finished();
  return { chunks: [...chunks, ...parser.end()], finished };
}

describe("Gemini request mapping", () => {
  it("streams through streamGenerateContent with alt=sse, and accepts models/ ids", () => {
    const spec = adapter.buildRequest({ ...hello, stream: true, stream_options: { include_usage: true } }, { ...target, model: "models/gemini-2.5-pro" });
    expect(spec.url).toBe("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
    expect(JSON.parse(spec.body)).toEqual({ contents: [{ role: "user", parts: [{ text: "Hi" }] }] });
  });

  it("maps sampling and output controls into generationConfig", () => {
    expect(
      body({
        ...hello,
        top_p: 0.9,
        seed: 7,
        n: 2,
        max_completion_tokens: 300,
        presence_penalty: 0.5,
        frequency_penalty: 0.25,
        logprobs: true,
        top_logprobs: 3,
        stop: "END",
        user: "u-1",
        metadata: { a: "b" },
      }).generationConfig,
    ).toEqual({
      topP: 0.9,
      seed: 7,
      candidateCount: 2,
      maxOutputTokens: 300,
      presencePenalty: 0.5,
      frequencyPenalty: 0.25,
      responseLogprobs: true,
      logprobs: 3,
      stopSequences: ["END"],
    });
  });

  it("maps response_format to a JSON mime type and a JSON schema", () => {
    const schema = { type: "object", properties: { a: { type: "integer" } }, additionalProperties: false };
    expect(body({ ...hello, response_format: { type: "json_schema", json_schema: { name: "x", schema } } }).generationConfig).toEqual({
      responseMimeType: "application/json",
      responseJsonSchema: schema,
    });
    expect(body({ ...hello, response_format: { type: "json_object" } }).generationConfig).toEqual({ responseMimeType: "application/json" });
    expect(body({ ...hello, response_format: { type: "text" } })).not.toHaveProperty("generationConfig");
  });

  it("maps tool_choice to functionCallingConfig", () => {
    const tools: ChatRequest["tools"] = [
      { type: "function", function: { name: "a" } },
      { type: "function", function: { name: "b" } },
    ];
    const cfg = (tool_choice: ChatRequest["tool_choice"]) => body({ ...hello, tools, tool_choice }).toolConfig;
    expect(cfg("required")).toEqual({ functionCallingConfig: { mode: "ANY" } });
    expect(cfg("none")).toEqual({ functionCallingConfig: { mode: "NONE" } });
    expect(cfg({ type: "function", function: { name: "b" } })).toEqual({ functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["b"] } });
    const allowed = body({
      ...hello,
      tools,
      tool_choice: { type: "allowed_tools", allowed_tools: { mode: "auto", tools: [{ type: "function", function: { name: "a" } }] } },
    });
    expect(allowed.tools).toEqual([{ functionDeclarations: [{ name: "a" }] }]);
    expect(allowed.toolConfig).toEqual({ functionCallingConfig: { mode: "AUTO" } });
    expect(rejection(() => body({ ...hello, tools, parallel_tool_calls: false })).options.param).toBe("parallel_tool_calls");
  });

  it("maps reasoning_effort to Google's thinking budgets", () => {
    const budget = (reasoning_effort: ChatRequest["reasoning_effort"]) =>
      (body({ ...hello, reasoning_effort }).generationConfig as { thinkingConfig: unknown }).thinkingConfig;
    expect(budget("none")).toEqual({ thinkingBudget: 0 });
    expect(budget("low")).toEqual({ thinkingBudget: 1024 });
    expect(budget("medium")).toEqual({ thinkingBudget: 8192 });
    expect(budget("high")).toEqual({ thinkingBudget: 24576 });
    expect(rejection(() => body({ ...hello, reasoning_effort: "max" })).options.param).toBe("reasoning_effort");
  });

  it("maps image URLs by extension, audio, and PDFs; rejects what it cannot type", () => {
    const parts = (part: unknown) =>
      (body({ model: "m", messages: [{ role: "user", content: [part] }] as ChatRequest["messages"] }).contents as Array<{ parts: unknown[] }>)[0]!
        .parts;
    expect(parts({ type: "image_url", image_url: { url: "https://example.com/a/cat.JPG?size=2" } })).toEqual([
      { fileData: { mimeType: "image/jpeg", fileUri: "https://example.com/a/cat.JPG?size=2" } },
    ]);
    expect(parts({ type: "input_audio", input_audio: { data: "UklGR", format: "wav" } })).toEqual([
      { inlineData: { mimeType: "audio/wav", data: "UklGR" } },
    ]);
    expect(parts({ type: "file", file: { file_data: "data:application/pdf;base64,JVBERi0=" } })).toEqual([
      { inlineData: { mimeType: "application/pdf", data: "JVBERi0=" } },
    ]);
    const error = rejection(() => parts({ type: "image_url", image_url: { url: "https://example.com/render?id=3" } }));
    expect(error.options.param).toBe("messages[0].content[0]");
    expect(rejection(() => parts({ type: "file", file: { file_id: "file-abc" } })).code).toBe("unsupported_parameter");
  });

  it("names function responses after their call and wraps non-object results", () => {
    const b = body({
      model: "m",
      messages: [
        { role: "user", content: "Weather?" },
        { role: "assistant", tool_calls: [{ id: "c1", type: "function", function: { name: "get_weather", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "c1", content: "sunny" },
      ],
    });
    expect((b.contents as unknown[])[2]).toEqual({
      role: "user",
      parts: [{ functionResponse: { name: "get_weather", response: { content: "sunny" } } }],
    });
    const orphan = rejection(() => body({ model: "m", messages: [{ role: "tool", tool_call_id: "nope", content: "x" }] }));
    expect(orphan).toMatchObject({ status: 400, code: "invalid_tool_call_id" });
  });
});

describe("Gemini responses and streams", () => {
  it("carries a function call's thought signature through the tool-call id and back", () => {
    const response = adapter.parseResponse(
      {
        candidates: [
          {
            content: { role: "model", parts: [{ functionCall: { name: "get_weather", args: { city: "Paris" } }, thoughtSignature: "CiQBVKhc7A==" }] },
            finishReason: "STOP",
          },
        ],
        responseId: "r1",
      },
      target,
    );
    const call = response.choices[0]!.message.tool_calls![0]!;
    expect(call.id).toBe(`call_r1_0${THOUGHT_SIGNATURE_SEPARATOR}CiQBVKhc7A==`);
    const next = body({
      model: "m",
      messages: [
        { role: "user", content: "Weather?" },
        { role: "assistant", content: null, tool_calls: [call] },
        { role: "tool", tool_call_id: call.id, content: '{"temp_c":21}' },
      ],
    });
    expect((next.contents as unknown[])[1]).toEqual({
      role: "model",
      parts: [{ functionCall: { name: "get_weather", args: { city: "Paris" } }, thoughtSignature: "CiQBVKhc7A==" }],
    });
  });

  it("reports a blocked prompt as a content_filter finish, streamed or not", () => {
    const blocked = { promptFeedback: { blockReason: "SAFETY" }, usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 }, responseId: "b1" };
    const response = adapter.parseResponse(blocked, target);
    expect(response.choices).toEqual([
      { index: 0, message: { role: "assistant", content: null, refusal: null }, finish_reason: "content_filter", logprobs: null },
    ]);
    const { chunks, finished } = stream(geminiSse([blocked]));
    expect(finished).toBe(true);
    expect(chunks.flatMap((c) => c.choices.map((x) => x.finish_reason)).filter(Boolean)).toEqual(["content_filter"]);
  });

  it("maps finish reasons: SAFETY → content_filter, MAX_TOKENS → length", () => {
    const finish = (finishReason: string) =>
      adapter.parseResponse({ candidates: [{ content: { role: "model", parts: [{ text: "x" }] }, finishReason }] }, target).choices[0]!
        .finish_reason;
    expect(finish("SAFETY")).toBe("content_filter");
    expect(finish("MAX_TOKENS")).toBe("length");
    expect(finish("STOP")).toBe("stop");
  });

  it("returns several candidates as several choices, with logprobs", () => {
    const response = adapter.parseResponse(
      {
        candidates: [
          {
            content: { role: "model", parts: [{ text: "Hi" }] },
            finishReason: "STOP",
            index: 0,
            logprobsResult: {
              topCandidates: [{ candidates: [{ token: "Hi", logProbability: -0.1 }, { token: "Hey", logProbability: -2.5 }] }],
              chosenCandidates: [{ token: "Hi", logProbability: -0.1 }],
            },
          },
          { content: { role: "model", parts: [{ text: "Hey" }] }, finishReason: "STOP", index: 1 },
        ],
      },
      target,
    );
    expect(response.choices.map((c) => c.message.content)).toEqual(["Hi", "Hey"]);
    expect(response.choices[0]!.logprobs).toEqual({
      content: [
        {
          token: "Hi",
          logprob: -0.1,
          bytes: null,
          top_logprobs: [
            { token: "Hi", logprob: -0.1, bytes: null },
            { token: "Hey", logprob: -2.5, bytes: null },
          ],
        },
      ],
      refusal: null,
    });
  });

  it("streams thought parts as reasoning_content", () => {
    const { chunks } = stream(
      geminiSse([
        { candidates: [{ content: { role: "model", parts: [{ text: "Thinking…", thought: true }] } }], responseId: "t1" },
        { candidates: [{ content: { role: "model", parts: [{ text: "Answer" }] }, finishReason: "STOP" }], responseId: "t1" },
      ]),
    );
    expect(chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? "").join("")).toBe("Thinking…");
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("Answer");
  });

  it("throws the classified error for an error object inside the stream", () => {
    const parser = adapter.createStreamParser(target);
    let thrown: unknown;
    try {
      parser.push({ data: JSON.stringify({ error: { code: 503, message: "The model is overloaded.", status: "UNAVAILABLE" } }) });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UpstreamError);
    expect(thrown).toMatchObject({ kind: "overloaded", status: 503, providerCode: "UNAVAILABLE" });
  });

  it("reads error bodies wrapped in an array (Vertex style)", () => {
    const error = adapter.classifyError(
      429,
      JSON.stringify([{ error: { code: 429, message: "Resource exhausted. Please try again later.", status: "RESOURCE_EXHAUSTED" } }]),
      new Headers({ "retry-after": "3" }),
    );
    expect(error).toMatchObject({ kind: "rate_limited", retryAfterMs: 3000, providerCode: "RESOURCE_EXHAUSTED" });
  });
});

describe("Gemini embeddings", () => {
  const embeddings = adapter.embeddings!;
  const model = { ...target, model: "gemini-embedding-001" };

  it("embeds one text with embedContent", () => {
    const spec = embeddings.buildRequest({ model: "e", input: "hello", dimensions: 768 }, model);
    expect(spec.url).toBe("https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:embedContent");
    expect(spec.headers["x-goog-api-key"]).toBe(TEST_KEY);
    expect(JSON.parse(spec.body)).toEqual({ content: { parts: [{ text: "hello" }] }, outputDimensionality: 768 });
    const parsed = embeddings.parseResponse({ embedding: { values: [0.5, -1] } }, model, { model: "e", input: "hello" });
    expect(parsed).toEqual({ object: "list", data: [{ object: "embedding", index: 0, embedding: [0.5, -1] }], model: "gemini-embedding-001" });
  });

  it("embeds a list with batchEmbedContents and can answer in base64", () => {
    const req = { model: "e", input: ["a", "b"], encoding_format: "base64" as const };
    const spec = embeddings.buildRequest(req, model);
    expect(spec.url).toBe("https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents");
    expect(JSON.parse(spec.body)).toEqual({
      requests: [
        { model: "models/gemini-embedding-001", content: { parts: [{ text: "a" }] } },
        { model: "models/gemini-embedding-001", content: { parts: [{ text: "b" }] } },
      ],
    });
    const parsed = embeddings.parseResponse({ embeddings: [{ values: [1, 2] }, { values: [0.5] }] }, model, req);
    const decoded = parsed.data.map((d) => {
      const bytes = Buffer.from(d.embedding as string, "base64");
      return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    });
    expect(decoded).toEqual([[1, 2], [0.5]]);
    expect(parsed.usage).toBeUndefined();
  });

  it("rejects token-array input", () => {
    expect(rejection(() => embeddings.buildRequest({ model: "e", input: [1, 2, 3] }, model)).options.param).toBe("input");
  });
});
