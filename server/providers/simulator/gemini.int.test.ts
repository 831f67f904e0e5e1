import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "./index";
import { countTokens } from "./tokens";

let sim: Simulator;
let clock = 1_750_000_000_000;

beforeAll(async () => {
  sim = await startSimulator({ now: () => clock });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const FLASH = "gemini-2.5-flash";
const LONG = "Reference manual section: the device restarts when the red button is held for ten seconds. ".repeat(80);

async function call(path: string, body?: unknown, init: { method?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${sim.url}/gemini/v1beta/${path}`, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers: { "content-type": "application/json", ...init.headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

const generate = (body: unknown, model = FLASH, headers?: Record<string, string>) => call(`models/${model}:generateContent`, body, { headers });
const ask = (text: string) => ({ contents: [{ role: "user", parts: [{ text }] }] });
const textOf = (candidate: { content?: { parts?: Array<{ text?: string; thought?: boolean }> } }) =>
  (candidate.content?.parts ?? [])
    .filter((p) => !p.thought)
    .map((p) => p.text ?? "")
    .join("");

function sseEvents(raw: string): Array<Record<string, any>> {
  return raw
    .split("\r\n\r\n")
    .filter((block) => block.startsWith("data: "))
    .map((block) => JSON.parse(block.slice("data: ".length)));
}

describe("Gemini generateContent", () => {
  it("answers with usageMetadata whose counts add up, thoughts included for 2.5 models", async () => {
    const { status, json } = await generate({ ...ask("Summarise the meeting"), system_instruction: { parts: [{ text: "Be brief." }] } });
    expect(status).toBe(200);
    const text = textOf(json.candidates[0]);
    expect(text).toBe(`Simulated reply from ${FLASH}: you said "Summarise the meeting".`);
    expect(json.candidates[0]).toMatchObject({ finishReason: "STOP", index: 0, content: { role: "model" } });
    const usage = json.usageMetadata;
    expect(usage.candidatesTokenCount).toBe(countTokens(text));
    expect(usage.thoughtsTokenCount).toBe(64);
    expect(usage.totalTokenCount).toBe(usage.promptTokenCount + usage.candidatesTokenCount + usage.thoughtsTokenCount);
    expect(usage.cachedContentTokenCount).toBeUndefined();
    expect(json.modelVersion).toBe(FLASH);
    const counted = await call(`models/${FLASH}:countTokens`, { contents: ask("Summarise the meeting").contents });
    const withSystem = await call(`models/${FLASH}:countTokens`, {
      generateContentRequest: { model: `models/${FLASH}`, ...ask("Summarise the meeting"), systemInstruction: { parts: [{ text: "Be brief." }] } },
    });
    expect(withSystem.json.totalTokens).toBe(usage.promptTokenCount);
    expect(counted.json.totalTokens).toBe(usage.promptTokenCount - countTokens("Be brief."));

    const older = await generate(ask("hi"), "gemini-2.0-flash");
    expect(older.json.usageMetadata.thoughtsTokenCount).toBeUndefined();
    const noThinking = await generate({ ...ask("hi"), generationConfig: { thinkingConfig: { thinkingBudget: 0 } } });
    expect(noThinking.json.usageMetadata.thoughtsTokenCount).toBeUndefined();
  });

  it("streams GenerateContentResponse objects over SSE (alt=sse) and as a JSON array otherwise", async () => {
    const body = ask("Stream me a story");
    const json = (await generate(body)).json;
    const sse = await fetch(`${sim.url}/gemini/v1beta/models/${FLASH}:streamGenerateContent?alt=sse`, { method: "POST", body: JSON.stringify(body) });
    expect(sse.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = sseEvents(await sse.text());
    expect(events.length).toBeGreaterThan(3);
    expect(events.map((e) => textOf(e.candidates[0])).join("")).toBe(textOf(json.candidates[0]));
    expect(events.at(-1)!.candidates[0].finishReason).toBe("STOP");
    expect(events.at(-1)!.usageMetadata).toEqual(json.usageMetadata);
    expect(events.slice(0, -1).every((e) => e.candidates[0].finishReason === undefined)).toBe(true);

    const array = await fetch(`${sim.url}/gemini/v1beta/models/${FLASH}:streamGenerateContent`, { method: "POST", body: JSON.stringify(body) });
    const chunks = JSON.parse(await array.text()) as Array<Record<string, any>>;
    expect(chunks.map((c) => textOf(c.candidates[0])).join("")).toBe(textOf(json.candidates[0]));
  });

  it("calls declared functions, honours mode NONE, and answers after function responses", async () => {
    const tools = [
      {
        functionDeclarations: [
          { name: "find_flights", parameters: { type: "OBJECT", properties: { to: { type: "STRING" }, seats: { type: "INTEGER" } }, required: ["to", "seats"] } },
          { name: "get_weather", parametersJsonSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
        ],
      },
    ];
    const { json } = await generate({ ...ask("Fly me to Rome"), tools });
    expect(json.candidates[0].content.parts).toEqual([
      { functionCall: { name: "find_flights", args: { to: "Fly me to Rome", seats: 0 } } },
      { functionCall: { name: "get_weather", args: { city: "Fly me to Rome" } } },
    ]);
    const allowed = await generate({ ...ask("Fly"), tools, toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["get_weather"] } } });
    expect(allowed.json.candidates[0].content.parts.map((p: any) => p.functionCall.name)).toEqual(["get_weather"]);
    const none = await generate({ ...ask("Fly"), tools, tool_config: { function_calling_config: { mode: "NONE" } } });
    expect(textOf(none.json.candidates[0])).toContain("Fly");
    const after = await generate({
      tools,
      contents: [
        ...ask("Fly me to Rome").contents,
        { role: "model", parts: json.candidates[0].content.parts },
        { role: "user", parts: [{ functionResponse: { name: "find_flights", response: { flights: 3 } } }] },
      ],
    });
    expect(after.json.candidates[0].content.parts[0].text).toMatch(/^Simulated reply/);
  });

  it("honours maxOutputTokens, stopSequences, JSON mode, candidateCount and includeThoughts", async () => {
    const cut = await generate({ ...ask("hello"), generationConfig: { maxOutputTokens: 70, thinkingConfig: { thinkingBudget: 1024 } } });
    expect(cut.json.candidates[0].finishReason).toBe("MAX_TOKENS");
    expect(cut.json.usageMetadata.candidatesTokenCount + cut.json.usageMetadata.thoughtsTokenCount).toBe(70);

    const stopped = await generate({ ...ask("one STOP two"), generationConfig: { stopSequences: ["STOP"] } });
    expect(textOf(stopped.json.candidates[0])).toBe(`Simulated reply from ${FLASH}: you said "one `);

    const structured = await generate({
      ...ask("Extract"),
      generationConfig: {
        responseMimeType: "application/json",
        responseSchema: { type: "OBJECT", properties: { title: { type: "STRING" }, pages: { type: "INTEGER" } }, required: ["title", "pages"] },
      },
    });
    const parsed = JSON.parse(textOf(structured.json.candidates[0]));
    expect(typeof parsed.title).toBe("string");
    expect(parsed.pages).toBe(0);

    const two = await generate({ ...ask("hello"), generationConfig: { candidateCount: 2, thinkingConfig: { includeThoughts: true } } });
    expect(two.json.candidates).toHaveLength(2);
    expect(two.json.candidates[1].index).toBe(1);
    expect(two.json.candidates[0].content.parts[0].thought).toBe(true);
    expect(textOf(two.json.candidates[0])).not.toBe(textOf(two.json.candidates[1]));
  });
});

