import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "./index";
import { countTokens } from "./tokens";

let sim: Simulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator();
  client = new OpenAI({ apiKey: "sk-test", baseURL: `${sim.url}/openai/v1`, maxRetries: 0 });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const user = (content: string) => [{ role: "user" as const, content }];

describe("OpenAI chat completions (official SDK)", () => {
  it("answers deterministically, quoting the user, with consistent usage", async () => {
    const first = await client.chat.completions.create({ model: "gpt-4o-mini", messages: user("What is the capital of France?") });
    const again = await client.chat.completions.create({ model: "gpt-4o-mini", messages: user("What is the capital of France?") });
    const content = first.choices[0]!.message.content!;
    expect(content).toBe('Simulated reply from gpt-4o-mini: you said "What is the capital of France?".');
    expect(again.choices[0]!.message.content).toBe(content);
    expect(first.object).toBe("chat.completion");
    expect(first.choices[0]!.finish_reason).toBe("stop");
    expect(first.usage).toMatchObject({
      completion_tokens: countTokens(content),
      total_tokens: first.usage!.prompt_tokens + countTokens(content),
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    expect(first.usage!.prompt_tokens).toBeGreaterThan(countTokens("What is the capital of France?"));
    expect(sim.requests[0]).toMatchObject({ protocol: "openai", operation: "chat", model: "gpt-4o-mini", stream: false, status: 200 });
    expect((sim.requests[0]!.body as { messages: unknown[] }).messages).toHaveLength(1);
    expect(sim.requests[0]!.headers.authorization).toBe("Bearer sk-test");
  });

  it("forces the reply length with [[sim:tokens=N]]", async () => {
    const res = await client.chat.completions.create({ model: "gpt-4o", messages: user("Write an essay [[sim:tokens=57]]") });
    expect(res.usage!.completion_tokens).toBe(57);
    expect(countTokens(res.choices[0]!.message.content!)).toBe(57);
  });

  it("streams chunks whose content matches the JSON answer, with a final usage chunk", async () => {
    const body = { model: "gpt-4o-mini", messages: user("Stream me something nice") };
    const json = await client.chat.completions.create(body);
    const stream = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe(json.choices[0]!.message.content);
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe("stop");
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(json.usage);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.length).toBeGreaterThan(json.usage!.completion_tokens);
  });

  it("omits usage from chunks unless include_usage is set", async () => {
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: user("hi"), stream: true });
    for await (const chunk of stream) expect("usage" in chunk).toBe(false);
  });

  const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
    {
      type: "function",
      function: {
        name: "get_weather",
        parameters: { type: "object", properties: { city: { type: "string" }, days: { type: "integer", minimum: 1 } }, required: ["city", "days"] },
      },
    },
    { type: "function", function: { name: "get_time", parameters: { type: "object", properties: { zone: { type: "string", enum: ["UTC", "CET"] } }, required: ["zone"] } } },
  ];

  it("calls tools in parallel, with arguments valid for their schemas", async () => {
    const res = await client.chat.completions.create({ model: "gpt-4o", messages: user("Weather in Paris?"), tools });
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    const calls = choice.message.tool_calls!.map((c) => (c.type === "function" ? { name: c.function.name, args: JSON.parse(c.function.arguments) } : null));
    expect(calls).toEqual([
      { name: "get_weather", args: { city: "Weather in Paris?", days: 1 } },
      { name: "get_time", args: { zone: "UTC" } },
    ]);
    const single = await client.chat.completions.create({ model: "gpt-4o", messages: user("Weather?"), tools, parallel_tool_calls: false });
    expect(single.choices[0]!.message.tool_calls).toHaveLength(1);
    const named = await client.chat.completions.create({
      model: "gpt-4o",
      messages: user("Weather?"),
      tools,
      tool_choice: { type: "function", function: { name: "get_time" } },
    });
    expect(named.choices[0]!.message.tool_calls!.map((c) => (c.type === "function" ? c.function.name : ""))).toEqual(["get_time"]);
  });

  it("answers in text once given tool results", async () => {
    const first = await client.chat.completions.create({ model: "gpt-4o", messages: user("Weather in Paris?"), tools, parallel_tool_calls: false });
    const call = first.choices[0]!.message.tool_calls![0]!;
    const res = await client.chat.completions.create({
      model: "gpt-4o",
      tools,
      messages: [...user("Weather in Paris?"), first.choices[0]!.message, { role: "tool", tool_call_id: call.id, content: "sunny, 21C" }],
    });
    expect(res.choices[0]!.finish_reason).toBe("stop");
    expect(res.choices[0]!.message.content).toContain("sunny, 21C");
  });

  it("streams tool calls that the SDK reassembles into the JSON answer", async () => {
    const body = { model: "gpt-4o", messages: user("Weather in Paris?"), tools };
    const json = await client.chat.completions.create(body);
    const stream = client.chat.completions.stream(body);
    const final = await stream.finalChatCompletion();
    const simplify = (calls: OpenAI.Chat.Completions.ChatCompletionMessageToolCall[] | undefined) =>
      calls?.map((c) => (c.type === "function" ? [c.function.name, c.function.arguments] : null));
    expect(simplify(final.choices[0]!.message.tool_calls)).toEqual(simplify(json.choices[0]!.message.tool_calls));
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
  });

  it("returns valid JSON for json_schema and json_object", async () => {
    const res = await client.chat.completions.create({
      model: "gpt-4o",
      messages: user("Extract the person"),
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "person",
          strict: true,
          schema: {
            type: "object",
            properties: { name: { type: "string" }, age: { type: "integer" }, tags: { type: "array", items: { type: "string" } }, vip: { type: "boolean" } },
            required: ["name", "age", "tags", "vip"],
            additionalProperties: false,
          },
        },
      },
    });
    const parsed = JSON.parse(res.choices[0]!.message.content!);
    expect(Object.keys(parsed).sort()).toEqual(["age", "name", "tags", "vip"]);
    expect(typeof parsed.name).toBe("string");
    expect(Number.isInteger(parsed.age)).toBe(true);
    expect(Array.isArray(parsed.tags)).toBe(true);
    expect(parsed.vip).toBe(true);
    const object = await client.chat.completions.create({ model: "gpt-4o", messages: user("json please"), response_format: { type: "json_object" } });
    expect(JSON.parse(object.choices[0]!.message.content!)).toHaveProperty("response");
  });

  it("honours n, stop, max_tokens and logprobs", async () => {
    const many = await client.chat.completions.create({ model: "gpt-4o", messages: user("hello"), n: 3 });
    expect(many.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(many.choices.map((c) => c.message.content)).size).toBe(3);
    expect(many.usage!.completion_tokens).toBe(many.choices.reduce((s, c) => s + countTokens(c.message.content!), 0));

    const stopped = await client.chat.completions.create({ model: "gpt-4o", messages: user("one two STOP three"), stop: ["STOP"] });
    expect(stopped.choices[0]!.message.content).toBe('Simulated reply from gpt-4o: you said "one two ');
    expect(stopped.choices[0]!.finish_reason).toBe("stop");

    const cut = await client.chat.completions.create({ model: "gpt-4o", messages: user("hello"), max_tokens: 3 });
    expect(cut.choices[0]!.finish_reason).toBe("length");
    expect(cut.usage!.completion_tokens).toBe(3);
    expect(countTokens(cut.choices[0]!.message.content!)).toBe(3);

    const lp = await client.chat.completions.create({ model: "gpt-4o", messages: user("hello"), logprobs: true, top_logprobs: 2 });
    const entries = lp.choices[0]!.logprobs!.content!;
    expect(entries).toHaveLength(lp.usage!.completion_tokens);
    expect(entries.map((e) => e.token).join("")).toBe(lp.choices[0]!.message.content);
    expect(entries[0]!.top_logprobs).toHaveLength(2);
    expect(entries[0]!.logprob).toBeLessThanOrEqual(0);
    expect(many.choices[0]!.logprobs).toBeNull();
  });

  it("reports reasoning tokens for reasoning models and rejects their unsupported parameters", async () => {
    const res = await client.chat.completions.create({ model: "o4-mini", messages: user("think [[sim:reasoning=30]]") });
    const visible = countTokens(res.choices[0]!.message.content!);
    expect(res.usage!.completion_tokens_details!.reasoning_tokens).toBe(30);
    expect(res.usage!.completion_tokens).toBe(visible + 30);
    const starved = await client.chat.completions.create({ model: "o4-mini", messages: user("think"), max_completion_tokens: 10 });
    expect(starved.choices[0]).toMatchObject({ finish_reason: "length", message: { content: "" } });
    expect(starved.usage!.completion_tokens_details!.reasoning_tokens).toBe(10);
    const error = await client.chat.completions.create({ model: "o4-mini", messages: user("x"), max_tokens: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, code: "unsupported_parameter", param: "max_tokens" });
  });

  it("reports cached_tokens for a repeated long prefix, in 128-token steps", async () => {
    const system = { role: "system" as const, content: "You are a meticulous assistant. ".repeat(300) };
    const first = await client.chat.completions.create({ model: "gpt-4o", messages: [system, ...user("first question")] });
    expect(first.usage!.prompt_tokens).toBeGreaterThan(1024);
    expect(first.usage!.prompt_tokens_details!.cached_tokens).toBe(0);
    const second = await client.chat.completions.create({ model: "gpt-4o", messages: [system, ...user("a different question")] });
    const cached = second.usage!.prompt_tokens_details!.cached_tokens!;
    expect(cached).toBeGreaterThanOrEqual(1024);
    expect(cached % 128).toBe(0);
    expect(cached).toBeLessThanOrEqual(second.usage!.prompt_tokens);
    const otherModel = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [system, ...user("first question")] });
    expect(otherModel.usage!.prompt_tokens_details!.cached_tokens).toBe(0);
  });

  it("rejects requests missing required fields the way OpenAI does", async () => {
    const res = await fetch(`${sim.url}/openai/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "gpt-4o" }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { message: "Missing required parameter: 'messages'.", type: "invalid_request_error", param: "messages", code: "missing_required_parameter" },
    });
    const bad = await fetch(`${sim.url}/openai/v1/chat/completions`, { method: "POST", body: "{nope" });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.type).toBe("invalid_request_error");
    const missing = await fetch(`${sim.url}/openai/v1/nothing`, { method: "POST", body: "{}" });
    expect(missing.status).toBe(404);
  });
});

describe("OpenAI embeddings and models", () => {
  it("returns normalised deterministic vectors (base64 by SDK default, or float), honouring dimensions", async () => {
    const res = await client.embeddings.create({ model: "text-embedding-3-small", input: ["reset my password", "reset my password"] });
    expect(res.data).toHaveLength(2);
    const v = res.data[0]!.embedding;
    expect(v).toHaveLength(1536);
    expect(Math.hypot(...v)).toBeCloseTo(1, 4);
    expect(res.data[1]!.embedding).toEqual(v);
    expect(res.usage).toEqual({ prompt_tokens: 2 * countTokens("reset my password"), total_tokens: 2 * countTokens("reset my password") });
    expect((sim.requests[0]!.body as { encoding_format: string }).encoding_format).toBe("base64");

    const small = await client.embeddings.create({ model: "text-embedding-3-large", input: "reset my password", dimensions: 64, encoding_format: "float" });
    expect(small.data[0]!.embedding).toHaveLength(64);
    const large = await client.embeddings.create({ model: "text-embedding-3-large", input: "hello" });
    expect(large.data[0]!.embedding).toHaveLength(3072);
  });

  it("lists and retrieves models", async () => {
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toContain("gpt-4o-mini");
    expect(await client.models.retrieve("anything-goes")).toMatchObject({ id: "anything-goes", object: "model" });
  });
});

describe("OpenAI faults", () => {
  const ask = (fault: string, extra: Record<string, string> = {}) =>
    client.chat.completions.create({ model: "gpt-4o", messages: user("hi") }, { headers: { "x-sim-fault": fault, ...extra } });

  it("rate_limit → RateLimitError with retry-after headers", async () => {
    const error = await ask("rate_limit; retry-after=3; retry-after-ms=2500").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const e = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.code).toBe("rate_limit_exceeded");
    expect(e.headers.get("retry-after")).toBe("3");
    expect(e.headers.get("retry-after-ms")).toBe("2500");
    expect(sim.count({ fault: "rate_limit" })).toBe(1);
  });

  it("server_error and unavailable → InternalServerError (500, 503)", async () => {
    await expect(ask("server_error")).rejects.toMatchObject({ status: 500, constructor: OpenAI.InternalServerError });
    await expect(ask("unavailable")).rejects.toMatchObject({ status: 503, constructor: OpenAI.InternalServerError });
  });

  it("reset → APIConnectionError; timeout → APIConnectionTimeoutError", async () => {
    await expect(ask("reset")).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
    const error = await client.chat.completions
      .create({ model: "gpt-4o", messages: user("hi") }, { headers: { "x-sim-fault": "timeout" }, timeout: 150 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(sim.requests.map((r) => r.status)).toEqual([undefined, undefined]);
  });

  it("context_length and content_filter in OpenAI's shapes", async () => {
    await expect(ask("context_length")).rejects.toMatchObject({ status: 400, code: "context_length_exceeded", param: "messages" });
    await expect(ask("content_filter; on=prompt")).rejects.toMatchObject({ status: 400, code: "content_policy_violation" });
    const filtered = await ask("content_filter");
    expect(filtered.choices[0]!.finish_reason).toBe("content_filter");
  });

  it("stream_cut → the SDK stream throws after the first chunks, with no [DONE]", async () => {
    const stream = await client.chat.completions.create(
      { model: "gpt-4o", messages: user("hi"), stream: true },
      { headers: { "x-sim-fault": "stream_cut; after=3" } },
    );
    const seen: unknown[] = [];
    const error = await (async () => {
      for await (const chunk of stream) seen.push(chunk);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(seen).toHaveLength(3);
  });

  it("malformed_chunk → the SDK fails to parse the stream", async () => {
    const quiet = new OpenAI({ apiKey: "sk-test", baseURL: `${sim.url}/openai/v1`, maxRetries: 0, logLevel: "off" });
    const stream = await quiet.chat.completions.create({ model: "gpt-4o", messages: user("hi"), stream: true }, { headers: { "x-sim-fault": "malformed_chunk" } });
    await expect(
      (async () => {
        for await (const _ of stream) void _;
      })(),
    ).rejects.toBeInstanceOf(SyntaxError);
  });

  it("stream_stall stops after N chunks and keeps the connection open", async () => {
    const own = await startSimulator();
    const res = await fetch(`${own.url}/openai/v1/chat/completions`, {
      method: "POST",
      headers: { "x-sim-fault": "stream_stall; after=2" },
      body: JSON.stringify({ model: "gpt-4o", messages: user("hi"), stream: true }),
    });
    const reader = res.body!.getReader();
    let text = "";
    while ((text.match(/^data: /gm) ?? []).length < 2) text += new TextDecoder().decode((await reader.read()).value);
    expect(own.requests[0]!.status).toBeUndefined();
    await own.close();
    const rest = await reader.read().then(
      (r) => (r.done ? "" : new TextDecoder().decode(r.value)),
      () => "",
    );
    expect((text + rest).match(/^data: /gm)).toHaveLength(2);
    expect(text + rest).not.toContain("[DONE]");
  });

  it("scheduled faults hit the next N matching requests; the SDK retries with retry-after-ms", async () => {
    sim.faults.add({ fault: "rate_limit", model: "gpt-4o", times: 2, retryAfterMs: 5 });
    const retrying = new OpenAI({ apiKey: "sk-test", baseURL: `${sim.url}/openai/v1`, maxRetries: 2 });
    const other = await retrying.chat.completions.create({ model: "gpt-4o-mini", messages: user("hi") });
    expect(other.choices[0]!.message.content).toContain("gpt-4o-mini");
    const res = await retrying.chat.completions.create({ model: "gpt-4o", messages: user("hi") });
    expect(res.choices[0]!.finish_reason).toBe("stop");
    expect(sim.count({ model: "gpt-4o" })).toBe(3);
    expect(sim.count({ model: "gpt-4o", fault: "rate_limit" })).toBe(2);
    expect(sim.count({ model: "gpt-4o", fault: "none" })).toBe(1);
    expect(sim.faults.list()).toEqual([]);
  });

  it("is configurable from another process through the admin API", async () => {
    const added = await fetch(`${sim.url}/__sim/faults`, {
      method: "POST",
      body: JSON.stringify({ faults: [{ fault: "server_error", protocol: "openai", stream: true, times: "always" }] }),
    });
    expect(added.status).toBe(201);
    expect((await fetch(`${sim.url}/__sim/faults`).then((r) => r.json())).faults).toHaveLength(1);
    await client.chat.completions.create({ model: "gpt-4o", messages: user("not streamed") });
    await expect(client.chat.completions.create({ model: "gpt-4o", messages: user("streamed"), stream: true })).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    const log = await fetch(`${sim.url}/__sim/requests?fault=server_error`).then((r) => r.json());
    expect(log.count).toBe(1);
    expect(log.requests[0]).toMatchObject({ stream: true, status: 500, model: "gpt-4o" });
    expect((await fetch(`${sim.url}/__sim/faults`, { method: "DELETE" })).status).toBe(200);
    expect(sim.faults.list()).toEqual([]);
    const invalid = await fetch(`${sim.url}/__sim/faults`, { method: "POST", body: JSON.stringify({ fault: "explode" }) });
    expect(invalid.status).toBe(400);
  });
});

describe("OpenAI latency and auth", () => {
  it("waits ttft before the first chunk and paces tokens", async () => {
    const started = performance.now();
    const stream = await client.chat.completions.create(
      { model: "gpt-4o", messages: user("pace me [[sim:tokens=21]]"), stream: true },
      { headers: { "x-sim-ttft-ms": "120", "x-sim-tps": "200" } },
    );
    let firstAt = 0;
    for await (const chunk of stream) if (!firstAt && chunk.choices[0]?.delta.content !== undefined) firstAt = performance.now();
    const total = performance.now() - started;
    expect(firstAt - started).toBeGreaterThanOrEqual(115);
    // 20 tokens after the first at 200 tokens/s: at least 100 ms more.
    expect(total).toBeGreaterThanOrEqual(215);
  });

  it("delays everything by slow_first_byte, then answers normally", async () => {
    const started = performance.now();
    const res = await client.chat.completions.create({ model: "gpt-4o", messages: user("hi") }, { headers: { "x-sim-fault": "slow_first_byte; delay=80" } });
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    expect(res.choices[0]!.finish_reason).toBe("stop");
    expect(sim.count({ fault: "slow_first_byte" })).toBe(1);
  });

  it("requires the configured key in OpenAI's way", async () => {
    const guarded = await startSimulator({ apiKey: "sk-right-key-123456" });
    try {
      const wrong = new OpenAI({ apiKey: "sk-wrong-key-654321", baseURL: `${guarded.url}/openai/v1`, maxRetries: 0 });
      const error = await wrong.models.list().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(error).toMatchObject({ code: "invalid_api_key" });
      expect((error as Error).message).not.toContain("sk-wrong-key-654321");
      const right = new OpenAI({ apiKey: "sk-right-key-123456", baseURL: `${guarded.url}/openai/v1`, maxRetries: 0 });
      expect((await right.models.list()).data.length).toBeGreaterThan(0);
      const none = await fetch(`${guarded.url}/openai/v1/models`);
      expect(none.status).toBe(401);
      expect((await none.json()).error.message).toMatch(/^You didn't provide an API key/);
    } finally {
      await guarded.close();
    }
  });
});
