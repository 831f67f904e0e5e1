/**
 * Prompt compression and output caps through the real HTTP server and the provider simulator: fewer prompt tokens
 * upstream, the tokens saved and the cap on the call row, and the savings by lever (row and rollup).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PolicyDocumentInput } from "@/lib/policy";
import { parseDecimal } from "../catalog/money";
import type { AuthContext } from "../gateway/auth";
import { dryRun } from "../routing/dry-run";
import { startSimulator, type Simulator } from "../providers/simulator";
import type { RouteRecord } from "../routing/explain";
import { callRow, chat, prompt, routingFixture, type Scenario } from "../routing/testing";
import { seedSimulatorProviders, startTestServer, type TestServer } from "../testing/harness";
import { TRIM_MARKER_PREFIX } from "./compress";

describe("prompt compression and output caps end to end", () => {
  let sim: Simulator;
  let app: TestServer;
  let key: string;
  let orgId: string;
  let teamId: string;
  let fixture: ReturnType<typeof routingFixture>;
  let optimized: Scenario;
  let plain: Scenario;
  let trimming: Scenario;

  const models = [
    { name: "work", input: "1", output: "2" },
    { name: "flagship", input: "5", output: "15" },
  ];
  const policy = (extra: Partial<PolicyDocumentInput>) => (m: Omit<Scenario, "policy">) =>
    ({ targets: [m.target(0)], reference: m.target(1), ...extra }) as PolicyDocumentInput;

  beforeAll(async () => {
    sim = await startSimulator();
    app = await startTestServer();
    const seeded = await seedSimulatorProviders(app, sim.url);
    key = seeded.key;
    orgId = seeded.tenant.orgId;
    teamId = seeded.tenant.teamId;
    fixture = routingFixture(app, orgId);
    optimized = await fixture.scenario(models, policy({ compression: {}, parameters: { maxTokensByTask: { classification: 16 } } }));
    plain = await fixture.scenario(models, policy({}));
    trimming = await fixture.scenario(models, policy({ compression: { trimHistory: { maxTokens: 300, keepLastMessages: 2 } } }));
  });
  afterAll(async () => {
    await app?.dispose();
    await sim?.close();
  });

  const routeOf = async (res: { headers: Headers }) => {
    const row = await callRow(app, res);
    return { row, route: row.route as unknown as RouteRecord };
  };
  /** The body the simulator received for a request id's upstream call (the last one for that model). */
  const upstreamBody = (model: string) => sim.requests.filter((r) => r.model === model).at(-1)!.body as { messages: Array<{ role: string; content: unknown }>; max_completion_tokens?: number };
  const d = (value: { toString(): string }) => parseDecimal(value.toString());

  it("lossless compression: fewer prompt tokens upstream, tokens saved and compression savings on the row", async () => {
    const messy = `${prompt("Please   summarise   this   note.")}   \n\n\n\n\n${"The   shipment   left   the   warehouse   on   Monday.   \n\n\n\n".repeat(12)}`;
    const body = { messages: [{ role: "user", content: messy }] };
    const a = await chat(app, key, { model: optimized.policy, ...body });
    const b = await chat(app, key, { model: plain.policy, ...body });
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    const upstreamSaved = b.body.usage.prompt_tokens - a.body.usage.prompt_tokens;
    expect(upstreamSaved).toBeGreaterThan(30);

    const sent = upstreamBody(optimized.models[0]!).messages[0]!.content as string;
    expect(sent).not.toMatch(/ {2}|\n{3}/);

    const { row, route } = await routeOf(a);
    expect(route.compression).toMatchObject({ steps: ["whitespace"], lossy: false });
    // One message, whitespace only: the simulator's count and ours differ only in framing, which cancels out.
    expect(route.compression!.tokensSaved).toBe(upstreamSaved);
    expect(row.inputTokens).toBe(a.body.usage.prompt_tokens);
    // compression = tokens saved × the target's input price ($1 / 1M tokens).
    expect(d(row.savingsCompressionUsd)).toBe(BigInt(upstreamSaved) * 10_000n);
    // The levers add up to baseline − cost, and the baseline is the flagship on the prompt as written.
    expect(d(row.baselineCostUsd) - d(row.costUsd)).toBe(d(row.savingsRoutingUsd) + d(row.savingsPromptCacheUsd) + d(row.savingsCompressionUsd) + d(row.savingsCapsUsd));
    // Flagship prices ($5 in, $15 out per 1M) on the prompt as the client wrote it (what the plain policy sent).
    expect(d(row.baselineCostUsd)).toBe(BigInt(b.body.usage.prompt_tokens) * 50_000n + BigInt(row.outputTokens) * 150_000n);
    const plainRow = await callRow(app, b);
    expect(Number(plainRow.savingsCompressionUsd)).toBe(0);
  });

  it("dedupe: a repeated system prompt is sent once", async () => {
    const system = "You are the support assistant of Acme Parcel. Answer in two sentences at most, in a friendly tone.";
    const res = await chat(app, key, {
      model: optimized.policy,
      messages: [{ role: "system", content: system }, { role: "system", content: system }, { role: "user", content: prompt("Where is my parcel?") }],
    });
    expect(res.status).toBe(200);
    expect(upstreamBody(optimized.models[0]!).messages.filter((m) => m.role === "system")).toHaveLength(1);
    const { route } = await routeOf(res);
    expect(route.compression).toMatchObject({ steps: ["dedupe"], removedMessages: 1, lossy: false });
    expect(route.compression!.tokensSaved).toBeGreaterThan(15);
  });

  it("task cap: a classification request is capped, logged, and earns headroom but no spend savings", async () => {
    const res = await chat(app, key, { model: optimized.policy, messages: [{ role: "user", content: prompt("Classify the sentiment of: I love it [[sim:tokens=5]]") }] });
    expect(res.status).toBe(200);
    expect(res.body.choices[0].finish_reason).toBe("stop");
    expect(upstreamBody(optimized.models[0]!).max_completion_tokens).toBe(16);
    const { row, route } = await routeOf(res);
    expect(route.cap).toMatchObject({ task: "classification", source: "cue:prompt", cap: 16, from: "task", requested: null, applied: true, outcome: "within", finishReason: "stop" });
    expect(route.cap!.headroomTokens).toBe(16_384 - 16);
    expect(route.cap!.headroomUsd).toBe("0.032736");
    expect(Number(row.savingsCapsUsd)).toBe(0);

    const cut = await chat(app, key, { model: optimized.policy, messages: [{ role: "user", content: prompt("Classify the sentiment of: meh [[sim:tokens=60]]") }], max_tokens: 500 });
    expect(cut.body.choices[0].finish_reason).toBe("length");
    expect(cut.body.usage.completion_tokens).toBe(16);
    expect((await routeOf(cut)).route.cap).toMatchObject({ requested: 500, outcome: "truncated", headroomTokens: null });

    const header = await chat(app, key, { model: optimized.policy, stream: true, messages: [{ role: "user", content: prompt("Label it [[sim:tokens=40]]") }] }, { "x-switchyard-task": "summary" });
    expect(header.status).toBe(200);
    expect((await routeOf(header)).route.cap).toBeUndefined();
  });

  it("applies to the Anthropic surface too: compressed system text, capped max_tokens", async () => {
    const res = await fetch(`${app.url}/api/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({
        model: optimized.policy,
        max_tokens: 1024,
        system: "You   sort   support   tickets.\n\n\n\nAnswer   with   one   word.",
        messages: [{ role: "user", content: prompt("Ticket:   my   parcel   never   arrived [[sim:tokens=3]]") }],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { stop_reason: string };
    expect(body.stop_reason).toBe("end_turn");
    const sent = upstreamBody(optimized.models[0]!) as { messages: Array<{ content: unknown }>; max_tokens?: number; max_completion_tokens?: number };
    expect(JSON.stringify(sent.messages)).toContain("You sort support tickets.\\n\\nAnswer with one word.");
    expect(sent.max_completion_tokens ?? sent.max_tokens).toBe(16);
    const { route } = await routeOf(res);
    expect(route.cap).toMatchObject({ task: "classification", requested: 1024, outcome: "within" });
    expect(route.compression!.tokensSaved).toBeGreaterThan(0);
  });

  it("a streamed capped call records its finish reason", async () => {
    const res = await chat(app, key, { model: optimized.policy, stream: true, messages: [{ role: "user", content: prompt("Classify this: spam or ham? [[sim:tokens=40]]") }] });
    expect(res.status).toBe(200);
    const { route } = await routeOf(res);
    expect(route.cap).toMatchObject({ cap: 16, outcome: "truncated", finishReason: "length" });
  });

  it("lossy history trimming is opt-in, labelled, and leaves a marker upstream", async () => {
    const turn = (i: number) => [
      { role: "user", content: `Question ${i}: ${"what happened to the parcel on that day and why ".repeat(6)}` },
      { role: "assistant", content: `Answer ${i}: ${"it was delayed by weather at the regional hub ".repeat(6)}` },
    ];
    const messages = [{ role: "system", content: "You are a support assistant." }, ...[0, 1, 2, 3, 4, 5].flatMap(turn), { role: "user", content: prompt("So when will it arrive?") }];
    const res = await chat(app, key, { model: trimming.policy, messages });
    expect(res.status).toBe(200);
    const sent = upstreamBody(trimming.models[0]!).messages;
    expect(sent.length).toBeLessThan(messages.length);
    expect(sent[0]).toEqual(messages[0]);
    expect(String(sent[1]!.content).startsWith(TRIM_MARKER_PREFIX)).toBe(true);
    expect(sent.at(-1)).toEqual(messages.at(-1));
    const { row, route } = await routeOf(res);
    expect(route.compression).toMatchObject({ lossy: true });
    expect(route.compression!.steps).toContain("trim-history");
    expect(route.compression!.lossyTokensSaved).toBeGreaterThan(0);
    expect(res.body.usage.prompt_tokens).toBeLessThanOrEqual(330);
    expect(d(row.savingsCompressionUsd)).toBe(BigInt(route.compression!.tokensSaved) * 10_000n);

    // The same conversation through the lossless-only policy keeps every message.
    await chat(app, key, { model: optimized.policy, messages });
    expect(upstreamBody(optimized.models[0]!).messages).toHaveLength(messages.length);
  });

  it("dry run shows the compression and the cap the call would get", async () => {
    const auth = { apiKeyId: "dry", orgId, teamId, ownerId: null, allowedModels: [], allowStore: false, rpmLimit: null, tpmLimit: null } as unknown as AuthContext;
    const messy = "Classify   this   ticket:    my   parcel   is   late.\n\n\n\n\nThanks.";
    const result = dryRun(app.rt.snapshot.current(), auth, { model: optimized.policy, messages: [{ role: "user", content: messy }] });
    expect(result.compression).toMatchObject({ steps: ["whitespace"], lossy: false });
    expect(result.compression!.tokensSaved).toBeGreaterThan(0);
    expect(result.promptTokens).toBe(result.compression!.tokensAfter);
    expect(result.cap).toMatchObject({ task: "classification", cap: 16, applied: true });
    expect(dryRun(app.rt.snapshot.current(), auth, { model: plain.policy, messages: [{ role: "user", content: messy }] }).compression).toBeUndefined();
  });

  it("savings by lever: compression reaches the rollups", async () => {
    await app.rt.calls.flush();
    const sums = await app.rt.db.prisma.rollupDaily.aggregate({ where: { orgId, policy: optimized.policy }, _sum: { savingsCompressionUsd: true, savingsCapsUsd: true, calls: true } });
    const rows = await app.rt.db.prisma.call.aggregate({ where: { orgId, policy: optimized.policy }, _sum: { savingsCompressionUsd: true } });
    expect(Number(sums._sum.savingsCompressionUsd)).toBeGreaterThan(0);
    expect(sums._sum.savingsCompressionUsd!.toString()).toBe(rows._sum.savingsCompressionUsd!.toString());
    expect(Number(sums._sum.savingsCapsUsd)).toBe(0);
  });
});
