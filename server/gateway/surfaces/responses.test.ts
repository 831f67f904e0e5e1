import fc from "fast-check";
import { accumulateResponse } from "openai/lib/responses/ResponseAccumulator";
import type { Response as OpenAIResponse, ResponseStreamEvent } from "openai/resources/responses/responses";
import { describe, expect, it } from "vitest";
import type { ChatChunk, ChatResponse, NormalizedUsage, ToolCall } from "../../providers/types";
import { rejection } from "../../testing/app-error";
import { AppError } from "../errors";
import { assertNoForbiddenKeys, parseOrThrow } from "../schemas/common";
import {
  chatToResponse,
  createResponsesStreamEncoder,
  responsesCreateRequest,
  responsesToChat,
  storedExchange,
  type ResponseIds,
  type ResponsesCreateRequest,
} from "./responses";
import { chunkFactory, parseFrames } from "./testing";

const ids: ResponseIds = { responseId: "resp_abc", createdAt: 1_700_000_000 };
const base = { model: "gpt-4o-mini", input: "hi" };

function parse(body: unknown): ResponsesCreateRequest {
  assertNoForbiddenKeys(body);
  return parseOrThrow(responsesCreateRequest, body);
}

const weatherTool = {
  type: "function",
  name: "get_weather",
  description: "Weather by city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
  strict: true,
};

/** A conversation using every item kind the surface accepts. */
const rich = {
  model: "gpt-4o-mini",
  instructions: "Be terse.",
  input: [
    { role: "developer", content: "Answer in English." },
    {
      type: "message",
      role: "user",
      content: [
        { type: "input_text", text: "What is this, and the weather?" },
        { type: "input_image", image_url: "https://example.com/cat.jpg", detail: "low" },
        { type: "input_file", file_data: "data:application/pdf;base64,JVBERi0=", filename: "a.pdf" },
      ],
    },
    { type: "reasoning", id: "rs_1", summary: [], content: [{ type: "reasoning_text", text: "Two things." }] },
    {
      type: "message",
      id: "msg_1",
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: "A cat.", annotations: [], logprobs: [] }],
    },
    { type: "function_call", id: "fc_1", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}', status: "completed" },
    { type: "function_call_output", call_id: "call_1", output: "18°C" },
    { role: "user", content: "Thanks." },
  ],
  tools: [weatherTool],
  tool_choice: { type: "allowed_tools", mode: "required", tools: [{ type: "function", name: "get_weather" }] },
  text: { format: { type: "json_schema", name: "answer", schema: { type: "object", properties: { api_key: { type: "string" } } }, strict: true }, verbosity: "low" },
  temperature: 0.5,
  top_p: 0.8,
  max_output_tokens: 500,
  parallel_tool_calls: false,
  metadata: { feature: "search" },
  user: "user-1",
  stream: true,
  store: false,
  reasoning: { effort: "low", summary: "auto" },
  include: ["reasoning.encrypted_content"],
  prompt_cache_key: "conv-9",
};

