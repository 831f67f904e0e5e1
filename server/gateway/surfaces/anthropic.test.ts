import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createAnthropicAdapter } from "../../providers/anthropic";
import type { ChatChunk, ChatResponse, NormalizedUsage, UpstreamTarget } from "../../providers/types";
import { rejection } from "../../testing/app-error";
import { AppError } from "../errors";
import { assertNoForbiddenKeys, parseOrThrow } from "../schemas/common";
import {
  anthropicMessagesRequest,
  anthropicToChat,
  chatToAnthropic,
  createAnthropicStreamEncoder,
  type AnthropicMessagesRequest,
} from "./anthropic";
import { chunkFactory, parseFrames } from "./testing";

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==";
const base = { model: "claude-sonnet", max_tokens: 256, messages: [{ role: "user", content: "hi" }] };

function parse(body: unknown): AnthropicMessagesRequest {
  assertNoForbiddenKeys(body);
  return parseOrThrow(anthropicMessagesRequest, body);
}

/** A conversation using every block kind the surface accepts. */
const rich = {
  model: "claude-sonnet",
  max_tokens: 4000,
  system: [{ type: "text", text: "You are terse.", cache_control: { type: "ephemeral" } }],
  messages: [
    {
      role: "user",
      content: [
        { type: "text", text: "What is in this picture, and what is the weather?" },
        { type: "image", source: { type: "base64", media_type: "image/png", data: PNG }, cache_control: { type: "ephemeral", ttl: "1h" } },
        { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
      ],
    },
    {
      role: "assistant",
      content: [
        { type: "thinking", thinking: "The user wants two things.", signature: "sig" },
        { type: "text", text: "A cat. Checking the weather." },
        { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
        { type: "tool_use", id: "toolu_2", name: "get_time", input: {} },
      ],
    },
    {
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "toolu_1", content: "18°C", cache_control: { type: "ephemeral" } },
        { type: "tool_result", tool_use_id: "toolu_2", content: [{ type: "text", text: "09:00" }], is_error: false },
        { type: "text", text: "Thanks, summarize." },
      ],
    },
  ],
  stop_sequences: ["END"],
  temperature: 0.3,
  top_p: 0.9,
  tools: [
    { name: "get_weather", description: "Weather by city", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
    { name: "get_time", input_schema: { type: "object", properties: {} }, type: "custom", cache_control: { type: "ephemeral" } },
  ],
  tool_choice: { type: "auto", disable_parallel_tool_use: true },
  metadata: { user_id: "user-42" },
  stream: true,
};

describe("Anthropic request validation", () => {
  it("accepts a request with every supported block kind", () => {
    expect(parse(rich).messages).toHaveLength(3);
  });

  it.each([
    [{ ...base, frobnicate: 1 }, "unknown_parameter", "frobnicate"],
    [{ model: "m", messages: base.messages }, "missing_required_parameter", "max_tokens"],
    [{ ...base, max_tokens: 0 }, "invalid_value", "max_tokens"],
    [{ ...base, temperature: 1.5 }, "invalid_value", "temperature"],
    [{ ...base, messages: [{ role: "user", content: [{ type: "text", text: "a", colour: "red" }] }] }, "unknown_parameter", "messages[0].content[0].colour"],
    [{ ...base, messages: [{ role: "user", content: [{ type: "text", text: "a\u0000" }] }] }, "invalid_value", "messages[0].content[0].text"],
    [
      { ...base, messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "not base64!" } }] }] },
      "invalid_value",
      "messages[0].content[0].source.data",
    ],
    [{ ...base, messages: [{ role: "user", content: [{ type: "image", source: { type: "url", url: "file:///etc/passwd" } }] }] }, "invalid_value", "messages[0].content[0].source.url"],
    [{ ...base, messages: [{ role: "assistant", content: [{ type: "tool_result", tool_use_id: "x", content: "y" }] }] }, "invalid_value", "messages[0].content[0].type"],
    [{ ...base, messages: [{ role: "user", content: 42 }] }, "invalid_value", "messages[0].content"],
    [{ ...base, messages: [{ role: "user" }] }, "missing_required_parameter", "messages[0].content"],
    [{ ...base, tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 3 }] }, "invalid_value", "tools[0].type"],
    [{ ...base, tool_choice: { type: "required" } }, "invalid_value", "tool_choice.type"],
    [{ ...base, thinking: { type: "enabled", budget_tokens: 100 } }, "invalid_value", "thinking.budget_tokens"],
    [{ ...base, metadata: { user_id: "u", api_key: "sk-x" } }, "forbidden_parameter", "metadata.api_key"],
    [{ ...base, container: "abc" }, "unknown_parameter", "container"],
  ])("rejects %j with %s at %s", (body, code, param) => {
    const error = rejection(() => parse(body));
    expect(error.status).toBe(400);
    expect(error.code).toBe(code);
    expect(error.options.param).toBe(param);
  });

  it("lets JSON schemas in input_schema use any property name", () => {
    const body = { ...base, tools: [{ name: "login", input_schema: { type: "object", properties: { api_key: { type: "string" }, headers: { type: "object" } } } }] };
    expect(() => parse(body)).not.toThrow();
  });

  it("never throws anything but a 400 AppError on arbitrary input (fuzz)", () => {
    const field = fc.constantFrom("model", "messages", "max_tokens", "system", "tools", "tool_choice", "thinking", "metadata", "stop_sequences", "temperature", "top_k");
    fc.assert(
      fc.property(fc.dictionary(field, fc.jsonValue()), fc.jsonValue(), (patch, whole) => {
        for (const body of [{ ...base, ...patch }, whole]) {
          try {
            anthropicToChat(parse(body));
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

describe("anthropicToChat", () => {
  it("translates every block kind and parameter", () => {
    const chat = anthropicToChat(parse(rich));
    expect(chat).toEqual({
      model: "claude-sonnet",
      max_completion_tokens: 4000,
      messages: [
        { role: "system", content: [{ type: "text", text: "You are terse.", cache_control: { type: "ephemeral" } }] },
        {
          role: "user",
          content: [
            { type: "text", text: "What is in this picture, and what is the weather?" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` }, cache_control: { type: "ephemeral", ttl: "1h" } },
            { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
          ],
        },
        {
          role: "assistant",
          content: "A cat. Checking the weather.",
          reasoning_content: "The user wants two things.",
          tool_calls: [
            { id: "toolu_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
            { id: "toolu_2", type: "function", function: { name: "get_time", arguments: "{}" } },
          ],
        },
        { role: "tool", tool_call_id: "toolu_1", content: [{ type: "text", text: "18°C", cache_control: { type: "ephemeral" } }] },
        { role: "tool", tool_call_id: "toolu_2", content: [{ type: "text", text: "09:00" }] },
        { role: "user", content: [{ type: "text", text: "Thanks, summarize." }] },
      ],
      stop: ["END"],
      temperature: 0.3,
      top_p: 0.9,
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "Weather by city",
            parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
          },
        },
        { type: "function", function: { name: "get_time", parameters: { type: "object", properties: {} } } },
      ],
      tool_choice: "auto",
      parallel_tool_calls: false,
      user: "user-42",
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("round-trips through the Anthropic adapter to the same upstream request", () => {
    const target: UpstreamTarget = { kind: "anthropic", baseUrl: "https://api.anthropic.com/v1", apiKey: "k", model: "claude-sonnet-4-5" };
    const request = { ...rich, tool_choice: { type: "any" } };
    const spec = createAnthropicAdapter().buildRequest(anthropicToChat(parse(request)), target);
    const upstream = JSON.parse(spec.body as string) as Record<string, unknown>;
    expect(upstream.system).toEqual(request.system);
    expect(upstream.tool_choice).toEqual({ type: "any" });
    expect(upstream.stop_sequences).toEqual(["END"]);
    expect(upstream.max_tokens).toBe(4000);
    expect(upstream.metadata).toEqual({ user_id: "user-42" });
    // What has no canonical place (thinking signatures, is_error, cache_control on tools) is the only difference.
    expect(upstream.messages).toEqual([
      request.messages[0],
      {
        role: "assistant",
        content: [
          { type: "text", text: "A cat. Checking the weather." },
          { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
          { type: "tool_use", id: "toolu_2", name: "get_time", input: {} },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "18°C", cache_control: { type: "ephemeral" } }] },
          { type: "tool_result", tool_use_id: "toolu_2", content: [{ type: "text", text: "09:00" }] },
          { type: "text", text: "Thanks, summarize." },
        ],
      },
    ]);
    expect(upstream.tools).toEqual(request.tools.map(({ type: _t, cache_control: _c, ...tool }) => tool));
  });

  it.each([
    [{ type: "auto" }, { tool_choice: "auto" }],
    [{ type: "any", disable_parallel_tool_use: true }, { tool_choice: "required", parallel_tool_calls: false }],
    [{ type: "tool", name: "get_time" }, { tool_choice: { type: "function", function: { name: "get_time" } } }],
    [{ type: "none" }, { tool_choice: "none" }],
  ])("maps tool_choice %j", (choice, expected) => {
    const chat = anthropicToChat(parse({ ...base, tools: [{ name: "get_time", input_schema: { type: "object" } }], tool_choice: choice }));
    expect({ tool_choice: chat.tool_choice, ...(chat.parallel_tool_calls !== undefined ? { parallel_tool_calls: chat.parallel_tool_calls } : {}) }).toEqual(expected);
  });

  it.each([
    [{ type: "enabled", budget_tokens: 1024 }, "low"],
    [{ type: "enabled", budget_tokens: 2048 }, "medium"],
    [{ type: "enabled", budget_tokens: 4096 }, "high"],
    [{ type: "enabled", budget_tokens: 32000 }, "high"],
    [{ type: "adaptive" }, "medium"],
    [{ type: "disabled" }, undefined],
  ])("maps thinking %j to reasoning_effort %s", (thinking, effort) => {
    expect(anthropicToChat(parse({ ...base, max_tokens: 40_000, thinking })).reasoning_effort).toBe(effort);
  });

  it("prefers output_config.effort and maps output_config.format to a JSON schema response format", () => {
    const schema = { type: "object", properties: { answer: { type: "string" } } };
    const chat = anthropicToChat(
      parse({ ...base, thinking: { type: "enabled", budget_tokens: 1024 }, output_config: { effort: "max", format: { type: "json_schema", schema } } }),
    );
    expect(chat.reasoning_effort).toBe("max");
    expect(chat.response_format).toEqual({ type: "json_schema", json_schema: { name: "output", schema, strict: true } });
  });

  it("keeps system turns in place, string content as strings, and drops redacted thinking", () => {
    const chat = anthropicToChat(
      parse({
        ...base,
        system: "Be kind.",
        messages: [
          { role: "user", content: "a" },
          { role: "system", content: "Now be brief." },
          { role: "assistant", content: [{ type: "redacted_thinking", data: "opaque" }, { type: "text", text: "b", citations: null }] },
        ],
      }),
    );
    expect(chat.messages).toEqual([
      { role: "system", content: "Be kind." },
      { role: "user", content: "a" },
      { role: "system", content: "Now be brief." },
      { role: "assistant", content: "b" },
    ]);
    expect(chat.stream).toBeUndefined();
  });

  it("rejects top_k and images inside tool results with a 400 naming the parameter", () => {
    const topK = rejection(() => anthropicToChat(parse({ ...base, top_k: 40 })));
    expect([topK.status, topK.code, topK.options.param]).toEqual([400, "unsupported_parameter", "top_k"]);
    expect(topK.message).toMatch(/top_k/);
    const image = rejection(() =>
      anthropicToChat(
        parse({
          ...base,
          messages: [
            { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "shot", input: {} }] },
            { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: [{ type: "image", source: { type: "url", url: "https://x.test/a.png" } }] }] },
          ],
        }),
      ),
    );
    expect(image.options.param).toBe("messages[1].content[0].content[0]");
  });
});

function response(message: Partial<ChatResponse["choices"][number]["message"]>, finish: ChatResponse["choices"][number]["finish_reason"] = "stop"): ChatResponse {
  return {
    id: "chatcmpl-abc",
    object: "chat.completion",
    created: 1,
    model: "gpt-x",
    choices: [{ index: 0, message: { role: "assistant", content: null, refusal: null, ...message }, finish_reason: finish, logprobs: null }],
    usage: {
      prompt_tokens: 100,
      completion_tokens: 20,
      total_tokens: 120,
      prompt_tokens_details: { cached_tokens: 60, cache_write_tokens: 30 },
      completion_tokens_details: { reasoning_tokens: 5 },
    },
  };
}

describe("chatToAnthropic", () => {
  it("builds thinking, text and tool_use blocks with Anthropic usage", () => {
    const message = chatToAnthropic(
      response(
        {
          content: "Let me check.",
          reasoning_content: "Need the weather.",
          tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
        },
        "tool_calls",
      ),
      "support-bot",
    );
    expect(message).toEqual({
      id: "msg_chatcmpl-abc",
      type: "message",
      role: "assistant",
      model: "support-bot",
      content: [
        { type: "thinking", thinking: "Need the weather.", signature: "" },
        { type: "text", text: "Let me check." },
        { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 20, cache_read_input_tokens: 60, cache_creation_input_tokens: 30 },
    });
  });

  it.each([
    ["stop", "end_turn"],
    ["length", "max_tokens"],
    ["tool_calls", "tool_use"],
    ["content_filter", "refusal"],
  ] as const)("maps finish_reason %s to stop_reason %s", (finish, stop) => {
    expect(chatToAnthropic(response({ content: "x" }, finish), "m").stop_reason).toBe(stop);
  });

  it("uses the usage it is given, keeps msg_ ids and returns refusals as text", () => {
    const usage: NormalizedUsage = { input: 7, cachedInput: 0, cacheWrite: 0, output: 3, reasoning: 0 };
    const message = chatToAnthropic({ ...response({ refusal: "I can't help with that." }, "content_filter"), id: "msg_01" }, "m", usage);
    expect(message.id).toBe("msg_01");
    expect(message.content).toEqual([{ type: "text", text: "I can't help with that." }]);
    expect(message.usage).toEqual({ input_tokens: 7, output_tokens: 3, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
  });

  it("answers 502 when the model produced tool arguments that are not a JSON object", () => {
    const bad = response({ tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{oops" } }] }, "tool_calls");
    expect(rejection(() => chatToAnthropic(bad, "m")).status).toBe(502);
  });
});

describe("createAnthropicStreamEncoder", () => {
  const c = chunkFactory("chatcmpl-s1");
  const usage: NormalizedUsage = { input: 50, cachedInput: 20, cacheWrite: 10, output: 12, reasoning: 4 };

  it("emits the exact Anthropic event sequence", () => {
    const encoder = createAnthropicStreamEncoder("support-bot");
    const frames = [
      ...encoder.push(c.delta({ role: "assistant", content: "" })),
      ...encoder.push(c.delta({ reasoning_content: "Hmm" })),
      ...encoder.push(c.delta({ content: "Hel" })),
      ...encoder.push(c.delta({ content: "lo" })),
      ...encoder.push(c.delta({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }] })),
      ...encoder.push(c.delta({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] })),
      ...encoder.push(c.delta({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] })),
      ...encoder.push(c.delta({}, "tool_calls")),
      ...encoder.push(c.usage({ prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 })),
      ...encoder.end(usage),
    ];
    const events = parseFrames(frames);
    expect(events.map((e) => `${e.event}${"index" in e.data ? `#${String(e.data.index)}` : ""}`)).toEqual([
      "message_start",
      "content_block_start#0",
      "content_block_delta#0",
      "content_block_stop#0",
      "content_block_start#1",
      "content_block_delta#1",
      "content_block_delta#1",
      "content_block_stop#1",
      "content_block_start#2",
      "content_block_delta#2",
      "content_block_delta#2",
      "content_block_stop#2",
      "message_delta",
      "message_stop",
    ]);
    for (const e of events) expect(e.data.type).toBe(e.event);
    expect(events[0]!.data.message).toMatchObject({ id: "msg_chatcmpl-s1", model: "support-bot", content: [], stop_reason: null });
    expect(events[1]!.data.content_block).toEqual({ type: "thinking", thinking: "", signature: "" });
    expect(events[2]!.data.delta).toEqual({ type: "thinking_delta", thinking: "Hmm" });
    expect(events[5]!.data.delta).toEqual({ type: "text_delta", text: "Hel" });
    expect(events[8]!.data.content_block).toEqual({ type: "tool_use", id: "call_1", name: "get_weather", input: {} });
    expect(events[9]!.data.delta).toEqual({ type: "input_json_delta", partial_json: '{"city":' });
    expect(events[12]!.data).toEqual({
      type: "message_delta",
      delta: { stop_reason: "tool_use", stop_sequence: null },
      usage: { input_tokens: 20, output_tokens: 12, cache_read_input_tokens: 20, cache_creation_input_tokens: 10 },
    });
    expect(encoder.push(c.delta({ content: "late" }))).toEqual([]);
    expect(encoder.end(usage)).toEqual([]);
  });

  it("falls back to the last usage chunk and still opens the message when nothing was streamed", () => {
    const withUsage = createAnthropicStreamEncoder("m");
    withUsage.push(c.usage({ prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 }));
    expect(parseFrames(withUsage.end(null)).at(-2)!.data.usage).toEqual({ input_tokens: 9, output_tokens: 4, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    const empty = parseFrames(createAnthropicStreamEncoder("m").end(null));
    expect(empty.map((e) => e.event)).toEqual(["message_start", "message_delta", "message_stop"]);
    expect(empty[1]!.data.delta).toEqual({ stop_reason: "end_turn", stop_sequence: null });
  });

  it("ends a failed stream with one error event and nothing after it", () => {
    const encoder = createAnthropicStreamEncoder("m");
    encoder.push(c.delta({ content: "partial" }));
    expect(parseFrames(encoder.error("Upstream overloaded", "overloaded_error"))).toEqual([
      { event: "error", data: { type: "error", error: { type: "overloaded_error", message: "Upstream overloaded" } } },
    ]);
    expect(encoder.end(null)).toEqual([]);
    expect(encoder.error("again", "api_error")).toBe("");
  });

  it("reproduces any streamed text and tool calls through the Anthropic stream parser (property)", () => {
    const piece = fc.string({ minLength: 1, maxLength: 8 });
    const step = fc.oneof(
      fc.record({ kind: fc.constant("text" as const), value: piece }),
      fc.record({ kind: fc.constant("thinking" as const), value: piece }),
      fc.record({ kind: fc.constant("tool" as const), name: fc.constantFrom("a", "b"), args: fc.array(piece, { maxLength: 4 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 12 }), (steps) => {
        const encoder = createAnthropicStreamEncoder("m");
        const chunks: ChatChunk[] = [];
        let tools = 0;
        const expected = { text: "", thinking: "", calls: [] as string[] };
        for (const s of steps) {
          if (s.kind === "text") {
            chunks.push(c.delta({ content: s.value }));
            expected.text += s.value;
          } else if (s.kind === "thinking") {
            chunks.push(c.delta({ reasoning_content: s.value }));
            expected.thinking += s.value;
          } else {
            const index = tools++;
            chunks.push(c.delta({ tool_calls: [{ index, id: `call_${index}`, type: "function", function: { name: s.name, arguments: "" } }] }));
            for (const arg of s.args) chunks.push(c.delta({ tool_calls: [{ index, function: { arguments: arg } }] }));
            expected.calls.push(`${s.name}:${s.args.join("")}`);
          }
        }
        chunks.push(c.delta({}, tools > 0 ? "tool_calls" : "stop"));
        const frames = [...chunks.flatMap((chunk) => encoder.push(chunk)), ...encoder.end(usage)];

        const parser = createAnthropicAdapter().createStreamParser({ kind: "anthropic", baseUrl: "http://x", model: "m" });
        const back = parseFrames(frames).flatMap((e) => parser.push({ event: e.event, data: JSON.stringify(e.data) }));
        const got = { text: "", thinking: "", calls: [] as string[] };
        for (const chunk of back) {
          for (const choice of chunk.choices) {
            got.text += choice.delta.content ?? "";
            got.thinking += choice.delta.reasoning_content ?? "";
            for (const call of choice.delta.tool_calls ?? []) {
              if (call.id) got.calls[call.index] = `${call.function?.name}:`;
              got.calls[call.index] += call.function?.arguments ?? "";
            }
          }
        }
        expect(got).toEqual(expected);
        expect(parser.finished()).toBe(true);
        expect(parser.usage()).toEqual({ ...usage, reasoning: 0 });
      }),
      { numRuns: 200 },
    );
  });
});
