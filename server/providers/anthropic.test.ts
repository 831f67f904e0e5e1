import { MessageStream } from "@anthropic-ai/sdk/lib/MessageStream";
import { describe, expect, it } from "vitest";
import { rejection } from "../testing/app-error";
import type { SseEvent } from "./adapter";
import { TEST_KEY } from "./adapter.contract";
import { JSON_RESPONSE_TOOL } from "./anthropic";
import {
  ANTHROPIC_TEXT_RESPONSE,
  ANTHROPIC_TEXT_STREAM,
  ANTHROPIC_TOOL_RESPONSE,
  ANTHROPIC_TOOL_STREAM,
  ANTHROPIC_USAGE_RESPONSE,
  anthropicSse,
  message,
  usage,
} from "./fixtures/anthropic";
import { getAdapter } from "./registry";
import { UpstreamError, type ChatChunk, type ChatRequest, type UpstreamTarget } from "./types";

const adapter = getAdapter("anthropic");
const target: UpstreamTarget = { kind: "anthropic", baseUrl: "https://api.anthropic.com/v1", apiKey: TEST_KEY, model: "claude-sonnet-4-5" };
const hello: ChatRequest = { model: "m", messages: [{ role: "user", content: "Hi" }] };

function body(req: ChatRequest, t: UpstreamTarget = target, dropParams?: string[]): Record<string, unknown> {
  const options = dropParams ? { dropParams: new Set(dropParams) } : undefined;
  return JSON.parse(adapter.buildRequest(req, t, options).body) as Record<string, unknown>;
}

function stream(events: SseEvent[]): ChatChunk[] {
  const parser = adapter.createStreamParser(target);
  return [...events.flatMap((e) => parser.push(e)), ...parser.end()];
}

/** The official SDK's accumulator: checks that the stream fixtures describe the same message as the JSON ones. */
async function sdkFinalMessage(events: SseEvent[]) {
  const text = events.map((e) => `${e.data}\n`).join("");
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });
  return MessageStream.fromReadableStream(readable).finalMessage();
}

describe("Anthropic fixtures", () => {
  it("stream fixtures reassemble, in the official SDK, to the non-streamed fixtures", async () => {
    const text = await sdkFinalMessage(ANTHROPIC_TEXT_STREAM);
    expect(text.content).toEqual(ANTHROPIC_TEXT_RESPONSE.content);
    expect(text.usage.output_tokens).toBe(ANTHROPIC_TEXT_RESPONSE.usage.output_tokens);
    const tool = await sdkFinalMessage(ANTHROPIC_TOOL_STREAM);
    expect(tool.content.map((b) => (b.type === "tool_use" ? b.input : b.type === "text" ? b.text : null))).toEqual(
      ANTHROPIC_TOOL_RESPONSE.content.map((b) => (b.type === "tool_use" ? b.input : b.type === "text" ? b.text : null)),
    );
  });
});

