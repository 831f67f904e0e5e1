import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../providers/simulator";
import { seedSimulatorProviders, startTestServer, type TestServer } from "../testing/harness";
import { createApiKey } from "../keys/service";
import { waitUntil } from "../state/store.contract";
import { ensureDefaultTenant } from "../tenant";
import { bumpConfigVersion } from "./snapshot";

describe("POST /api/v1/chat/completions through the official openai SDK", () => {
  let sim: Simulator;
  let app: TestServer;
  let client: OpenAI;
  let apiKey: string;

  const rows = async () => {
    await app.rt.calls.flush();
    return app.rt.db.prisma.call.findMany({ orderBy: { createdAt: "asc" } });
  };

  beforeAll(async () => {
    sim = await startSimulator();
    app = await startTestServer({ SWITCHYARD_MAX_BODY_BYTES: "65536" });
    const seeded = await seedSimulatorProviders(app, sim.url);
    apiKey = seeded.key;
    const db = app.rt.db.prisma;
    await db.policy.create({
      data: {
        orgId: seeded.tenant.orgId,
        name: "resilient",
        document: {
          targets: [
            { provider: "sim-openai", model: "sim-small" },
            { provider: "sim-anthropic", model: "sim-claude" },
          ],
          reference: { provider: "sim-openai", model: "sim-large" },
        },
      },
    });
    await bumpConfigVersion(db);
    await app.rt.snapshot.refresh();
    client = new OpenAI({ apiKey, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await app?.dispose();
    await sim?.close();
  });
  beforeEach(() => sim.reset());

  it.each(["sim-openai", "sim-anthropic", "sim-gemini"])("answers non-streaming requests through %s", async (provider) => {
    const model = provider === "sim-anthropic" ? "sim-claude" : "sim-small";
    const { data, response } = await client.chat.completions
      .create({ model: `${provider}/${model}`, messages: [{ role: "user", content: "Say hello to the gateway" }] })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0]!.message.content).toBeTruthy();
    expect(data.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-switchyard-target")).toBe(`${provider}/${model}`);
    expect(Number(response.headers.get("x-switchyard-cost-usd"))).toBeGreaterThan(0);
    expect(response.headers.get("x-request-id")).toBeTruthy();
    expect(sim.count({ operation: "chat" })).toBe(1);
  });

  it("streams with usage when asked, and logs one row with the usage", async () => {
    const stream = await client.chat.completions.create({
      model: "sim-openai/sim-small",
      messages: [{ role: "user", content: "Stream a short answer please" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(usage!.completion_tokens).toBeGreaterThan(0);
    const last = (await rows()).at(-1)!;
    expect(last).toMatchObject({ streamed: true, partial: false, status: 200, outputTokens: usage!.completion_tokens, estimated: false });
  });

  it("omits the usage chunk when the client did not ask for it", async () => {
    const stream = await client.chat.completions.create({
      model: "sim-anthropic/sim-claude",
      messages: [{ role: "user", content: "Hello" }],
      stream: true,
    });
    for await (const chunk of stream) expect(chunk.usage ?? null).toBeNull();
  });

  it("carries tools and parallel tool calls", async () => {
    const completion = await client.chat.completions.create({
      model: "sim-openai/sim-small",
      messages: [{ role: "user", content: "What is the weather in Paris and Rome?" }],
      tools: [
        { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } },
        { type: "function", function: { name: "get_time", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } },
      ],
    });
    const calls = completion.choices[0]!.message.tool_calls!;
    expect(calls.length).toBeGreaterThan(0);
    expect(completion.choices[0]!.finish_reason).toBe("tool_calls");
    const first = calls[0]!;
    expect(first.type === "function" && JSON.parse(first.function.arguments)).toHaveProperty("city");
  });

  it("accepts image parts", async () => {
    const completion = await client.chat.completions.create({
      model: "sim-anthropic/sim-claude",
      messages: [{ role: "user", content: [{ type: "text", text: "Describe" }, { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } }] }],
    });
    expect(completion.choices[0]!.message.content).toBeTruthy();
  });

  it("retries one 500 and succeeds, logging one row with two attempts", async () => {
    sim.faults.add({ fault: "server_error", protocol: "openai", times: 1 });
    const before = (await rows()).length;
    const { response } = await client.chat.completions
      .create({ model: "sim-openai/sim-small", messages: [{ role: "user", content: "retry me" }] })
      .withResponse();
    expect(response.headers.get("x-switchyard-attempts")).toBe("2");
    expect(sim.count({ operation: "chat" })).toBe(2);
    const all = await rows();
    expect(all.length).toBe(before + 1);
    expect(all.at(-1)!.attempts).toMatchObject([{ error: "server_error" }, { status: 200 }]);
  });

  it("falls back to the next target of a policy when one provider keeps failing", async () => {
    sim.faults.add({ fault: "unavailable", protocol: "openai", times: "always" });
    const { data, response } = await client.chat.completions
      .create({ model: "resilient", messages: [{ role: "user", content: "fall back please" }] })
      .withResponse();
    expect(data.choices[0]!.message.content).toBeTruthy();
    expect(response.headers.get("x-switchyard-target")).toBe("sim-anthropic/sim-claude");
    expect(sim.count({ protocol: "openai", operation: "chat" })).toBe(2);
    const last = (await rows()).at(-1)!;
    expect(last.policy).toBe("resilient");
    // Baseline is the reference model (sim-large); savings by routing may be negative for a pricier fallback.
    expect(Number(last.baselineCostUsd)).toBeGreaterThan(0);
  });

  it("never retries a context-length error on the same model", async () => {
    sim.faults.add({ fault: "context_length", protocol: "openai", times: 1 });
    const error = await client.chat.completions
      .create({ model: "sim-openai/sim-small", messages: [{ role: "user", content: "too long" }] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.code).toBe("context_length_exceeded");
    expect(sim.count({ operation: "chat" })).toBe(1);
  });

  it("returns 429 with Retry-After when the provider keeps rate limiting", async () => {
    sim.faults.add({ fault: "rate_limit", protocol: "openai", retryAfterSeconds: 30, times: "always" });
    // Its own model: the target then cools down for the 30 s, and the other tests here use sim-small.
    const error = await client.chat.completions
      .create({ model: "sim-openai/sim-large", messages: [{ role: "user", content: "hi" }] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.headers.get("retry-after")).toBe("30");
    // A 30 s Retry-After is beyond what we wait for: no hammering, one upstream call.
    expect(sim.count({ operation: "chat" })).toBe(1);
  });

  it("ends a cut stream with an error, never a clean finish, and logs it as partial", async () => {
    sim.faults.add({ fault: "stream_cut", protocol: "openai", afterChunks: 3, times: 1 });
    const stream = await client.chat.completions.create({
      model: "sim-openai/sim-small",
      messages: [{ role: "user", content: "[[sim:tokens=60]] tell me a long story" }],
      stream: true,
    });
    let received = 0;
    const error = await (async () => {
      for await (const chunk of stream) received += chunk.choices.length;
    })().catch((e) => e);
    expect(received).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(Error);
    const last = (await rows()).at(-1)!;
    expect(last).toMatchObject({ streamed: true, partial: true, estimated: true });
    expect(last.outputTokens).toBeGreaterThan(0);
  });

  it("refuses a model outside the key's allow-list with 403, without calling upstream", async () => {
    const db = app.rt.db.prisma;
    const tenant = await ensureDefaultTenant(db);
    const limited = await createApiKey(db, { ...tenant, name: "limited", allowedModels: ["sim-openai/sim-small"] });
    const limitedClient = new OpenAI({ apiKey: limited.key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
    const error = await limitedClient.chat.completions.create({ model: "sim-anthropic/sim-claude", messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(error.code).toBe("model_not_allowed");
    expect(sim.count()).toBe(0);
  });

  it("aborts upstream and logs a 499 when the client disconnects mid-stream", async () => {
    sim.faults.add({ fault: "stream_stall", protocol: "openai", afterChunks: 2, times: 1 });
    const controller = new AbortController();
    const before = (await rows()).length;
    const res = await fetch(`${app.url}/api/v1/chat/completions`, {
      method: "POST",
      signal: controller.signal,
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "sim-openai/sim-small", stream: true, messages: [{ role: "user", content: "stall please" }] }),
    });
    const reader = res.body!.getReader();
    await reader.read(); // the first bytes arrived
    const aborted = Date.now();
    controller.abort();
    await waitUntil(async () => (await rows()).length > before, 1_000);
    expect(Date.now() - aborted).toBeLessThan(1_000);
    expect((await rows()).at(-1)).toMatchObject({ status: 499, partial: true, streamed: true, errorClass: "client_closed_request" });
  });

  it("rejects bad input with the documented status before any upstream call", async () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${app.url}/api/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", ...headers },
        body,
      });
    const cases: Array<[Response, number, string]> = [
      [await post("{not json"), 400, "invalid_json"],
      [await post("{}", { "content-type": "text/plain" }), 415, "unsupported_media_type"],
      [await post(JSON.stringify({ model: "sim-openai/sim-small", messages: [{ role: "user", content: "x".repeat(70_000) }] })), 413, "request_too_large"],
      [await post(JSON.stringify({ model: "sim-openai/sim-small", messages: [{ role: "user", content: "x" }], temperature: "hot" })), 400, "invalid_value"],
      [await post(JSON.stringify({ model: "sim-openai/sim-small", messages: [{ role: "user", content: "x" }], api_base: "http://169.254.169.254" })), 400, "forbidden_parameter"],
      [await post(JSON.stringify({ model: "no-such-model", messages: [{ role: "user", content: "x" }] })), 404, "model_not_found"],
    ];
    for (const [res, status, code] of cases) {
      expect(res.status).toBe(status);
      expect((await res.json()).error.code).toBe(code);
    }
    expect(sim.count()).toBe(0);
  });
});

describe("POST /api/v1/chat/completions with the key in x-api-key", () => {
  it("authenticates like Authorization: Bearer", async () => {
    const sim = await startSimulator();
    const app = await startTestServer();
    try {
      const { key } = await seedSimulatorProviders(app, sim.url);
      const res = await fetch(`${app.url}/api/v1/chat/completions`, {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json" },
        body: JSON.stringify({ model: "sim-openai/sim-small", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(res.status).toBe(200);
    } finally {
      await app.dispose();
      await sim.close();
    }
  });
});
