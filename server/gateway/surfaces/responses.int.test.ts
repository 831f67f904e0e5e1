/**
 * Proves the Responses surface is what the official `openai` SDK expects: a real HTTP server validates and translates
 * each SDK request with this module (keeping a response store for previous_response_id), answers from a scripted
 * canonical response through chatToResponse / the stream encoder, and the SDK (create, raw streams, the
 * ResponseStream helper) consumes it.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChatChunk, ChatRequest, ChatResponse, NormalizedUsage } from "../../providers/types";
import { renderOpenAIError, toAppError } from "../errors";
import { assertNoForbiddenKeys, parseOrThrow } from "../schemas/common";
import {
  chatToResponse,
  createResponsesStreamEncoder,
  newResponseIds,
  responsesCreateRequest,
  responsesToChat,
  storedExchange,
  type StoredExchange,
} from "./responses";
import { chunkFactory, startScriptedServer, type ScriptedReply, type ScriptedServer } from "./testing";

type Answer = { response: ChatResponse } | { chunks: ChatChunk[]; usage: NormalizedUsage; failWith?: string };

let server: ScriptedServer;
let client: OpenAI;
let captured: ChatRequest[] = [];
let answer: Answer;
const store = new Map<string, StoredExchange>();

beforeAll(async () => {
  server = await startScriptedServer(async (path, body): Promise<ScriptedReply> => {
    try {
      if (path !== "/v1/responses") throw new Error(`unexpected path ${path}`);
      assertNoForbiddenKeys(body);
      const req = parseOrThrow(responsesCreateRequest, body);
      const previous = req.previous_response_id ? store.get(req.previous_response_id) : undefined;
      captured.push(responsesToChat(req, previous));
      const ids = newResponseIds();
      if ("response" in answer) {
        const response = chatToResponse(answer.response, req, ids);
        store.set(response.id, storedExchange(req, response, previous));
        return { status: 200, json: response };
      }
      const encoder = createResponsesStreamEncoder(req, ids);
      const frames = answer.chunks.flatMap((chunk) => encoder.push(chunk));
      if (answer.failWith) frames.push(encoder.error(answer.failWith, "server_error"));
      else frames.push(...encoder.end(answer.usage));
      store.set(ids.responseId, storedExchange(req, encoder.response(), previous));
      return { frames };
    } catch (error) {
      const rendered = renderOpenAIError(toAppError(error));
      return { status: rendered.status, json: await rendered.json() };
    }
  });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "sk-switchyard-test", maxRetries: 0 });
});
afterAll(() => server.close());
beforeEach(() => {
  captured = [];
});

const c = chunkFactory("chatcmpl-int");
const usage: NormalizedUsage = { input: 80, cachedInput: 64, cacheWrite: 0, output: 25, reasoning: 10 };
const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "Weather by city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
  strict: true,
};

function textResponse(text: string): ChatResponse {
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "claude-sonnet",
    choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, finish_reason: "stop", logprobs: null }],
    usage: { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 },
  };
}

function streamedAnswer(failWith?: string): Answer {
  const chunks = [
    c.delta({ role: "assistant", content: "" }),
    c.delta({ reasoning_content: "Weather needed." }),
    c.delta({ content: "Let me " }),
    c.delta({ content: "check." }),
  ];
  if (failWith) return { chunks, usage, failWith };
  chunks.push(
    c.delta({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }] }),
    c.delta({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
    c.delta({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
    c.delta({}, "tool_calls"),
    c.usage({ prompt_tokens: 80, completion_tokens: 25, total_tokens: 105 }),
  );
  return { chunks, usage };
}

describe("Responses surface with the official SDK", () => {
  it("responses.create gets a Response whose output_text the SDK derives", async () => {
    answer = { response: textResponse("Bonjour !") };
    const response = await client.responses.create({
      model: "support-bot",
      instructions: "Answer in French.",
      input: [{ role: "user", content: [{ type: "input_text", text: "Say hello" }] }],
      max_output_tokens: 64,
      text: { format: { type: "text" } },
      metadata: { feature: "greeting" },
    });
    expect(response.output_text).toBe("Bonjour !");
    expect(response).toMatchObject({
      object: "response",
      status: "completed",
      model: "support-bot",
      instructions: "Answer in French.",
      max_output_tokens: 64,
      metadata: { feature: "greeting" },
      usage: { input_tokens: 12, output_tokens: 4, total_tokens: 16, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } },
    });
    expect(response.id).toMatch(/^resp_/);
    expect(captured[0]).toMatchObject({
      model: "support-bot",
      max_completion_tokens: 64,
      messages: [
        { role: "system", content: "Answer in French." },
        { role: "user", content: [{ type: "text", text: "Say hello" }] },
      ],
    });
  });

  it("responses.stream emits semantic events and finalResponse holds text, reasoning and the function call", async () => {
    answer = streamedAnswer();
    const stream = client.responses.stream({ model: "support-bot", input: "Weather in Paris?", tools: [weatherTool], reasoning: { effort: "low" } });
    const deltas: string[] = [];
    const argumentSnapshots: string[] = [];
    stream.on("response.output_text.delta", (event) => deltas.push(event.delta));
    stream.on("response.function_call_arguments.delta", (event) => argumentSnapshots.push(event.snapshot));
    const final = await stream.finalResponse();

    expect(deltas).toEqual(["Let me ", "check."]);
    expect(argumentSnapshots).toEqual(['{"city":', '{"city":"Paris"}']);
    expect(final.status).toBe("completed");
    expect(final.output_text).toBe("Let me check.");
    expect(final.output.map((item) => item.type)).toEqual(["reasoning", "message", "function_call"]);
    expect(final.output[2]).toMatchObject({ type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}', status: "completed" });
    expect(final.usage).toMatchObject({ input_tokens: 80, input_tokens_details: { cached_tokens: 64 }, output_tokens: 25, output_tokens_details: { reasoning_tokens: 10 } });
    expect(captured[0]).toMatchObject({ stream: true, reasoning_effort: "low", tools: [{ type: "function", function: { name: "get_weather", strict: true } }] });
  });

  it("responses.create with stream: true yields events with increasing sequence numbers", async () => {
    answer = streamedAnswer();
    const stream = await client.responses.create({ model: "m", input: "hi", stream: true });
    const events: Array<{ type: string; sequence_number: number }> = [];
    for await (const event of stream) events.push({ type: event.type, sequence_number: event.sequence_number });
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_e, i) => i));
    expect(events[0]!.type).toBe("response.created");
    expect(events.at(-1)!.type).toBe("response.completed");
  });

  it("continues a conversation with previous_response_id and a function_call_output", async () => {
    answer = streamedAnswer();
    const first = await client.responses.stream({ model: "m", input: "Weather in Paris?", tools: [weatherTool] }).finalResponse();
    const call = first.output.find((item) => item.type === "function_call");
    expect(call?.type).toBe("function_call");

    answer = { response: textResponse("It is 18°C in Paris.") };
    const second = await client.responses.create({
      model: "m",
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: call?.type === "function_call" ? call.call_id : "", output: '{"celsius":18}' }],
      tools: [weatherTool],
    });
    expect(second.output_text).toBe("It is 18°C in Paris.");
    expect(second.previous_response_id).toBe(first.id);
    expect(captured[1]!.messages).toEqual([
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: "Let me check.",
        reasoning_content: "Weather needed.",
        tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
      },
      { role: "tool", tool_call_id: "call_1", content: '{"celsius":18}' },
    ]);

    const missing = await client.responses.create({ model: "m", previous_response_id: "resp_unknown", input: "hi" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(missing).toBeInstanceOf(OpenAI.BadRequestError);
    expect((missing as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("previous_response_not_found");
  });

  it("a mid-stream failure rejects the stream helper and ends the raw stream with response.failed", async () => {
    answer = streamedAnswer("Upstream connection reset");
    const helper = client.responses.stream({ model: "m", input: "hi" });
    const deltas: string[] = [];
    helper.on("response.output_text.delta", (event) => deltas.push(event.delta));
    // openai-node's ResponseStream treats the `error` event as the stream's failure.
    const failure = await helper.finalResponse().then(
      () => null,
      (e: unknown) => e,
    );
    expect(failure).toMatchObject({ type: "error", code: "server_error", message: "Upstream connection reset" });
    expect(deltas).toEqual(["Let me ", "check."]);

    const raw = await client.responses.create({ model: "m", input: "hi", stream: true });
    const events: Array<{ type: string }> = [];
    for await (const event of raw) events.push(event);
    expect(events.slice(-2).map((e) => e.type)).toEqual(["error", "response.failed"]);
    expect(events.at(-1)).toMatchObject({
      response: { status: "failed", error: { code: "server_error", message: "Upstream connection reset" }, output: [{ type: "reasoning", status: "completed" }, { type: "message", status: "incomplete" }] },
    });
  });

  it("unsupported built-in tools come back as BadRequestError naming the parameter", async () => {
    answer = { response: textResponse("unused") };
    const error = await client.responses.create({ model: "m", input: "hi", tools: [{ type: "web_search" }] }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("tools[0].type");
    expect(captured).toEqual([]);
  });
});
