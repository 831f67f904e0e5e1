/**
 * Idempotency-Key (reliability case 22) and the input-token charge of a cancelled non-streamed call, through the
 * real HTTP server with the official openai SDK against the simulator: PGlite + in-memory state by default, Postgres +
 * Redis when DATABASE_URL / REDIS_URL are set.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseDecimal } from "../catalog/money";
import { createApiKey } from "../keys/service";
import { periodWindow } from "../ledger/periods";
import { startSimulator, type Simulator } from "../providers/simulator";
import { waitUntil } from "../state/store.contract";
import { createTestDatabase, seedSimulatorProviders, startTestServer, type TestDatabase, type TestServer } from "../testing/harness";
import { REPLAY_HEADER } from "./idempotency";
import { bumpConfigVersion } from "./snapshot";
import { estimatePromptTokens } from "./tokens";

const MODEL = "sim-openai/sim-small";
/** $100 per 1M input tokens, $200 per 1M output tokens. */
const PRICES = { inputPrice: "100", outputPrice: "200" };

describe("Idempotency-Key through the HTTP API", () => {
  let sim: Simulator;
  let app: TestServer;
  let tenant: { orgId: string; teamId: string };
  let client: OpenAI;
  let apiKey: string;
  let n = 0;

  const db = () => app.rt.db.prisma;
  const idem = () => ({ headers: { "Idempotency-Key": `key-${Date.now()}-${++n}` } });
  const rowsFor = async (requestedModel?: string) => {
    await app.rt.calls.flush();
    return db().call.findMany({ where: requestedModel ? { requestedModel } : {}, orderBy: { createdAt: "asc" } });
  };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}, init: RequestInit = {}) =>
    fetch(`${app.url}/api/v1${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
      ...init,
    });

  beforeAll(async () => {
    sim = await startSimulator();
    app = await startTestServer();
    const seeded = await seedSimulatorProviders(app, sim.url);
    tenant = seeded.tenant;
    apiKey = seeded.key;
    await db().modelOverride.create({ data: { orgId: tenant.orgId, modelId: "sim-small", ...PRICES } });
    await bumpConfigVersion(db());
    await app.rt.snapshot.refresh();
    client = new OpenAI({ apiKey, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await app?.dispose();
    await sim?.close();
  });
  beforeEach(() => sim.reset());

  it("answers a repeat from the stored response: one upstream call, one charge, the replay logged at zero cost", async () => {
    const model = `${MODEL}`;
    const messages = [{ role: "user" as const, content: "Idempotent hello [[sim:tokens=30]]" }];
    const options = idem();
    const first = await client.chat.completions.create({ model, messages, user: "replay-1" }, options).withResponse();
    const second = await client.chat.completions.create({ model, messages, user: "replay-1" }, options).withResponse();
    expect(sim.count({ operation: "chat" })).toBe(1);
    expect(second.data).toEqual(first.data);
    expect(second.response.status).toBe(200);
    expect(first.response.headers.get(REPLAY_HEADER)).toBeNull();
    expect(second.response.headers.get(REPLAY_HEADER)).toBe("true");
    expect(second.response.headers.get("x-switchyard-cost-usd")).toBe("0");
    expect(Number(first.response.headers.get("x-switchyard-cost-usd"))).toBeGreaterThan(0);
    expect(second.response.headers.get("x-switchyard-target")).toBe(first.response.headers.get("x-switchyard-target"));
    expect(second.response.headers.get("x-switchyard-original-request-id")).toBe(first.response.headers.get("x-request-id"));

    await app.rt.calls.flush();
    const rows = await db().call.findMany({ where: { endUser: "replay-1" }, orderBy: { createdAt: "asc" } });
    expect(rows).toHaveLength(2);
    expect(Number(rows[0]!.costUsd)).toBeGreaterThan(0);
    expect(rows[0]!.cacheOutcome).not.toBe("replay");
    expect(rows[1]).toMatchObject({ status: 200, cacheOutcome: "replay", inputTokens: 0, outputTokens: 0, endpoint: "chat.completions" });
    expect(Number(rows[1]!.costUsd)).toBe(0);
    expect(rows[1]!.route).toMatchObject({ target: "idempotent-replay", replayOf: first.response.headers.get("x-request-id") });
  });

  it("sends N parallel identical requests upstream once; every client gets the same answer", async () => {
    // The first call is slow, so the others arrive while it is still running and must wait for it.
    sim.faults.add({ fault: "slow_first_byte", protocol: "openai", delayMs: 400, times: 1 });
    const options = idem();
    const N = 12;
    const results = await Promise.all(
      Array.from({ length: N }, () =>
        client.chat.completions
          .create({ model: MODEL, messages: [{ role: "user", content: "Parallel idempotent call" }], user: "parallel" }, options)
          .withResponse(),
      ),
    );
    expect(sim.count({ operation: "chat" })).toBe(1);
    expect(new Set(results.map((r) => r.data.id)).size).toBe(1);
    expect(results.filter((r) => r.response.headers.get(REPLAY_HEADER) === "true")).toHaveLength(N - 1);
    await app.rt.calls.flush();
    const rows = await db().call.findMany({ where: { endUser: "parallel" } });
    expect(rows).toHaveLength(N);
    expect(rows.filter((r) => r.cacheOutcome === "replay")).toHaveLength(N - 1);
    expect(rows.filter((r) => Number(r.costUsd) > 0)).toHaveLength(1);
  });

  it("refuses the same key with a different body with 422 in the OpenAI error envelope, without calling upstream", async () => {
    const options = idem();
    await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "first body" }] }, options);
    const error = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: "user", content: "another body" }] }, options)
      .then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.UnprocessableEntityError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(422);
    expect(apiError.error).toEqual({
      message: expect.stringContaining("already used with a different request body"),
      type: "invalid_request_error",
      param: "Idempotency-Key",
      code: "idempotency_key_reused",
    });
    expect(sim.count({ operation: "chat" })).toBe(1);
    // The same body under the same key, with the JSON keys in another order, is still the same request.
    const res = await post("/chat/completions", { messages: [{ content: "first body", role: "user" }], model: MODEL }, options.headers);
    expect(res.status).toBe(200);
    expect(res.headers.get(REPLAY_HEADER)).toBe("true");
    expect(sim.count({ operation: "chat" })).toBe(1);
  });

  it("answers 422 in the Anthropic envelope on /messages, and scopes keys per API key", async () => {
    const { headers } = idem();
    const body = { model: "sim-anthropic/sim-claude", max_tokens: 50, messages: [{ role: "user", content: "hello messages" }] };
    const first = await post("/messages", body, headers);
    expect(first.status).toBe(200);
    const replay = await post("/messages", body, headers);
    expect(replay.headers.get(REPLAY_HEADER)).toBe("true");
    expect(await replay.json()).toEqual(await first.json());
    const reused = await post("/messages", { ...body, max_tokens: 51 }, headers);
    expect(reused.status).toBe(422);
    expect(await reused.json()).toEqual({ type: "error", error: { type: "invalid_request_error", message: expect.any(String), code: "idempotency_key_reused" } });
    expect(sim.count({ operation: "chat" })).toBe(1);

    // Another API key using the same Idempotency-Key is another request.
    const other = await createApiKey(db(), { ...tenant, name: "idem-other" });
    const fresh = await post("/messages", body, { ...headers, authorization: `Bearer ${other.key}` });
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get(REPLAY_HEADER)).toBeNull();
    expect(sim.count({ operation: "chat" })).toBe(2);
  });

  it("replays a completed stream as the same SSE text", async () => {
    const { headers } = idem();
    const body = { model: MODEL, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "Stream me once" }] };
    const first = await post("/chat/completions", body, headers);
    const firstText = await first.text();
    expect(firstText.trimEnd().endsWith("data: [DONE]")).toBe(true);
    const second = await post("/chat/completions", body, headers);
    expect(second.headers.get(REPLAY_HEADER)).toBe("true");
    expect(second.headers.get("content-type")).toContain("text/event-stream");
    expect(await second.text()).toBe(firstText);
    expect(sim.count({ operation: "chat" })).toBe(1);

    // The SDK reads the replay like any stream.
    const stream = await client.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsStreaming, { headers });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toContain("Simulated reply");
    expect(sim.count({ operation: "chat" })).toBe(1);
  });

  it("replays a streamed Responses call to the SDK, ending with response.completed", async () => {
    const { headers } = idem();
    const read = async () => {
      const events: string[] = [];
      const stream = await client.responses.create({ model: MODEL, input: "Stream a response once", stream: true }, { headers });
      for await (const event of stream) events.push(event.type);
      return events;
    };
    const first = await read();
    const second = await read();
    expect(first.at(-1)).toBe("response.completed");
    expect(second).toEqual(first);
    expect(sim.count({ operation: "chat" })).toBe(1);
  });

  it("does not keep a failed or cut answer: a retry with the same key calls upstream again", async () => {
    sim.faults.add({ fault: "context_length", protocol: "openai", times: 1 });
    const options = idem();
    const params = { model: MODEL, messages: [{ role: "user" as const, content: "fail then succeed" }] };
    const failed = await client.chat.completions.create(params, options).then(() => null, (e: unknown) => e);
    expect((failed as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    const ok = await client.chat.completions.create(params, options).withResponse();
    expect(ok.response.headers.get(REPLAY_HEADER)).toBeNull();
    expect(sim.count({ operation: "chat" })).toBe(2);

    // A stream cut by the upstream ends without [DONE]: not stored either.
    sim.faults.add({ fault: "stream_cut", protocol: "openai", afterChunks: 2, times: 1 });
    const { headers } = idem();
    const body = { model: MODEL, stream: true, messages: [{ role: "user", content: "cut me [[sim:tokens=50]]" }] };
    const cut = await (await post("/chat/completions", body, headers)).text();
    expect(cut).not.toContain("[DONE]");
    const again = await post("/chat/completions", body, headers);
    expect(again.headers.get(REPLAY_HEADER)).toBeNull();
    expect(await again.text()).toContain("[DONE]");
    expect(sim.count({ operation: "chat" })).toBe(4);
  });

  it("replays embeddings too, and rejects a malformed key", async () => {
    const options = idem();
    const first = await client.embeddings.create({ model: "sim-openai/sim-embed", input: "embed me once" }, options).withResponse();
    const second = await client.embeddings.create({ model: "sim-openai/sim-embed", input: "embed me once" }, options).withResponse();
    expect(second.response.headers.get(REPLAY_HEADER)).toBe("true");
    expect(second.data.data[0]!.embedding).toEqual(first.data.data[0]!.embedding);
    expect(sim.count({ operation: "embeddings" })).toBe(1);

    const bad = await post("/chat/completions", { model: MODEL, messages: [{ role: "user", content: "x" }] }, { "Idempotency-Key": "x".repeat(300) });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe("invalid_idempotency_key");
    expect(sim.count({ operation: "chat" })).toBe(0);
  });
});

describe("a non-streamed call the client cancels", () => {
  let sim: Simulator;
  let app: TestServer;
  let tenant: { orgId: string; teamId: string };

  beforeAll(async () => {
    sim = await startSimulator();
    app = await startTestServer();
    tenant = (await seedSimulatorProviders(app, sim.url)).tenant;
    await app.rt.db.prisma.modelOverride.create({ data: { orgId: tenant.orgId, modelId: "sim-small", ...PRICES } });
    await bumpConfigVersion(app.rt.db.prisma);
    await app.rt.snapshot.refresh();
  });
  afterAll(async () => {
    await app?.dispose();
    await sim?.close();
  });

  it("is charged its input tokens (estimated) and the reservation settles to that charge", async () => {
    const db = app.rt.db.prisma;
    const { key, record } = await createApiKey(db, { ...tenant, name: "cancel" });
    const b = await db.budget.create({ data: { orgId: tenant.orgId, scope: "api_key", apiKeyId: record.id, period: "lifetime", limitUsd: "5" } as never });
    await bumpConfigVersion(db);
    await app.rt.snapshot.refresh();
    const counter = () => app.rt.state.readCounter(`budget:${b.id}:-:${periodWindow("lifetime", b.timezone, Date.now(), b.createdAt).start.getTime()}`);

    const client = new OpenAI({ apiKey: key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
    const messages = [{ role: "user" as const, content: "A question the client will not wait for, with a few more words in it" }];
    sim.faults.add({ fault: "slow_first_byte", protocol: "openai", delayMs: 5_000, times: 1 });
    const controller = new AbortController();
    const pending = client.chat.completions.create({ model: MODEL, messages, max_tokens: 500 }, { signal: controller.signal }).catch((e: unknown) => e);
    await waitUntil(() => sim.count({ operation: "chat" }) === 1); // the upstream has the prompt
    await waitUntil(async () => (await counter()).reserved > 0n);
    controller.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);

    await waitUntil(async () => {
      await app.rt.calls.flush();
      return (await db.call.count({ where: { apiKeyId: record.id } })) === 1;
    });
    const row = await db.call.findFirstOrThrow({ where: { apiKeyId: record.id } });
    const inputTokens = estimatePromptTokens(messages);
    expect(row).toMatchObject({ status: 499, errorClass: "client_closed_request", estimated: true, inputTokens, outputTokens: 0, model: "sim-small" });
    // $100 per 1M input tokens, nothing for output.
    const expected = (BigInt(inputTokens) * parseDecimal("100")) / 1_000_000n;
    expect(parseDecimal(row.costUsd.toFixed())).toBe(expected);
    expect(expected).toBeGreaterThan(0n);
    await waitUntil(async () => (await counter()).reserved === 0n);
    expect(await counter()).toEqual({ spent: expected, reserved: 0n, seeded: true });
  });

  it("is not charged when it is cancelled before any upstream call began", async () => {
    // Covered by the pipeline: only an attempt that started before the client left is charged. Here the client
    // leaves during the retry wait after a failed attempt (the upstream answered 429 and billed nothing).
    const db = app.rt.db.prisma;
    const { key, record } = await createApiKey(db, { ...tenant, name: "cancel-backoff" });
    const client = new OpenAI({ apiKey: key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
    sim.faults.add({ fault: "rate_limit", protocol: "openai", retryAfterSeconds: 3, times: 1 });
    const controller = new AbortController();
    const pending = client.chat.completions
      .create({ model: MODEL, messages: [{ role: "user", content: "wait for my retry" }] }, { signal: controller.signal })
      .catch((e: unknown) => e);
    await waitUntil(() => sim.requests.some((r) => r.status === 429));
    // The 429 is on its way over loopback; the gateway then waits 3 s before retrying: leave well inside that wait.
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    await pending;
    await waitUntil(async () => {
      await app.rt.calls.flush();
      return (await db.call.count({ where: { apiKeyId: record.id } })) === 1;
    });
    const row = await db.call.findFirstOrThrow({ where: { apiKeyId: record.id } });
    expect(row.status).toBe(499);
    expect(Number(row.costUsd)).toBe(0);
  });
});

describe.skipIf(!(process.env.DATABASE_URL && process.env.REDIS_URL))("Idempotency-Key across two instances sharing Postgres and Redis", () => {
  let sim: Simulator;
  let database: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  let key: string;

  beforeAll(async () => {
    sim = await startSimulator();
    database = await createTestDatabase();
    a = await startTestServer({ DATABASE_URL: database.url });
    b = await startTestServer({ DATABASE_URL: database.url });
    key = (await seedSimulatorProviders(a, sim.url)).key;
    await b.rt.snapshot.refresh();
  });
  afterAll(async () => {
    await a?.dispose();
    await b?.dispose();
    await database?.drop();
    await sim?.close();
  });

  it("calls upstream once for parallel repeats split between the instances", async () => {
    sim.faults.add({ fault: "slow_first_byte", protocol: "openai", delayMs: 400, times: 1 });
    const clients = [a, b].map((app) => new OpenAI({ apiKey: key, baseURL: `${app.url}/api/v1`, maxRetries: 0 }));
    const headers = { "Idempotency-Key": `shared-${Date.now()}` };
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        clients[i % 2]!.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "one call for two instances" }] }, { headers }).withResponse(),
      ),
    );
    expect(sim.count({ operation: "chat" })).toBe(1);
    expect(new Set(results.map((r) => r.data.id)).size).toBe(1);
    expect(results.filter((r) => r.response.headers.get(REPLAY_HEADER) === "true")).toHaveLength(9);
  });
});