describe("Anthropic request mapping", () => {
  it("defaults max_tokens to the model's max output, or 4096 when the catalog does not know it", () => {
    expect(body(hello, { ...target, maxOutputTokens: 64_000 }).max_tokens).toBe(64_000);
    expect(body(hello).max_tokens).toBe(4096);
    expect(body({ ...hello, max_tokens: 100, max_completion_tokens: 200 }).max_tokens).toBe(200);
  });

  it("maps developer messages and cache_control breakpoints into system blocks", () => {
    const b = body({
      model: "m",
      messages: [
        { role: "system", content: [{ type: "text", text: "Long policy", cache_control: { type: "ephemeral" } }] },
        { role: "developer", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Hi", cache_control: { type: "ephemeral", ttl: "1h" } }] },
      ],
    });
    expect(b.system).toEqual([
      { type: "text", text: "Long policy", cache_control: { type: "ephemeral" } },
      { type: "text", text: "Be brief." },
    ]);
    expect(b.messages).toEqual([{ role: "user", content: [{ type: "text", text: "Hi", cache_control: { type: "ephemeral", ttl: "1h" } }] }]);
  });

  it("merges parallel tool results into one user turn, followed by the next user text", () => {
    const b = body({
      model: "m",
      messages: [
        { role: "user", content: "Weather in Paris and Rome?" },
        {
          role: "assistant",
          content: "Checking.",
          tool_calls: [
            { id: "a", type: "function", function: { name: "w", arguments: '{"city":"Paris"}' } },
            { id: "b", type: "function", function: { name: "w", arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: "tool", tool_call_id: "a", content: "21" },
        { role: "tool", tool_call_id: "b", content: [{ type: "text", text: "25" }] },
        { role: "user", content: "Thanks" },
      ],
    });
    expect(b.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Weather in Paris and Rome?" }] },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "a", name: "w", input: { city: "Paris" } },
          { type: "tool_use", id: "b", name: "w", input: { city: "Rome" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "a", content: "21" },
          { type: "tool_result", tool_use_id: "b", content: [{ type: "text", text: "25" }] },
          { type: "text", text: "Thanks" },
        ],
      },
    ]);
  });

  it("maps image URLs and PDFs, and rejects what Claude cannot read", () => {
    const req = (part: unknown): ChatRequest => ({ model: "m", messages: [{ role: "user", content: [part] }] as ChatRequest["messages"] });
    expect(body(req({ type: "image_url", image_url: { url: "https://example.com/cat.jpg", detail: "low" } })).messages).toEqual([
      { role: "user", content: [{ type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } }] },
    ]);
    expect(body(req({ type: "file", file: { file_data: "data:application/pdf;base64,JVBERi0=" } })).messages).toEqual([
      { role: "user", content: [{ type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" } }] },
    ]);
    const bmp = rejection(() => body(req({ type: "image_url", image_url: { url: "data:image/bmp;base64,Qk0=" } })));
    expect(bmp.options.param).toBe("messages[0].content[0]");
    expect(rejection(() => body(req({ type: "input_audio", input_audio: { data: "UklGR", format: "wav" } }))).code).toBe(
      "unsupported_parameter",
    );
  });

  it("rejects invalid tool-call arguments in history instead of sending garbage", () => {
    const error = rejection(() =>
      body({
        model: "m",
        messages: [{ role: "assistant", content: null, tool_calls: [{ id: "a", type: "function", function: { name: "w", arguments: "{oops" } }] }],
      }),
    );
    expect(error).toMatchObject({ status: 400, code: "invalid_tool_arguments" });
    expect(error.options.param).toBe("messages[0].tool_calls[0].function.arguments");
  });

  it("maps tool_choice, parallel_tool_calls and allowed_tools", () => {
    const tools: ChatRequest["tools"] = [
      { type: "function", function: { name: "a", parameters: { type: "object" } } },
      { type: "function", function: { name: "b" } },
    ];
    const withTools = { ...hello, tools };
    expect(body({ ...withTools, tool_choice: "required" }).tool_choice).toEqual({ type: "any" });
    expect(body({ ...withTools, tool_choice: "none" }).tool_choice).toEqual({ type: "none" });
    expect(body({ ...withTools, tool_choice: { type: "function", function: { name: "b" } } }).tool_choice).toEqual({ type: "tool", name: "b" });
    expect(body({ ...withTools, parallel_tool_calls: false }).tool_choice).toEqual({ type: "auto", disable_parallel_tool_use: true });
    expect(body({ ...withTools, parallel_tool_calls: false, tool_choice: "required" }).tool_choice).toEqual({
      type: "any",
      disable_parallel_tool_use: true,
    });
    const allowed = body({
      ...withTools,
      tool_choice: { type: "allowed_tools", allowed_tools: { mode: "required", tools: [{ type: "function", function: { name: "b" } }] } },
    });
    expect(allowed.tools).toEqual([{ name: "b", input_schema: { type: "object", properties: {} } }]);
    expect(allowed.tool_choice).toEqual({ type: "any" });
    expect(body({ ...hello, parallel_tool_calls: false }).tool_choice).toBeUndefined();
  });

  it("never clamps: a temperature above Anthropic's range is rejected, or dropped when allowed", () => {
    const error = rejection(() => body({ ...hello, temperature: 1.5 }));
    expect(error.options.param).toBe("temperature");
    expect(body({ ...hello, temperature: 1.5 }, target, ["temperature"])).not.toHaveProperty("temperature");
  });

  it("maps stop, user and drops OpenAI-only metadata", () => {
    const b = body({ ...hello, stop: "END", user: "u-42", metadata: { team: "x" }, store: true, prompt_cache_key: "k" });
    expect(b.stop_sequences).toEqual(["END"]);
    expect(b.metadata).toEqual({ user_id: "u-42" });
    expect(b).not.toHaveProperty("store");
    expect(b).not.toHaveProperty("prompt_cache_key");
  });

  it("rejects parameters that are not OpenAI parameters, and custom or reserved tools", () => {
    expect(rejection(() => body({ ...hello, top_k: 5 } as ChatRequest)).options.param).toBe("top_k");
    const reserved = rejection(() => body({ ...hello, tools: [{ type: "function", function: { name: JSON_RESPONSE_TOOL } }] }));
    expect(reserved.options.param).toBe("tools");
    expect(rejection(() => body({ ...hello, n: 2 })).options.param).toBe("n");
  });

  it("maps reasoning_effort to an extended-thinking budget below max_tokens", () => {
    expect(body({ ...hello, reasoning_effort: "medium" })).toMatchObject({
      thinking: { type: "enabled", budget_tokens: 2048 },
      max_tokens: 4096 + 2048,
    });
    expect(body({ ...hello, reasoning_effort: "none" })).not.toHaveProperty("thinking");
    expect(rejection(() => body({ ...hello, reasoning_effort: "high", max_tokens: 1000 })).options.param).toBe("reasoning_effort");
    expect(rejection(() => body({ ...hello, reasoning_effort: "xhigh" })).options.param).toBe("reasoning_effort");
    expect(rejection(() => body({ ...hello, reasoning_effort: "low", temperature: 0.2 })).options.param).toBe("temperature");
    const dropped = body({ ...hello, reasoning_effort: "low", temperature: 0.2 }, target, ["temperature"]);
    expect(dropped).toMatchObject({ thinking: { budget_tokens: 1024 } });
    expect(dropped).not.toHaveProperty("temperature");
  });
});

describe("Anthropic JSON output through a forced tool", () => {
  const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"], additionalProperties: false };
  const jsonReq: ChatRequest = {
    ...hello,
    response_format: { type: "json_schema", json_schema: { name: "reply", schema, strict: true } },
  };

  it("sends the schema as the input of a forced tool", () => {
    const b = body(jsonReq);
    expect(b.tools).toEqual([{ name: JSON_RESPONSE_TOOL, description: "Respond with the reply object.", input_schema: schema, strict: true }]);
    expect(b.tool_choice).toEqual({ type: "tool", name: JSON_RESPONSE_TOOL });
    expect(body({ ...hello, response_format: { type: "json_object" } }).tools).toEqual([
      { name: JSON_RESPONSE_TOOL, description: "Respond with a JSON object.", input_schema: { type: "object" } },
    ]);
  });

  it("rejects combining it with client tools or thinking (droppable)", () => {
    const tools: ChatRequest["tools"] = [{ type: "function", function: { name: "a" } }];
    expect(rejection(() => body({ ...jsonReq, tools })).options.param).toBe("response_format");
    expect(rejection(() => body({ ...jsonReq, reasoning_effort: "low" })).options.param).toBe("response_format");
    expect(body({ ...jsonReq, tools }, target, ["response_format"]).tool_choice).toBeUndefined();
  });

  it("returns the tool input as the message content, streamed or not", () => {
    const input = { answer: "42" };
    const response = adapter.parseResponse(
      message({
        content: [{ type: "tool_use", id: "toolu_1", name: JSON_RESPONSE_TOOL, input, caller: { type: "direct" } }],
        stop_reason: "tool_use",
      }),
      target,
    );
    expect(response.choices[0]!.message).toEqual({ role: "assistant", content: '{"answer":"42"}', refusal: null });
    expect(response.choices[0]!.finish_reason).toBe("stop");

    const chunks = stream(
      anthropicSse([
        { type: "message_start", message: message({ stop_reason: null, usage: usage({ input_tokens: 9, output_tokens: 1 }) }) },
        { type: "content_block_start", index: 0, content_block: { type: "tool_use", id: "toolu_1", name: JSON_RESPONSE_TOOL, input: {}, caller: { type: "direct" } } },
        { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: '{"answer":' } },
        { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: '"42"}' } },
        { type: "content_block_stop", index: 0 },
        {
          type: "message_delta",
          delta: { stop_reason: "tool_use", stop_sequence: null, container: null, stop_details: null },
          usage: { output_tokens: 12, input_tokens: null, cache_creation_input_tokens: null, cache_read_input_tokens: null, output_tokens_details: null, server_tool_use: null },
        },
        { type: "message_stop" },
      ]),
    );
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe('{"answer":"42"}');
    expect(chunks.some((c) => c.choices[0]?.delta.tool_calls)).toBe(false);
    expect(chunks.flatMap((c) => c.choices.map((x) => x.finish_reason)).filter(Boolean)).toEqual(["stop"]);
  });
});

describe("Anthropic responses and streams", () => {
  it("returns thinking as reasoning_content and reports cache writes", () => {
    const response = adapter.parseResponse(ANTHROPIC_USAGE_RESPONSE, target);
    expect(response.choices[0]!.message.reasoning_content).toBe("The user wants a greeting.");
    expect(response.usage).toEqual({
      prompt_tokens: 3050,
      completion_tokens: 500,
      total_tokens: 3550,
      prompt_tokens_details: { cached_tokens: 2000, cache_write_tokens: 1000 },
      completion_tokens_details: { reasoning_tokens: 300 },
    });
  });

  it("streams thinking deltas as reasoning_content", () => {
    const chunks = stream(
      anthropicSse([
        { type: "message_start", message: message({ stop_reason: null, usage: usage({ input_tokens: 9, output_tokens: 1 }) }) },
        { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "", signature: "" } },
        { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Let me think" } },
        { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "EqQBCg==" } },
        { type: "content_block_stop", index: 0 },
        { type: "content_block_start", index: 1, content_block: { type: "text", text: "", citations: null } },
        { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Done." } },
      ]),
    );
    expect(chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? "").join("")).toBe("Let me think");
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("Done.");
  });

  it("maps stop reasons: max_tokens → length, refusal → content_filter", () => {
    const finish = (stop_reason: "max_tokens" | "refusal" | "stop_sequence") =>
      adapter.parseResponse(message({ content: [{ type: "text", text: "x", citations: null }], stop_reason }), target).choices[0]!.finish_reason;
    expect(finish("max_tokens")).toBe("length");
    expect(finish("refusal")).toBe("content_filter");
    expect(finish("stop_sequence")).toBe("stop");
  });

  it("throws the classified error when the stream carries an error event", () => {
    const parser = adapter.createStreamParser(target);
    parser.push(ANTHROPIC_TEXT_STREAM[0]!);
    let thrown: unknown;
    try {
      parser.push({ event: "error", data: JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }) });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UpstreamError);
    expect(thrown).toMatchObject({ kind: "overloaded", status: 529, providerCode: "overloaded_error" });
    expect(parser.finished()).toBe(false);
    expect(parser.usage()).toEqual({ input: 25, cachedInput: 0, cacheWrite: 0, output: 1, reasoning: 0 });
  });

  it("keeps usage from message_start when message_delta reports nulls", () => {
    const parser = adapter.createStreamParser(target);
    for (const event of ANTHROPIC_TOOL_STREAM) parser.push(event);
    expect(parser.usage()).toEqual({ input: 472, cachedInput: 0, cacheWrite: 0, output: 89, reasoning: 0 });
  });
});
