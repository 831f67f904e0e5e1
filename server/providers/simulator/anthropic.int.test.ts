import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "./index";
import { countTokens } from "./tokens";

let sim: Simulator;
let client: Anthropic;
let clock = 1_750_000_000_000;

beforeAll(async () => {
  sim = await startSimulator({ now: () => clock });
  client = new Anthropic({ apiKey: "sk-ant-test", baseURL: `${sim.url}/anthropic`, maxRetries: 0 });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const MODEL = "claude-sonnet-4-6";
const user = (content: Anthropic.MessageParam["content"]): Anthropic.MessageParam[] => [{ role: "user", content }];
const textOf = (m: Anthropic.Message) => m.content.map((b) => (b.type === "text" ? b.text : "")).join("");
const LONG = "Policy clause: refunds are processed within five business days of approval. ".repeat(120);

describe("Anthropic messages (official SDK)", () => {
  it("answers with a text block and usage that matches count_tokens", async () => {
    const params = { model: MODEL, max_tokens: 256, system: "Be brief.", messages: user("Where is my order?") };
    const message = await client.messages.create(params);
    expect(message).toMatchObject({ type: "message", role: "assistant", model: MODEL, stop_reason: "end_turn", stop_sequence: null });
    expect(textOf(message)).toBe(`Simulated reply from ${MODEL}: you said "Where is my order?".`);
    expect(message.usage.output_tokens).toBe(countTokens(textOf(message)));
    const counted = await client.messages.countTokens({ model: MODEL, system: "Be brief.", messages: user("Where is my order?") });
    expect(message.usage.input_tokens).toBe(counted.input_tokens);
    expect(message.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    expect(sim.requests[0]!.headers["anthropic-version"]).toBeDefined();
    // SDK 1.x sends the key as a bearer token; older clients send x-api-key. Both are accepted.
    expect(sim.requests[0]!.headers["x-api-key"] ?? sim.requests[0]!.headers.authorization).toMatch(/sk-ant-test$/);
  });

  it("streams the real event sequence; the SDK's final message equals the JSON answer", async () => {
    const params = { model: MODEL, max_tokens: 256, messages: user("Stream please") };
    const json = await client.messages.create(params);
    const events: string[] = [];
    const stream = client.messages.stream(params);
    stream.on("streamEvent", (event) => events.push(event.type));
    const final = await stream.finalMessage();
    expect(final.content).toEqual(json.content);
    expect(final.usage.output_tokens).toBe(json.usage.output_tokens);
    expect(final.stop_reason).toBe("end_turn");
    expect(events.slice(0, 3)).toEqual(["message_start", "content_block_start", "content_block_delta"]);
    expect(events.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    const raw = await fetch(`${sim.url}/anthropic/v1/messages`, {
      method: "POST",
      headers: { "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ ...params, stream: true }),
    }).then((r) => r.text());
    expect(raw).toContain("event: ping\ndata: {\"type\":\"ping\"}");
    expect(raw.indexOf("event: ping")).toBeGreaterThan(raw.indexOf("event: content_block_start"));
  });

  const tools: Anthropic.Tool[] = [
    { name: "lookup_order", input_schema: { type: "object", properties: { order_id: { type: "string" }, verbose: { type: "boolean" } }, required: ["order_id"] } },
    { name: "refund", input_schema: { type: "object", properties: { amount: { type: "number", minimum: 1 } }, required: ["amount"] } },
  ];

  it("calls tools (streamed as input_json_delta) and answers in text after tool results", async () => {
    const params = { model: MODEL, max_tokens: 256, tools, messages: user("Where is order 42?") };
    const json = await client.messages.create(params);
    expect(json.stop_reason).toBe("tool_use");
    const uses = json.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
    expect(uses.map((u) => [u.name, u.input])).toEqual([
      ["lookup_order", { order_id: "Where is order 42?" }],
      ["refund", { amount: 1 }],
    ]);
    expect(uses[0]!.id).toMatch(/^toolu_/);
    const streamed = await client.messages.stream(params).finalMessage();
    expect(streamed.content).toEqual(json.content);

    const one = await client.messages.create({ ...params, tool_choice: { type: "auto", disable_parallel_tool_use: true } });
    expect(one.content.filter((b) => b.type === "tool_use")).toHaveLength(1);
    const none = await client.messages.create({ ...params, tool_choice: { type: "none" } });
    expect(none.stop_reason).toBe("end_turn");

    const answer = await client.messages.create({
      ...params,
      messages: [
        ...params.messages,
        { role: "assistant", content: json.content },
        { role: "user", content: uses.map((u) => ({ type: "tool_result" as const, tool_use_id: u.id, content: "shipped yesterday" })) },
      ],
    });
    expect(answer.stop_reason).toBe("end_turn");
    expect(textOf(answer)).toContain("shipped yesterday");
  });

  it("accepts images and system blocks", async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 64,
      system: [{ type: "text", text: "You describe images." }],
      messages: user([
        { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
        { type: "text", text: "What is this?" },
      ]),
    });
    expect(textOf(message)).toContain("What is this?");
    expect(message.usage.input_tokens).toBeGreaterThan(1600);
  });

  it("emits a thinking block with a signature when thinking is enabled, and validates the budget", async () => {
    const params = {
      model: MODEL,
      max_tokens: 4000,
      thinking: { type: "enabled" as const, budget_tokens: 2048 },
      messages: user("Plan a trip [[sim:reasoning=40]]"),
    };
    const message = await client.messages.create(params);
    const [thinking, text] = message.content;
    expect(thinking).toMatchObject({ type: "thinking" });
    expect(thinking!.type === "thinking" && countTokens(thinking.thinking)).toBe(40);
    expect(thinking!.type === "thinking" && thinking.signature.length).toBeGreaterThan(20);
    expect(message.usage.output_tokens).toBe(40 + countTokens(text!.type === "text" ? text.text : ""));
    const deltas: string[] = [];
    const stream = client.messages.stream(params);
    stream.on("streamEvent", (e) => {
      if (e.type === "content_block_delta") deltas.push(e.delta.type);
    });
    expect((await stream.finalMessage()).content).toEqual(message.content);
    expect(new Set(deltas)).toEqual(new Set(["thinking_delta", "signature_delta", "text_delta"]));
    await expect(client.messages.create({ ...params, thinking: { type: "enabled", budget_tokens: 100 } })).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  });

  it("stops at stop sequences and at max_tokens", async () => {
    const stopped = await client.messages.create({ model: MODEL, max_tokens: 100, stop_sequences: ["END"], messages: user("alpha END beta") });
    expect(stopped).toMatchObject({ stop_reason: "stop_sequence", stop_sequence: "END" });
    expect(textOf(stopped)).toBe(`Simulated reply from ${MODEL}: you said "alpha `);
    const cut = await client.messages.create({ model: MODEL, max_tokens: 4, messages: user("hello") });
    expect(cut.stop_reason).toBe("max_tokens");
    expect(cut.usage.output_tokens).toBe(4);
  });
});

describe("Anthropic prompt caching", () => {
  const cachedSystem = (ttl?: "1h"): Anthropic.TextBlockParam[] => [
    { type: "text", text: LONG, cache_control: ttl ? { type: "ephemeral", ttl } : { type: "ephemeral" } },
  ];

  it("writes a marked prefix once, then reads it; input_tokens counts only the rest", async () => {
    const ask = (question: string) => client.messages.create({ model: MODEL, max_tokens: 64, system: cachedSystem(), messages: user(question) });
    const total = async (question: string) => (await client.messages.countTokens({ model: MODEL, system: cachedSystem(), messages: user(question) })).input_tokens;
    const first = await ask("first question");
    const prefix = first.usage.cache_creation_input_tokens!;
    expect(prefix).toBe(countTokens(LONG));
    expect(prefix).toBeGreaterThanOrEqual(1024);
    expect(first.usage.cache_read_input_tokens).toBe(0);
    expect(first.usage.cache_creation).toEqual({ ephemeral_5m_input_tokens: prefix, ephemeral_1h_input_tokens: 0 });
    expect(first.usage.input_tokens).toBe((await total("first question")) - prefix);

    const second = await ask("a second, different question");
    expect(second.usage).toMatchObject({ cache_read_input_tokens: prefix, cache_creation_input_tokens: 0 });
    expect(second.usage.input_tokens).toBe((await total("a second, different question")) - prefix);

    const streamed = await client.messages.stream({ model: MODEL, max_tokens: 64, system: cachedSystem(), messages: user("third") }).finalMessage();
    expect(streamed.usage.cache_read_input_tokens).toBe(prefix);
  });

  it("does not cache prefixes below the model minimum (2048 for Haiku)", async () => {
    const short = await client.messages.create({
      model: MODEL,
      max_tokens: 16,
      system: [{ type: "text", text: "short system prompt", cache_control: { type: "ephemeral" } }],
      messages: user("hi"),
    });
    expect(short.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    const haiku = await client.messages.create({ model: "claude-haiku-4-5", max_tokens: 16, system: cachedSystem(), messages: user("hi") });
    expect(countTokens(LONG)).toBeLessThan(2048);
    expect(haiku.usage.cache_creation_input_tokens).toBe(0);
  });

  it("expires entries after 5 minutes of disuse, 1 hour with ttl 1h; hits refresh them", async () => {
    const ask = (ttl?: "1h") => client.messages.create({ model: MODEL, max_tokens: 16, system: cachedSystem(ttl), messages: user("q") });
    await ask();
    clock += 4 * 60_000;
    expect((await ask()).usage.cache_read_input_tokens).toBeGreaterThan(0);
    clock += 4 * 60_000; // 8 minutes after the write, 4 after the refreshing hit
    expect((await ask()).usage.cache_read_input_tokens).toBeGreaterThan(0);
    clock += 5 * 60_000 + 1;
    const expired = await ask();
    expect(expired.usage.cache_read_input_tokens).toBe(0);
    expect(expired.usage.cache_creation_input_tokens).toBeGreaterThan(0);

    sim.reset();
    const long = await ask("1h");
    expect(long.usage.cache_creation!.ephemeral_1h_input_tokens).toBeGreaterThan(0);
    clock += 30 * 60_000;
    expect((await ask("1h")).usage.cache_read_input_tokens).toBeGreaterThan(0);
  });

  it("finds the previous turn's breakpoint by looking back, and writes only the new part", async () => {
    const turn1: Anthropic.MessageParam[] = [{ role: "user", content: [{ type: "text", text: LONG, cache_control: { type: "ephemeral" } }] }];
    const first = await client.messages.create({ model: MODEL, max_tokens: 32, messages: turn1 });
    const written = first.usage.cache_creation_input_tokens!;
    expect(written).toBeGreaterThan(1024);
    const turn2: Anthropic.MessageParam[] = [
      { role: "user", content: [{ type: "text", text: LONG }] },
      { role: "assistant", content: first.content },
      { role: "user", content: [{ type: "text", text: "and a follow-up", cache_control: { type: "ephemeral" } }] },
    ];
    const second = await client.messages.create({ model: MODEL, max_tokens: 32, messages: turn2 });
    const total = (await client.messages.countTokens({ model: MODEL, messages: turn2 })).input_tokens;
    expect(second.usage.cache_read_input_tokens).toBe(written);
    expect(second.usage.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(second.usage.cache_read_input_tokens! + second.usage.cache_creation_input_tokens! + second.usage.input_tokens).toBe(total);
  });
});

describe("Anthropic errors and faults", () => {
  it("requires the anthropic-version header", async () => {
    const res = await fetch(`${sim.url}/anthropic/v1/messages`, { method: "POST", body: JSON.stringify({ model: MODEL, max_tokens: 5, messages: user("x") }) });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body).toMatchObject({ type: "error", error: { type: "invalid_request_error", message: "anthropic-version: header is required" } });
    expect(body.request_id).toBe(res.headers.get("request-id"));
  });

  it("validates required fields like the real API", async () => {
    const error = await client.messages.create({ model: MODEL, messages: user("x") } as Anthropic.MessageCreateParamsNonStreaming).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toContain("max_tokens: Field required");
  });

  it("maps faults to the SDK's error classes", async () => {
    const ask = (fault: string) => client.messages.create({ model: MODEL, max_tokens: 16, messages: user("hi") }, { headers: { "x-sim-fault": fault } });
    const limited = await ask("rate_limit; retry-after=7").catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((limited as InstanceType<typeof Anthropic.RateLimitError>).headers.get("retry-after")).toBe("7");
    expect((limited as InstanceType<typeof Anthropic.RateLimitError>).requestID).toMatch(/^req_/);
    await expect(ask("unavailable; status=529")).rejects.toBeInstanceOf(Anthropic.OverloadedError);
    await expect(ask("unavailable")).rejects.toMatchObject({ status: 503 });
    await expect(ask("server_error")).rejects.toBeInstanceOf(Anthropic.InternalServerError);
    await expect(ask("context_length")).rejects.toThrow(/prompt is too long/);
    await expect(ask("reset")).rejects.toBeInstanceOf(Anthropic.APIConnectionError);
    const refused = await ask("content_filter");
    expect(refused.stop_reason).toBe("refusal");
  });

  it("stream_cut makes the SDK stream fail before message_stop", async () => {
    const events: string[] = [];
    const stream = client.messages.stream({ model: MODEL, max_tokens: 64, messages: user("hi") }, { headers: { "x-sim-fault": "stream_cut; after=4" } });
    stream.on("streamEvent", (e) => events.push(e.type));
    await expect(stream.finalMessage()).rejects.toBeInstanceOf(Error);
    // Four frames were sent: message_start, content_block_start, ping (which the SDK swallows), one delta.
    expect(events).toEqual(["message_start", "content_block_start", "content_block_delta"]);
    expect(events).not.toContain("message_stop");
  });

  it("requires the configured x-api-key", async () => {
    const guarded = await startSimulator({ apiKey: "sk-ant-right" });
    try {
      const wrong = new Anthropic({ apiKey: "sk-ant-wrong", baseURL: `${guarded.url}/anthropic`, maxRetries: 0 });
      await expect(wrong.messages.create({ model: MODEL, max_tokens: 5, messages: user("x") })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
      const right = new Anthropic({ apiKey: "sk-ant-right", baseURL: `${guarded.url}/anthropic`, maxRetries: 0 });
      expect((await right.messages.create({ model: MODEL, max_tokens: 5, messages: user("x") })).type).toBe("message");
      const missing = await fetch(`${guarded.url}/anthropic/v1/messages`, { method: "POST", headers: { "anthropic-version": "2023-06-01" }, body: "{}" });
      expect(missing.status).toBe(401);
      expect((await missing.json()).error).toEqual({ type: "authentication_error", message: "x-api-key header is required" });
      const viaHeader = await fetch(`${guarded.url}/anthropic/v1/messages/count_tokens`, {
        method: "POST",
        headers: { "anthropic-version": "2023-06-01", "x-api-key": "sk-ant-right" },
        body: JSON.stringify({ model: MODEL, messages: user("x") }),
      });
      expect(viaHeader.status).toBe(200);
      expect(guarded.count({ protocol: "anthropic" })).toBe(4);
    } finally {
      await guarded.close();
    }
  });

  it("lists models", async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toContain("claude-haiku-4-5");
  });
});