describe("Gemini context caching", () => {
  const cachePayload = (ttl = "300s") => ({
    model: `models/${FLASH}`,
    contents: [{ role: "user", parts: [{ text: LONG }] }],
    systemInstruction: { parts: [{ text: "You answer from the manual." }] },
    ttl,
  });

  it("creates a cache whose tokens are reported as cachedContentTokenCount by later requests", async () => {
    const tooSmall = await call("cachedContents", { model: `models/${FLASH}`, contents: ask("tiny").contents });
    expect(tooSmall.status).toBe(400);
    expect(tooSmall.json.error.message).toMatch(/too small/);

    const created = await call("cachedContents", cachePayload());
    expect(created.status).toBe(200);
    const cache = created.json;
    expect(cache.name).toMatch(/^cachedContents\//);
    expect(cache.model).toBe(`models/${FLASH}`);
    expect(Date.parse(cache.expireTime) - Date.parse(cache.createTime)).toBe(300_000);
    const cachedTokens = cache.usageMetadata.totalTokenCount;
    expect(cachedTokens).toBeGreaterThan(1024);

    const used = await generate({ ...ask("How do I restart it?"), cachedContent: cache.name });
    expect(used.json.usageMetadata.cachedContentTokenCount).toBe(cachedTokens);
    const own = (await call(`models/${FLASH}:countTokens`, { contents: ask("How do I restart it?").contents })).json.totalTokens;
    expect(used.json.usageMetadata.promptTokenCount).toBe(cachedTokens + own);
    expect(textOf(used.json.candidates[0])).toContain("How do I restart it?");

    const sse = await fetch(`${sim.url}/gemini/v1beta/models/${FLASH}:streamGenerateContent?alt=sse`, {
      method: "POST",
      body: JSON.stringify({ ...ask("again"), cachedContent: cache.name }),
    });
    expect(sseEvents(await sse.text()).at(-1)!.usageMetadata.cachedContentTokenCount).toBe(cachedTokens);

    const list = await call("cachedContents");
    expect(list.json.cachedContents.map((c: { name: string }) => c.name)).toEqual([cache.name]);
    expect((await call(cache.name)).json.name).toBe(cache.name);
  });

  it("rejects a different model or overriding instructions, and forgets deleted or expired caches", async () => {
    const cache = (await call("cachedContents", cachePayload("60s"))).json;
    const otherModel = await generate({ ...ask("q"), cachedContent: cache.name }, "gemini-2.5-pro");
    expect(otherModel.status).toBe(400);
    const override = await generate({ ...ask("q"), cachedContent: cache.name, systemInstruction: { parts: [{ text: "x" }] } });
    expect(override.status).toBe(400);

    const patched = await call(cache.name, { ttl: "600s" }, { method: "PATCH" });
    expect(Date.parse(patched.json.expireTime)).toBe(clock + 600_000);
    clock += 599_000;
    expect((await generate({ ...ask("q"), cachedContent: cache.name })).status).toBe(200);
    clock += 2_000;
    const expired = await generate({ ...ask("q"), cachedContent: cache.name });
    expect(expired.status).toBe(403);
    expect(expired.json.error.status).toBe("PERMISSION_DENIED");

    const second = (await call("cachedContents", cachePayload())).json;
    expect((await call(second.name, undefined, { method: "DELETE" })).status).toBe(200);
    expect((await generate({ ...ask("q"), cachedContent: second.name })).status).toBe(403);
    expect((await call("cachedContents")).json).toEqual({});
  });
});

describe("Gemini embeddings, models, auth and faults", () => {
  it("embeds single and batched content deterministically", async () => {
    const one = await call("models/gemini-embedding-001:embedContent", { content: { parts: [{ text: "reset my password" }] }, outputDimensionality: 128 });
    expect(one.json.embedding.values).toHaveLength(128);
    expect(Math.hypot(...one.json.embedding.values)).toBeCloseTo(1, 6);
    const batch = await call("models/gemini-embedding-001:batchEmbedContents", {
      requests: [
        { model: "models/gemini-embedding-001", content: { parts: [{ text: "reset my password" }] }, outputDimensionality: 128 },
        { model: "models/gemini-embedding-001", content: { parts: [{ text: "something else" }] } },
      ],
    });
    expect(batch.json.embeddings[0].values).toEqual(one.json.embedding.values);
    expect(batch.json.embeddings[1].values).toHaveLength(3072);
    expect(sim.count({ protocol: "gemini", operation: "embeddings" })).toBe(2);
  });

  it("lists models", async () => {
    const { json } = await call("models");
    expect(json.models.map((m: { name: string }) => m.name)).toContain(`models/${FLASH}`);
  });

  it("requires the key in x-goog-api-key or ?key=, answering like Google", async () => {
    const guarded = await startSimulator({ apiKey: "AIza-right" });
    try {
      const url = `${guarded.url}/gemini/v1beta/models/${FLASH}:generateContent`;
      const init = { method: "POST", body: JSON.stringify(ask("hi")) };
      const missing = await fetch(url, init);
      expect(missing.status).toBe(403);
      expect((await missing.json()).error.status).toBe("PERMISSION_DENIED");
      const wrong = await fetch(url, { ...init, headers: { "x-goog-api-key": "AIza-wrong" } });
      expect(wrong.status).toBe(400);
      expect((await wrong.json()).error.details[0].reason).toBe("API_KEY_INVALID");
      expect((await fetch(url, { ...init, headers: { "x-goog-api-key": "AIza-right" } })).status).toBe(200);
      expect((await fetch(`${url}?key=AIza-right`, init)).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });

  it("renders faults in Google's error format and safety shapes", async () => {
    const limited = await generate(ask("hi"), FLASH, { "x-sim-fault": "rate_limit; retry-after=4" });
    expect(limited.status).toBe(429);
    expect(limited.json.error).toMatchObject({ code: 429, status: "RESOURCE_EXHAUSTED", details: [{ retryDelay: "4s" }] });
    const unavailable = await generate(ask("hi"), FLASH, { "x-sim-fault": "unavailable" });
    expect(unavailable.json.error).toMatchObject({ code: 503, status: "UNAVAILABLE" });
    const tooLong = await generate(ask("hi"), FLASH, { "x-sim-fault": "context_length" });
    expect(tooLong.json.error).toMatchObject({ code: 400, status: "INVALID_ARGUMENT" });
    const blocked = await generate(ask("hi"), FLASH, { "x-sim-fault": "content_filter; on=prompt" });
    expect(blocked.json.promptFeedback.blockReason).toBe("SAFETY");
    expect(blocked.json.candidates).toBeUndefined();
    const stopped = await generate(ask("hi"), FLASH, { "x-sim-fault": "content_filter" });
    expect(stopped.json.candidates[0].finishReason).toBe("SAFETY");
  });

  it("cuts an SSE stream mid-way", async () => {
    const res = await fetch(`${sim.url}/gemini/v1beta/models/${FLASH}:streamGenerateContent?alt=sse`, {
      method: "POST",
      headers: { "x-sim-fault": "stream_cut; after=2" },
      body: JSON.stringify(ask("hi")),
    });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it("answers unknown paths and invalid bodies with Google errors", async () => {
    expect((await call("models/x:explode", {})).json.error.status).toBe("NOT_FOUND");
    const invalid = await generate({ contents: [] });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.status).toBe("INVALID_ARGUMENT");
  });
});
