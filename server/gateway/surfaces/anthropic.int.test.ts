/**
 * Proves the Anthropic surface is what the official @anthropic-ai/sdk expects: a real HTTP server validates and
 * translates each SDK request with this module, answers from a scripted canonical response through
 * chatToAnthropic / the stream encoder, and the SDK (create, raw streams, the MessageStream helper) consumes it.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChatChunk, ChatRequest, ChatResponse, NormalizedUsage } from "../../providers/types";
import { renderAnthropicError, toAppError } from "../errors";
import { assertNoForbiddenKeys, parseOrThrow } from "../schemas/common";
import { anthropicMessagesRequest, anthropicToChat, chatToAnthropic, createAnthropicStreamEncoder } from "./anthropic";
import { chunkFactory, startScriptedServer, type ScriptedReply, type ScriptedServer } from "./testing";

type Answer = { response: ChatResponse } | { chunks: ChatChunk[]; usage: NormalizedUsage; failWith?: string };

let server: ScriptedServer;
let client: Anthropic;
let captured: ChatRequest[] = [];
let answer: Answer;

beforeAll(async () => {
  server = await startScriptedServer(async (path, body): Promise<ScriptedReply> => {
    try {
      if (path !== "/v1/messages") throw new Error(`unexpected path ${path}`);
      assertNoForbiddenKeys(body);
      const req = parseOrThrow(anthropicMessagesRequest, body);
      captured.push(anthropicToChat(req));
      if ("response" in answer) return { status: 200, json: chatToAnthropic(answer.response, req.model) };
      const encoder = createAnthropicStreamEncoder(req.model);
      const frames = answer.chunks.flatMap((chunk) => encoder.push(chunk));
      return { frames: answer.failWith ? [...frames, encoder.error(answer.failWith, "overloaded_error")] : [...frames, ...encoder.end(answer.usage)] };
    } catch (error) {
      const rendered = renderAnthropicError(toAppError(error));
      return { status: rendered.status, json: await rendered.json() };
    }
  });
  client = new Anthropic({ baseURL: server.url, apiKey: "sk-switchyard-test", maxRetries: 0 });
});
afterAll(() => server.close());
beforeEach(() => {
  captured = [];
});

const c = chunkFactory("chatcmpl-int");
const usage: NormalizedUsage = { input: 120, cachedInput: 100, cacheWrite: 0, output: 30, reasoning: 8 };
const weatherTool = { name: "get_weather", description: "Weather by city", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } };

function streamedAnswer(failWith?: string): Answer {
  const chunks = [
    c.delta({ role: "assistant", content: "" }),
    c.delta({ reasoning_content: "The user wants " }),
    c.delta({ reasoning_content: "the weather." }),
    c.delta({ content: "Hello" }),
    c.delta({ content: " world" }),
  ];
  if (failWith) return { chunks, usage, failWith };
  chunks.push(
    c.delta({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }] }),
    c.delta({ tool_calls: [{ index: 0, function: { arguments: '{"city"' } }] }),
    c.delta({ tool_calls: [{ index: 0, function: { arguments: ':"Paris"}' } }] }),
    c.delta({}, "tool_calls"),
    c.usage({ prompt_tokens: 120, completion_tokens: 30, total_tokens: 150 }),
  );
  return { chunks, usage };
}

describe("Anthropic surface with the official SDK", () => {
  it("messages.create gets a Message with text and tool_use blocks", async () => {
    answer = {
      response: {
        id: "chatcmpl-1",
        object: "chat.completion",
        created: 1,
        model: "gpt-4o",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: "Checking.",
              refusal: null,
              tool_calls: [{ id: "call_7", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }],
            },
            finish_reason: "tool_calls",
            logprobs: null,
          },
        ],
        usage: { prompt_tokens: 50, completion_tokens: 10, total_tokens: 60, prompt_tokens_details: { cached_tokens: 20, cache_write_tokens: 5 } },
      },
    };
    const message = await client.messages.create({
      model: "support-bot",
      max_tokens: 300,
      system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
      messages: [{ role: "user", content: "Weather in Oslo?" }],
      tools: [weatherTool],
      tool_choice: { type: "auto" },
      metadata: { user_id: "u-1" },
    });
    expect(message.id).toBe("msg_chatcmpl-1");
    expect(message.model).toBe("support-bot");
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content).toEqual([
      { type: "text", text: "Checking." },
      { type: "tool_use", id: "call_7", name: "get_weather", input: { city: "Oslo" } },
    ]);
    expect(message.usage).toEqual({ input_tokens: 25, output_tokens: 10, cache_read_input_tokens: 20, cache_creation_input_tokens: 5 });
    expect(captured[0]).toMatchObject({
      model: "support-bot",
      max_completion_tokens: 300,
      user: "u-1",
      tool_choice: "auto",
      messages: [
        { role: "system", content: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }] },
        { role: "user", content: "Weather in Oslo?" },
      ],
    });
  });

  it("messages.stream builds the final message and emits text, thinking and tool input events", async () => {
    answer = streamedAnswer();
    const stream = client.messages.stream({
      model: "support-bot",
      max_tokens: 4000,
      thinking: { type: "enabled", budget_tokens: 2048 },
      messages: [{ role: "user", content: "Hi, weather in Paris?" }],
      tools: [weatherTool],
    });
    const texts: string[] = [];
    const thinking: string[] = [];
    stream.on("text", (delta) => texts.push(delta));
    stream.on("thinking", (delta) => thinking.push(delta));
    const final = await stream.finalMessage();

    expect(texts).toEqual(["Hello", " world"]);
    expect(thinking.join("")).toBe("The user wants the weather.");
    expect(final).toMatchObject({
      id: "msg_chatcmpl-int",
      type: "message",
      role: "assistant",
      model: "support-bot",
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 20, output_tokens: 30, cache_read_input_tokens: 100, cache_creation_input_tokens: 0 },
    });
    expect(final.content).toEqual([
      { type: "thinking", thinking: "The user wants the weather.", signature: "" },
      { type: "text", text: "Hello world" },
      { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
    ]);
    expect(captured[0]).toMatchObject({ stream: true, stream_options: { include_usage: true }, reasoning_effort: "medium" });
  });

  it("messages.create with stream: true yields the raw events in order", async () => {
    answer = streamedAnswer();
    const stream = await client.messages.create({ model: "m", max_tokens: 100, messages: [{ role: "user", content: "hi" }], stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type === "content_block_delta" ? event.delta.type : event.type);
    expect(types).toEqual([
      "message_start",
      "content_block_start",
      "thinking_delta",
      "thinking_delta",
      "content_block_stop",
      "content_block_start",
      "text_delta",
      "text_delta",
      "content_block_stop",
      "content_block_start",
      "input_json_delta",
      "input_json_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
  });

  it("a mid-stream failure rejects the stream with the Anthropic error type", async () => {
    answer = streamedAnswer("Upstream overloaded, retry later");
    const stream = client.messages.stream({ model: "m", max_tokens: 100, messages: [{ role: "user", content: "hi" }] });
    const texts: string[] = [];
    stream.on("text", (delta) => texts.push(delta));
    const error = await stream.finalMessage().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toEqual({
      type: "error",
      error: { type: "overloaded_error", message: "Upstream overloaded, retry later" },
    });
    expect(texts).toEqual(["Hello", " world"]);
  });

  it("invalid requests come back as BadRequestError naming the parameter", async () => {
    answer = streamedAnswer();
    const error = await client.messages.create({ model: "m", max_tokens: 100, top_k: 40, messages: [{ role: "user", content: "hi" }] } as never).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toMatch(/top_k/);
    expect(captured).toEqual([]);
  });
});