describe("Responses request validation", () => {
  it("accepts a request with every supported item kind", () => {
    expect(parse(rich).input).toHaveLength(7);
  });

  it.each([
    [{ ...base, frobnicate: 1 }, "unknown_parameter", "frobnicate"],
    [{ model: "m" }, "missing_required_parameter", "input"],
    [{ ...base, temperature: 3 }, "invalid_value", "temperature"],
    [{ ...base, tools: [{ type: "web_search" }] }, "invalid_value", "tools[0].type"],
    [{ ...base, tools: [{ type: "file_search", vector_store_ids: ["vs_1"] }] }, "invalid_value", "tools[0].type"],
    [{ ...base, tools: [{ ...weatherTool, colour: "red" }] }, "unknown_parameter", "tools[0].colour"],
    [{ ...base, tool_choice: { type: "web_search_preview" } }, "invalid_value", "tool_choice"],
    [{ ...base, input: [{ type: "item_reference", id: "msg_1" }] }, "invalid_value", "input[0].type"],
    [{ ...base, input: [{ role: "user", content: [{ type: "input_image", image_url: "ftp://x/y.png" }] }] }, "invalid_value", "input[0].content[0].image_url"],
    [{ ...base, input: [{ role: "user", content: [{ type: "input_text", text: "a\u0000" }] }] }, "invalid_value", "input[0].content[0].text"],
    [{ ...base, input: [{ role: "tool", content: "x" }] }, "invalid_value", "input[0].role"],
    [{ ...base, truncation: "auto" }, "invalid_value", "truncation"],
    [{ ...base, background: true }, "unknown_parameter", "background"],
    [{ ...base, metadata: { base_url: "http://evil" } }, "forbidden_parameter", "metadata.base_url"],
  ])("rejects %j with %s at %s", (body, code, param) => {
    const error = rejection(() => parse(body));
    expect(error.status).toBe(400);
    expect(error.code).toBe(code);
    expect(error.options.param).toBe(param);
  });

  it("names built-in tools in the error", () => {
    expect(rejection(() => parse({ ...base, tools: [{ type: "web_search" }] })).message).toMatch(/built-in tool 'web_search' is not supported/);
  });

  it("never throws anything but a 400 AppError on arbitrary input (fuzz)", () => {
    const field = fc.constantFrom("model", "input", "instructions", "tools", "tool_choice", "text", "reasoning", "metadata", "max_output_tokens", "previous_response_id");
    fc.assert(
      fc.property(fc.dictionary(field, fc.jsonValue()), fc.jsonValue(), (patch, whole) => {
        for (const body of [{ ...base, ...patch }, whole]) {
          try {
            const req = parse(body);
            responsesToChat(req, req.previous_response_id ? { input: [], output: [] } : undefined);
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

describe("responsesToChat", () => {
  it("translates every item kind and parameter", () => {
    expect(responsesToChat(parse(rich))).toEqual({
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: "Be terse." },
        { role: "developer", content: "Answer in English." },
        {
          role: "user",
          content: [
            { type: "text", text: "What is this, and the weather?" },
            { type: "image_url", image_url: { url: "https://example.com/cat.jpg", detail: "low" } },
            { type: "file", file: { file_data: "data:application/pdf;base64,JVBERi0=", filename: "a.pdf" } },
          ],
        },
        {
          role: "assistant",
          content: "A cat.",
          reasoning_content: "Two things.",
          tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
        },
        { role: "tool", tool_call_id: "call_1", content: "18°C" },
        { role: "user", content: "Thanks." },
      ],
      tools: [{ type: "function", function: { name: "get_weather", description: "Weather by city", parameters: weatherTool.parameters, strict: true } }],
      tool_choice: { type: "allowed_tools", allowed_tools: { mode: "required", tools: [{ type: "function", function: { name: "get_weather" } }] } },
      response_format: {
        type: "json_schema",
        json_schema: { name: "answer", schema: { type: "object", properties: { api_key: { type: "string" } } }, strict: true },
      },
      verbosity: "low",
      temperature: 0.5,
      top_p: 0.8,
      max_completion_tokens: 500,
      parallel_tool_calls: false,
      metadata: { feature: "search" },
      user: "user-1",
      reasoning_effort: "low",
      prompt_cache_key: "conv-9",
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it.each([
    ["none", "none"],
    ["required", "required"],
    [{ type: "function", name: "get_weather" }, { type: "function", function: { name: "get_weather" } }],
  ])("maps tool_choice %j", (choice, expected) => {
    expect(responsesToChat(parse({ ...base, tools: [weatherTool], tool_choice: choice })).tool_choice).toEqual(expected);
  });

  it("keeps refusals of earlier turns and merges consecutive assistant items", () => {
    const chat = responsesToChat(
      parse({
        ...base,
        input: [
          { role: "user", content: "q" },
          { role: "assistant", content: [{ type: "refusal", refusal: "No." }] },
          { role: "assistant", content: "Sorry." },
          { role: "user", content: "ok" },
        ],
      }),
    );
    expect(chat.messages).toEqual([
      { role: "user", content: "q" },
      { role: "assistant", content: [{ type: "refusal", refusal: "No." }, { type: "text", text: "Sorry." }] },
      { role: "user", content: "ok" },
    ]);
  });

  it.each([
    [[{ role: "user", content: [{ type: "input_image", file_id: "file_1" }] }], "input[0].content[0]"],
    [[{ role: "system", content: [{ type: "input_image", image_url: "https://x.test/a.png" }] }], "input[0].content[0]"],
    [[{ type: "function_call_output", call_id: "c", output: [{ type: "input_image", image_url: "https://x.test/a.png" }] }], "input[0].output[0]"],
  ])("rejects content without a canonical form (%j)", (input, param) => {
    const error = rejection(() => responsesToChat(parse({ ...base, input })));
    expect([error.status, error.code, error.options.param]).toEqual([400, "unsupported_parameter", param]);
  });

  it("answers previous_response_not_found when the previous exchange is missing", () => {
    const error = rejection(() => responsesToChat(parse({ ...base, previous_response_id: "resp_gone" })));
    expect([error.status, error.code, error.options.param]).toEqual([400, "previous_response_not_found", "previous_response_id"]);
  });

  it("replays a stored chain before the new input, without the earlier instructions", () => {
    const first = parse({ model: "m", instructions: "Old rules.", input: "What's the weather in Paris?", tools: [weatherTool] });
    const firstAnswer = chatToResponse(
      chat({ content: null, tool_calls: [{ id: "call_9", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] }, "tool_calls"),
      first,
      { responseId: "resp_1", createdAt: 1 },
    );
    const stored1 = storedExchange(first, firstAnswer);
    const second = parse({ model: "m", previous_response_id: "resp_1", input: [{ type: "function_call_output", call_id: "call_9", output: "18°C" }] });
    const secondAnswer = chatToResponse(chat({ content: "It is 18°C." }), second, { responseId: "resp_2", createdAt: 2 });
    const stored2 = storedExchange(second, secondAnswer, stored1);
    const third = parse({ model: "m", instructions: "New rules.", previous_response_id: "resp_2", input: "Thanks!" });

    expect(responsesToChat(third, stored2).messages).toEqual([
      { role: "system", content: "New rules." },
      { role: "user", content: "What's the weather in Paris?" },
      { role: "assistant", content: null, tool_calls: [{ id: "call_9", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
      { role: "tool", tool_call_id: "call_9", content: "18°C" },
      { role: "assistant", content: "It is 18°C." },
      { role: "user", content: "Thanks!" },
    ]);
    // Stored items are exactly what a client could send back as input itself.
    expect(() => parse({ model: "m", input: [...stored2.input, ...stored2.output] })).not.toThrow();
  });
});

function chat(message: Partial<ChatResponse["choices"][number]["message"]>, finish: ChatResponse["choices"][number]["finish_reason"] = "stop"): ChatResponse {
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "upstream",
    choices: [{ index: 0, message: { role: "assistant", content: null, refusal: null, ...message }, finish_reason: finish, logprobs: null }],
    usage: {
      prompt_tokens: 100,
      completion_tokens: 20,
      total_tokens: 120,
      prompt_tokens_details: { cached_tokens: 60 },
      completion_tokens_details: { reasoning_tokens: 5 },
    },
  };
}

describe("chatToResponse", () => {
  it("builds reasoning, message and function_call items, echoing the request", () => {
    const req = parse({ ...base, instructions: "Be terse.", tools: [weatherTool], metadata: { a: "b" } });
    const calls: ToolCall[] = [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }];
    const res = chatToResponse(chat({ content: "Checking.", reasoning_content: "Need weather.", tool_calls: calls }, "tool_calls"), req, ids);
    expect(res).toEqual({
      id: "resp_abc",
      object: "response",
      created_at: 1_700_000_000,
      status: "completed",
      error: null,
      incomplete_details: null,
      instructions: "Be terse.",
      max_output_tokens: null,
      model: "gpt-4o-mini",
      output: [
        { id: "rs_abc_0", type: "reasoning", status: "completed", summary: [], content: [{ type: "reasoning_text", text: "Need weather." }] },
        { id: "msg_abc_1", type: "message", status: "completed", role: "assistant", content: [{ type: "output_text", text: "Checking.", annotations: [], logprobs: [] }] },
        { id: "fc_abc_2", type: "function_call", status: "completed", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' },
      ],
      parallel_tool_calls: true,
      previous_response_id: null,
      reasoning: { effort: null, summary: null },
      store: true,
      temperature: 1,
      text: { format: { type: "text" } },
      tool_choice: "auto",
      tools: [{ type: "function", name: "get_weather", description: "Weather by city", parameters: weatherTool.parameters, strict: true }],
      top_p: 1,
      truncation: "disabled",
      usage: {
        input_tokens: 100,
        input_tokens_details: { cached_tokens: 60, cache_write_tokens: 0 },
        output_tokens: 20,
        output_tokens_details: { reasoning_tokens: 5 },
        total_tokens: 120,
      },
      metadata: { a: "b" },
    });
    expect("output_text" in res).toBe(false);
  });

  it.each([
    ["length", "max_output_tokens"],
    ["content_filter", "content_filter"],
  ] as const)("marks finish_reason %s as incomplete (%s)", (finish, reason) => {
    const res = chatToResponse(chat({ content: "Once upon a" }, finish), parse(base), ids);
    expect(res.status).toBe("incomplete");
    expect(res.incomplete_details).toEqual({ reason });
    expect(res.output[0]!.status).toBe("incomplete");
  });

  it("returns refusals as refusal content and uses the usage it is given", () => {
    const usage: NormalizedUsage = { input: 5, cachedInput: 0, cacheWrite: 2, output: 1, reasoning: 0 };
    const res = chatToResponse(chat({ refusal: "I can't." }), parse(base), ids, usage);
    expect(res.output).toEqual([{ id: "msg_abc_0", type: "message", status: "completed", role: "assistant", content: [{ type: "refusal", refusal: "I can't." }] }]);
    expect(res.usage).toEqual({
      input_tokens: 5,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 2 },
      output_tokens: 1,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 6,
    });
  });
});

/** Replays encoder frames through the SDK's own accumulator (what `responses.stream().finalResponse()` uses). */
function accumulate(frames: string[]): { events: ReturnType<typeof parseFrames>; final: OpenAIResponse } {
  const events = parseFrames(frames);
  let snapshot: OpenAIResponse | undefined;
  for (const e of events) snapshot = accumulateResponse(e.data as unknown as ResponseStreamEvent, snapshot);
  return { events, final: snapshot! };
}

describe("createResponsesStreamEncoder", () => {
  const c = chunkFactory();
  const usage: NormalizedUsage = { input: 40, cachedInput: 10, cacheWrite: 0, output: 9, reasoning: 3 };

  it("emits the semantic event sequence with consecutive sequence numbers", () => {
    const encoder = createResponsesStreamEncoder(parse(base), ids);
    const frames = [
      ...encoder.push(c.delta({ role: "assistant", content: "" })),
      ...encoder.push(c.delta({ reasoning_content: "Hm" })),
      ...encoder.push(c.delta({ content: "Hel" })),
      ...encoder.push(c.delta({ content: "lo" })),
      ...encoder.push(c.delta({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"ci' } }] })),
      ...encoder.push(c.delta({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Paris"}' } }] })),
      ...encoder.push(c.delta({}, "tool_calls")),
      ...encoder.end(usage),
    ];
    const { events, final } = accumulate(frames);
    expect(events.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.reasoning_text.delta",
      "response.reasoning_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    events.forEach((e, i) => {
      expect(e.data.type).toBe(e.event);
      expect(e.data.sequence_number).toBe(i);
    });
    expect(events[0]!.data.response).toMatchObject({ id: "resp_abc", status: "in_progress", output: [] });
    expect(events[10]!.data).toMatchObject({ item_id: "msg_abc_1", output_index: 1, content_index: 0, delta: "Hel" });
    expect(events[18]!.data).toMatchObject({ item_id: "fc_abc_2", name: "get_weather", arguments: '{"city":"Paris"}' });
    expect(final.status).toBe("completed");
    expect(final.output_text).toBe("Hello");
    expect(final).toEqual({ ...encoder.response(), output_text: "Hello" });
    expect(encoder.response().usage).toEqual({
      input_tokens: 40,
      input_tokens_details: { cached_tokens: 10, cache_write_tokens: 0 },
      output_tokens: 9,
      output_tokens_details: { reasoning_tokens: 3 },
      total_tokens: 49,
    });
    expect(encoder.push(c.delta({ content: "late" }))).toEqual([]);
  });

  it("ends with response.incomplete when the output was cut", () => {
    const encoder = createResponsesStreamEncoder(parse(base), ids);
    const frames = [...encoder.push(c.delta({ content: "Once upon" }, "length")), ...encoder.push(c.usage({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 })), ...encoder.end(null)];
    const { events, final } = accumulate(frames);
    expect(events.at(-1)!.event).toBe("response.incomplete");
    expect(final.status).toBe("incomplete");
    expect(final.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(final.output[0]).toMatchObject({ type: "message", status: "incomplete" });
    expect(final.usage?.input_tokens).toBe(3);
  });

  it("ends a failed stream with error and response.failed, keeping the partial output", () => {
    const encoder = createResponsesStreamEncoder(parse(base), ids);
    const frames = [...encoder.push(c.delta({ content: "Half" })), encoder.error("Upstream timed out", "server_error")];
    const { events, final } = accumulate(frames);
    expect(events.slice(-2).map((e) => e.event)).toEqual(["error", "response.failed"]);
    expect(events.at(-2)!.data).toEqual({ type: "error", sequence_number: events.length - 2, code: "server_error", message: "Upstream timed out", param: null });
    expect(final.status).toBe("failed");
    expect(final.error).toEqual({ code: "server_error", message: "Upstream timed out" });
    expect(final.output_text).toBe("Half");
    expect(encoder.end(null)).toEqual([]);
    expect(encoder.error("again", "server_error")).toBe("");
  });

  it("opens the response even when the first thing to happen is the end or a failure", () => {
    expect(accumulate(createResponsesStreamEncoder(parse(base), ids).end(null)).events.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.completed",
    ]);
    expect(accumulate([createResponsesStreamEncoder(parse(base), ids).error("x", "server_error")]).final.status).toBe("failed");
  });

  it("streams to the same response chatToResponse builds for the whole answer (property)", () => {
    const piece = fc.string({ minLength: 1, maxLength: 6 });
    const answer = fc.record({
      reasoning: fc.array(piece, { maxLength: 3 }),
      text: fc.array(piece, { maxLength: 4 }),
      calls: fc.array(fc.record({ name: fc.constantFrom("a", "b"), args: fc.array(piece, { maxLength: 3 }) }), { maxLength: 3 }),
      finish: fc.constantFrom("stop" as const, "length" as const),
    });
    fc.assert(
      fc.property(answer, (a) => {
        const req = parse(base);
        const chunks: ChatChunk[] = [c.delta({ role: "assistant", content: "" })];
        for (const r of a.reasoning) chunks.push(c.delta({ reasoning_content: r }));
        for (const t of a.text) chunks.push(c.delta({ content: t }));
        a.calls.forEach((call, index) => {
          chunks.push(c.delta({ tool_calls: [{ index, id: `call_${index}`, type: "function", function: { name: call.name, arguments: "" } }] }));
          for (const arg of call.args) chunks.push(c.delta({ tool_calls: [{ index, function: { arguments: arg } }] }));
        });
        const finish = a.calls.length > 0 && a.finish === "stop" ? "tool_calls" : a.finish;
        chunks.push(c.delta({}, finish));

        const encoder = createResponsesStreamEncoder(req, ids);
        const { final } = accumulate([...chunks.flatMap((chunk) => encoder.push(chunk)), ...encoder.end(usage)]);

        const calls: ToolCall[] = a.calls.map((call, index) => ({ id: `call_${index}`, type: "function", function: { name: call.name, arguments: call.args.join("") } }));
        const whole = chat(
          {
            content: a.text.length > 0 ? a.text.join("") : null,
            ...(a.reasoning.length > 0 ? { reasoning_content: a.reasoning.join("") } : {}),
            ...(calls.length > 0 ? { tool_calls: calls } : {}),
          },
          finish,
        );
        const expected = chatToResponse(whole, req, ids, usage);
        const { output_text: _text, ...streamed } = final;
        expect(streamed).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
