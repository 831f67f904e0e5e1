import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../keys/service";
import { startSimulator, type Simulator } from "../providers/simulator";
import { ensureDefaultTenant } from "../tenant";
import { seedSimulatorProviders, startTestServer, type TestServer } from "../testing/harness";

describe("the Anthropic and Responses surfaces, routed to any provider", () => {
  let sim: Simulator;
  let app: TestServer;
  let key: string;

  beforeAll(async () => {
    sim = await startSimulator();
    app = await startTestServer();
    key = (await seedSimulatorProviders(app, sim.url)).key;
  });
  afterAll(async () => {
    await app?.dispose();
    await sim?.close();
  });

  it("serves @anthropic-ai/sdk messages.create from an OpenAI-protocol provider", async () => {
    const client = new Anthropic({ apiKey: key, baseURL: `${app.url}/api`, maxRetries: 0 });
    const message = await client.messages.create({
      model: "sim-openai/sim-small",
      max_tokens: 100,
      system: "You are terse.",
      messages: [{ role: "user", content: "Hello from the Anthropic SDK" }],
    });
    expect(message.type).toBe("message");
    expect(message.content[0]!.type).toBe("text");
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(sim.count({ protocol: "openai", operation: "chat" })).toBeGreaterThan(0);
  });

  it("streams Anthropic events from a Gemini-protocol provider", async () => {
    const client = new Anthropic({ apiKey: key, baseURL: `${app.url}/api`, maxRetries: 0 });
    const stream = client.messages.stream({
      model: "sim-gemini/sim-small",
      max_tokens: 100,
      messages: [{ role: "user", content: "Stream to me" }],
    });
    let text = "";
    stream.on("text", (delta) => (text += delta));
    const final = await stream.finalMessage();
    expect(text.length).toBeGreaterThan(0);
    expect(final.stop_reason).toBe("end_turn");
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it("answers errors on /messages in Anthropic's envelope", async () => {
    const client = new Anthropic({ apiKey: "sy-wrongwrongwrongwrongwrongwrongwrong", baseURL: `${app.url}/api`, maxRetries: 0 });
    const error = await client.messages.create({ model: "sim-openai/sim-small", max_tokens: 10, messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(error.error).toMatchObject({ type: "error", error: { type: "authentication_error" } });
  });

  it("serves the Responses API (JSON and stream) from an Anthropic-protocol provider", async () => {
    const client = new OpenAI({ apiKey: key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
    const response = await client.responses.create({ model: "sim-anthropic/sim-claude", input: "Say hi via the Responses API" });
    expect(response.status).toBe("completed");
    expect(response.output_text.length).toBeGreaterThan(0);
    const stream = client.responses.stream({ model: "sim-anthropic/sim-claude", input: "Stream via Responses" });
    const final = await stream.finalResponse();
    expect(final.output_text.length).toBeGreaterThan(0);
  });

  it("continues a stored response with previous_response_id only for keys that store responses", async () => {
    const db = app.rt.db.prisma;
    const tenant = await ensureDefaultTenant(db);
    const storing = await createApiKey(db, { ...tenant, name: "stores", allowStore: true });
    const client = new OpenAI({ apiKey: storing.key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
    const first = await client.responses.create({ model: "sim-openai/sim-small", input: "Remember the word heliotrope" });
    const second = await client.responses.create({ model: "sim-openai/sim-small", input: "What word?", previous_response_id: first.id });
    expect(second.status).toBe("completed");
    const sent = sim.requests.at(-1)!.body as { messages: Array<{ content: unknown }> };
    expect(JSON.stringify(sent.messages)).toContain("heliotrope");

    const plain = new OpenAI({ apiKey: key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
    const error = await plain.responses.create({ model: "sim-openai/sim-small", input: "x", previous_response_id: first.id }).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.code).toBe("previous_response_not_found");
  });
});

describe("POST /api/v1/embeddings through the official openai SDK", () => {
  let sim: Simulator;
  let app: TestServer;
  let client: OpenAI;
  beforeAll(async () => {
    sim = await startSimulator();
    app = await startTestServer();
    client = new OpenAI({ apiKey: (await seedSimulatorProviders(app, sim.url)).key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await app?.dispose();
    await sim?.close();
  });

  it.each(["sim-openai", "sim-gemini"])("embeds through %s (the SDK's default base64 encoding)", async (provider) => {
    const { data, response } = await client.embeddings.create({ model: `${provider}/sim-embed`, input: ["first text", "second text"] }).withResponse();
    expect(data.data).toHaveLength(2);
    expect(data.data[0]!.embedding.length).toBeGreaterThan(0);
    expect(data.usage.prompt_tokens).toBeGreaterThan(0);
    expect(Number(response.headers.get("x-switchyard-cost-usd"))).toBeGreaterThan(0);
  });

  it("embeds for free with the bundled local model, as floats and as base64", async () => {
    const upstreamCalls = sim.count();
    const floats = await client.embeddings.create({ model: "switchyard/use-lite", input: "How do I reset my password?", encoding_format: "float" });
    expect(floats.data[0]!.embedding).toHaveLength(512);
    const encoded = await client.embeddings.create({ model: "switchyard/use-lite", input: "How do I reset my password?" });
    const a = floats.data[0]!.embedding;
    const b = encoded.data[0]!.embedding;
    expect(b).toHaveLength(512);
    expect(Math.abs(a[0]! - b[0]!)).toBeLessThan(1e-6);
    expect(sim.count()).toBe(upstreamCalls);
  });

  it("rejects a chat-only model and a wrong dimension with a 400 naming the parameter", async () => {
    const notEmbed = await client.embeddings.create({ model: "sim-openai/sim-small", input: "x", user: "not-embed" }).catch((e) => e);
    expect(notEmbed).toBeInstanceOf(OpenAI.BadRequestError);
    expect(notEmbed.param).toBe("model");
    // The failure is logged as one row with the error's status and code.
    await app.rt.calls.flush();
    const rows = await app.rt.db.prisma.call.findMany({ where: { endUser: "not-embed" } });
    expect(rows).toMatchObject([{ endpoint: "embeddings", status: 400, errorClass: "model_not_embeddings", requestedModel: "sim-openai/sim-small" }]);
    expect(rows[0]!.latencyMs).toBeGreaterThanOrEqual(0);
    const dims = await client.embeddings.create({ model: "switchyard/use-lite", input: "x", dimensions: 3 }).catch((e) => e);
    expect(dims.param).toBe("dimensions");
  });
});

describe("a fresh install", () => {
  it("has a working demo provider and policy", async () => {
    const { startSwitchyard } = await import("../start");
    const { testEnv, tempDir, LogCapture } = await import("../testing/harness");
    const dir = tempDir();
    const app = await startSwitchyard(testEnv({ SWITCHYARD_DATA_DIR: dir.path, REDIS_URL: undefined }), { log: new LogCapture().logger, ui: false, ephemeralDatabase: true });
    try {
      const db = app.rt.db.prisma;
      const { key } = await createApiKey(db, { ...(await ensureDefaultTenant(db)), name: "demo" });
      const client = new OpenAI({ apiKey: key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
      const models = await client.models.list();
      expect(models.data.map((m) => m.id)).toContain("demo");
      const { data, response } = await client.chat.completions.create({ model: "demo", messages: [{ role: "user", content: "hi" }] }).withResponse();
      expect(data.choices[0]!.message.content).toBeTruthy();
      expect(response.headers.get("x-switchyard-target")).toBe("demo-simulator/sim-small");
    } finally {
      await app.stop();
      dir.remove();
    }
  });
});
