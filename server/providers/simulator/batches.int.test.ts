import Anthropic from "@anthropic-ai/sdk";
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "./index";

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
const chatLine = (id: string, text: string) => ({
  custom_id: id,
  method: "POST",
  url: "/v1/chat/completions",
  body: { model: "gpt-4o-mini", messages: [{ role: "user", content: text }] },
});

describe("simulator batch APIs through the official SDKs", () => {
  let sim: Simulator;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    sim = await startSimulator({ apiKey: "sk-sim-test", batch: { polls: 2 } });
    openai = new OpenAI({ apiKey: "sk-sim-test", baseURL: `${sim.url}/openai/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: "sk-sim-test", baseURL: `${sim.url}/anthropic`, maxRetries: 0 });
  });
  afterAll(() => sim?.close());
  beforeEach(() => sim.reset());

  const submit = async (rows: unknown[]) => {
    const file = await openai.files.create({ file: await toFile(Buffer.from(jsonl(rows)), "input.jsonl"), purpose: "batch" });
    return openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
  };

  it("OpenAI: uploads, validates, progresses over polls and completes with an output file", async () => {
    const file = await openai.files.create({ file: await toFile(Buffer.from(jsonl([chatLine("a", "hi")])), "in.jsonl"), purpose: "batch" });
    expect(file).toMatchObject({ object: "file", purpose: "batch", filename: "in.jsonl", status: "processed" });
    expect(await (await openai.files.content(file.id)).text()).toBe(jsonl([chatLine("a", "hi")]));

    const created = await submit([chatLine("a", "first question"), chatLine("b", "second question")]);
    expect(created).toMatchObject({ object: "batch", status: "validating", request_counts: { total: 2, completed: 0, failed: 0 } });
    expect((await openai.batches.retrieve(created.id)).status).toBe("in_progress");
    const done = await openai.batches.retrieve(created.id);
    expect(done.status).toBe("completed");
    expect(done.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    expect(done.error_file_id).toBeNull();
    const lines = (await (await openai.files.content(done.output_file_id!)).text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.custom_id)).toEqual(["a", "b"]);
    expect(lines[0]).toMatchObject({ response: { status_code: 200, body: { object: "chat.completion", model: "gpt-4o-mini" } }, error: null });
    expect(lines[0].id).toMatch(/^batch_req_/);
    expect(lines[1].response.body.choices[0].message.content).toContain("second question");
  });

  it("OpenAI: a scheduled fault fails one line (partial failure in the error file)", async () => {
    sim.faults.add({ fault: "server_error", protocol: "openai", operation: "chat", times: 1 });
    const created = await submit([chatLine("ok", "fine"), chatLine("bad", "broken")]);
    await openai.batches.retrieve(created.id);
    const done = await openai.batches.retrieve(created.id);
    expect(done.request_counts).toEqual({ total: 2, completed: 1, failed: 1 });
    const errors = (await (await openai.files.content(done.error_file_id!)).text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(errors).toHaveLength(1);
    expect(errors[0].response.status_code).toBe(500);
    expect(errors[0].response.body.error.type).toBe("server_error");
  });

  it("OpenAI: expires (half the lines run) and cancels; rejects a bad input file", async () => {
    sim.batches.configure({ outcome: "expire", polls: 1 });
    const expired = await openai.batches.retrieve((await submit([chatLine("1", "a"), chatLine("2", "b"), chatLine("3", "c")])).id);
    expect(expired.status).toBe("expired");
    expect(expired.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
    const error = JSON.parse((await (await openai.files.content(expired.error_file_id!)).text()).trim());
    expect(error).toMatchObject({ custom_id: "3", response: null, error: { code: "batch_expired" } });

    sim.batches.configure({ outcome: "complete", polls: 5 });
    const running = await submit([chatLine("x", "cancel me")]);
    expect((await openai.batches.cancel(running.id)).status).toBe("cancelling");
    const cancelled = await openai.batches.retrieve(running.id);
    expect(cancelled.status).toBe("cancelled");
    expect(sim.count({ operation: "chat" })).toBe(2); // only the expired batch's two lines ran

    const failed = await submit([{ custom_id: "dup", method: "POST", url: "/v1/embeddings", body: {} }]);
    expect(failed.status).toBe("failed");
    expect(failed.errors?.data?.[0]).toMatchObject({ code: "mismatched_endpoint", line: 1 });
  });

  it("Gemini: runs inlined requests as a long-running operation, in request order; cancels and expires", async () => {
    const headers = { "content-type": "application/json", "x-goog-api-key": "sk-sim-test" };
    const request = (text: string) => ({ contents: [{ role: "user", parts: [{ text }] }] });
    const create = async (texts: string[]) => {
      const body = { batch: { displayName: "t", inputConfig: { requests: { requests: texts.map((t, i) => ({ request: request(t), metadata: { key: `k${i}` } })) } } } };
      const res = await fetch(`${sim.url}/gemini/v1beta/models/gemini-2.5-flash:batchGenerateContent`, { method: "POST", headers, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      return (await res.json()) as { name: string; done: boolean; metadata: { state: string } };
    };
    const get = async (name: string) => (await (await fetch(`${sim.url}/gemini/v1beta/${name}`, { headers })).json()) as any;

    sim.faults.add({ fault: "server_error", protocol: "gemini", operation: "chat", times: 1 });
    const op = await create(["first", "second"]);
    expect(op).toMatchObject({ name: expect.stringMatching(/^batches\//), done: false, metadata: { state: "BATCH_STATE_PENDING", batchStats: { requestCount: "2" } } });
    expect(await get(op.name)).toMatchObject({ done: false, metadata: { state: "BATCH_STATE_RUNNING" } });
    const done = await get(op.name);
    expect(done).toMatchObject({ done: true, metadata: { state: "BATCH_STATE_SUCCEEDED", batchStats: { successfulRequestCount: "1", failedRequestCount: "1" } } });
    const responses = done.response.inlinedResponses.inlinedResponses;
    expect(responses.map((r: { metadata: { key: string } }) => r.metadata.key)).toEqual(["k0", "k1"]);
    expect(responses.find((r: { error?: unknown }) => r.error).error).toMatchObject({ code: 13, status: "INTERNAL" });
    expect(responses.find((r: { response?: unknown }) => r.response).response.candidates[0].content.parts[0].text).toBeTruthy();

    const cancelled = await create(["x"]);
    expect((await fetch(`${sim.url}/gemini/v1beta/${cancelled.name}:cancel`, { method: "POST", headers })).status).toBe(200);
    expect(await get(cancelled.name)).toMatchObject({ done: true, error: { code: 1 }, metadata: { state: "BATCH_STATE_CANCELLED" } });

    sim.batches.configure({ outcome: "expire", polls: 0 });
    expect(await get((await create(["y"])).name)).toMatchObject({ done: true, metadata: { state: "BATCH_STATE_EXPIRED" } });
    expect(sim.batches.list().filter((b) => b.protocol === "gemini")).toHaveLength(3);
  });

  it("Anthropic: creates a message batch, ends after the polls and streams results", async () => {
    const params = (text: string) => ({ model: "claude-sonnet-4-5", max_tokens: 64, messages: [{ role: "user" as const, content: text }] });
    sim.faults.add({ fault: "rate_limit", protocol: "anthropic", operation: "chat", times: 1 });
    const batch = await anthropic.messages.batches.create({ requests: [{ custom_id: "one", params: params("first") }, { custom_id: "two", params: params("second") }] });
    expect(batch).toMatchObject({ type: "message_batch", processing_status: "in_progress", request_counts: { processing: 2 }, results_url: null });
    expect((await anthropic.messages.batches.retrieve(batch.id)).processing_status).toBe("in_progress");
    const ended = await anthropic.messages.batches.retrieve(batch.id);
    expect(ended.processing_status).toBe("ended");
    expect(ended.request_counts).toMatchObject({ processing: 0, succeeded: 1, errored: 1 });
    expect(ended.results_url).toBe(`${sim.url}/anthropic/v1/messages/batches/${batch.id}/results`);
    const results: Anthropic.Messages.MessageBatchIndividualResponse[] = [];
    for await (const r of await anthropic.messages.batches.results(batch.id)) results.push(r);
    const byId = Object.fromEntries(results.map((r) => [r.custom_id, r.result]));
    expect(byId.one?.type).toBe("errored");
    expect(byId.two).toMatchObject({ type: "succeeded", message: { type: "message", role: "assistant" } });

    const cancelled = await anthropic.messages.batches.cancel((await anthropic.messages.batches.create({ requests: [{ custom_id: "c", params: params("x") }] })).id);
    expect(cancelled.processing_status).toBe("canceling");
    const after = await anthropic.messages.batches.retrieve(cancelled.id);
    expect(after).toMatchObject({ processing_status: "ended", request_counts: { canceled: 1 } });
  });
});
