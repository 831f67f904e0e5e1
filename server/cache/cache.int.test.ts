/**
 * The response cache through the real HTTP API, with the official openai SDK against the provider simulator.
 * The simulator answers deterministically, so a cached answer is told from a fresh one by the upstream request
 * count, the completion id (a replay keeps the original's) and the x-switchyard-cache header.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApiKey, revokeApiKey } from "../keys/service";
import { startSimulator, type Simulator } from "../providers/simulator";
import { waitUntil } from "../state/store.contract";
import { seedSimulatorProviders, startTestServer, type TestServer } from "../testing/harness";
import { bumpConfigVersion } from "../gateway/snapshot";
import { bumpRuleNamespace, purgeCache } from "./admin";
import { runningResponseCache } from "./response-cache";

const MODEL = "sim-openai/sim-small";

describe("response cache through the HTTP API", () => {
  let sim: Simulator;
  let app: TestServer;
  let tenant: { orgId: string; teamId: string };
  let teamB: string;
  let client: OpenAI;
  let clientB: OpenAI;
  let apiKey: string;
  let counter = 0;

  const clientFor = (key: string, headers: Record<string, string> = {}) =>
    new OpenAI({ apiKey: key, baseURL: `${app.url}/api/v1`, maxRetries: 0, defaultHeaders: headers });
  /** A prompt no other test uses, so entries never leak between tests. */
  const unique = (text: string) => `${text} #${++counter}`;
  const ask = (c: OpenAI, content: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}, headers: Record<string, string> = {}) =>
    c.chat.completions.create({ model: MODEL, temperature: 0, messages: [{ role: "user", content }], ...extra }, { headers }).withResponse();
  const cacheHeader = (r: { response: Response }) => r.response.headers.get("x-switchyard-cache");
  const applyConfig = async () => {
    await bumpConfigVersion(app.rt.db.prisma);
    await app.rt.snapshot.refresh();
    await runningResponseCache(app.rt)!.reload();
  };
  const rows = async () => {
    await app.rt.calls.flush();
    return app.rt.db.prisma.call.findMany({ orderBy: { createdAt: "asc" } });
  };

  beforeAll(async () => {
    sim = await startSimulator();
    app = await startTestServer();
    const seeded = await seedSimulatorProviders(app, sim.url);
    tenant = seeded.tenant;
    apiKey = seeded.key;
    client = clientFor(seeded.key);
    const db = app.rt.db.prisma;
    teamB = (await db.team.create({ data: { orgId: tenant.orgId, name: "Team B", slug: "team-b" } })).id;
    clientB = clientFor((await createApiKey(db, { orgId: tenant.orgId, teamId: teamB, name: "team b" })).key);
    await runningResponseCache(app.rt)!.ready;
  });
  afterAll(async () => {
    await app?.dispose();
    await sim?.close();
  });
  beforeEach(() => sim.reset());

  it("answers a repeated temperature-0 request from the exact cache at zero cost, logging the saving", async () => {
    const prompt = unique("What does a railway switchyard do?");
    const first = await ask(client, prompt);
    expect(cacheHeader(first)).toBe("miss");
    const second = await ask(client, prompt, { user: "someone-else", metadata: { trace: "x" } });
    expect(cacheHeader(second)).toBe("hit");
    expect(second.data.id).toBe(first.data.id);
    expect(second.data.choices[0]!.message.content).toBe(first.data.choices[0]!.message.content);
    expect(second.response.headers.get("x-switchyard-cost-usd")).toBe("0");
    expect(Number(second.response.headers.get("age"))).toBeGreaterThanOrEqual(0);
    expect(sim.count({ operation: "chat" })).toBe(1);
    const [miss, hit] = (await rows()).slice(-2);
    expect(miss).toMatchObject({ cacheOutcome: "miss" });
    expect(hit).toMatchObject({ cacheOutcome: "hit", status: 200 });
    expect(Number(hit!.costUsd)).toBe(0);
    expect(Number(hit!.savingsCacheUsd)).toBeGreaterThan(0);
  });

  it("leaves requests with sampling on alone when no rule says otherwise, and keys on every output parameter", async () => {
    const prompt = unique("Name a colour");
    expect(cacheHeader(await ask(client, prompt, { temperature: undefined }))).toBe("bypass");
    expect(cacheHeader(await ask(client, prompt, { temperature: undefined }))).toBe("bypass");
    expect(cacheHeader(await ask(client, prompt, { temperature: 0.7 }))).toBe("bypass");
    expect(cacheHeader(await ask(client, prompt, { max_tokens: 5 }))).toBe("miss");
    expect(cacheHeader(await ask(client, prompt, { max_tokens: 6 }))).toBe("miss");
    expect(cacheHeader(await ask(client, prompt, { max_tokens: 5 }))).toBe("hit");
    expect(sim.count({ operation: "chat" })).toBe(5);
  });

  it("never serves one team's answer to another team", async () => {
    const prompt = unique("Summarize our quarterly plan");
    const a = await ask(client, prompt);
    const b = await ask(clientB, prompt);
    expect(cacheHeader(b)).toBe("miss");
    expect(b.data.id).not.toBe(a.data.id);
    expect(sim.count({ operation: "chat" })).toBe(2);
    // Each team now hits its own entry.
    expect((await ask(clientB, prompt)).data.id).toBe(b.data.id);
    expect((await ask(client, prompt)).data.id).toBe(a.data.id);
  });

  it("replays a cached stream with the same text and tool calls, and serves a JSON answer to a stream", async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } },
    ];
    const collect = async (content: string, withTools: boolean) => {
      const { data: stream, response } = await client.chat.completions
        .create({ model: MODEL, temperature: 0, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content }], ...(withTools ? { tools } : {}) })
        .withResponse();
      let text = "";
      const calls: Record<number, { name: string; args: string }> = {};
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | null | undefined;
      let chunks = 0;
      for await (const chunk of stream) {
        chunks += 1;
        if (chunk.usage) usage = chunk.usage;
        for (const choice of chunk.choices) {
          text += choice.delta.content ?? "";
          finish = choice.finish_reason ?? finish;
          for (const t of choice.delta.tool_calls ?? []) {
            const call = (calls[t.index] ??= { name: "", args: "" });
            call.name += t.function?.name ?? "";
            call.args += t.function?.arguments ?? "";
          }
        }
      }
      return { text, calls, finish, usage, chunks, cache: response.headers.get("x-switchyard-cache") };
    };
    const textPrompt = unique("[[sim:tokens=40]] Tell a short story about trains");
    const fresh = await collect(textPrompt, false);
    const replay = await collect(textPrompt, false);
    expect(fresh.cache).toBe("miss");
    expect(replay.cache).toBe("hit");
    expect(replay).toMatchObject({ text: fresh.text, finish: fresh.finish, chunks: fresh.chunks, usage: fresh.usage });
    expect(fresh.text.length).toBeGreaterThan(0);

    const toolPrompt = unique("What is the weather in Paris?");
    const freshTools = await collect(toolPrompt, true);
    const replayTools = await collect(toolPrompt, true);
    expect(replayTools.cache).toBe("hit");
    expect(Object.keys(freshTools.calls).length).toBeGreaterThan(0);
    expect(replayTools.calls).toEqual(freshTools.calls);
    expect(replayTools.finish).toBe("tool_calls");
    expect(sim.count({ operation: "chat" })).toBe(2);

    // A JSON answer in the cache answers the same request streamed.
    const jsonPrompt = unique("Describe a signal box");
    const json = await ask(client, jsonPrompt);
    const streamed = await collect(jsonPrompt, false);
    expect(streamed.cache).toBe("hit");
    expect(streamed.text).toBe(json.data.choices[0]!.message.content);
  });

  it("answers the Anthropic surface from the cache too, streamed or not", async () => {
    const anthropic = new Anthropic({ apiKey: apiKey, baseURL: `${app.url}/api`, maxRetries: 0 });
    const params = { model: MODEL, max_tokens: 200, temperature: 0, messages: [{ role: "user" as const, content: unique("Which signal means stop?") }] };
    const first = await anthropic.messages.create(params).withResponse();
    const second = await anthropic.messages.create(params).withResponse();
    expect(first.response.headers.get("x-switchyard-cache")).toBe("miss");
    expect(second.response.headers.get("x-switchyard-cache")).toBe("hit");
    expect(second.data.content).toEqual(first.data.content);
    const streamed = await anthropic.messages.stream(params).finalMessage();
    expect(streamed.content).toEqual(first.data.content);
    expect(sim.count({ operation: "chat" })).toBe(1);
  });

  it("honours no-store, no-cache, max-age and the namespace header", async () => {
    const prompt = unique("Explain block signalling");
    expect(cacheHeader(await ask(client, prompt, {}, { "cache-control": "no-store" }))).toBe("miss");
    expect(cacheHeader(await ask(client, prompt))).toBe("miss"); // nothing was stored
    expect(cacheHeader(await ask(client, prompt, {}, { "cache-control": "no-cache" }))).toBe("bypass");
    expect(sim.count({ operation: "chat" })).toBe(3);
    expect(cacheHeader(await ask(client, prompt, {}, { "cache-control": "max-age=3600" }))).toBe("hit");
    expect(cacheHeader(await ask(client, prompt, {}, { "cache-control": "max-age=0" }))).toBe("bypass");
    expect(cacheHeader(await ask(client, prompt, {}, { "x-switchyard-cache-namespace": "experiment-1" }))).toBe("miss");
    expect(cacheHeader(await ask(client, prompt, {}, { "x-switchyard-cache-namespace": "experiment-1" }))).toBe("hit");
    const bad = await ask(client, prompt, {}, { "x-switchyard-cache-namespace": "no spaces allowed" }).catch((e) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad.code).toBe("invalid_cache_namespace");
  });

  it("never answers a revoked key or an exhausted budget from the cache", async () => {
    const db = app.rt.db.prisma;
    const team = (await db.team.create({ data: { orgId: tenant.orgId, name: "Team C", slug: "team-c" } })).id;
    const created = await createApiKey(db, { orgId: tenant.orgId, teamId: team, name: "to revoke" });
    const other = clientFor((await createApiKey(db, { orgId: tenant.orgId, teamId: team, name: "stays" })).key);
    const prompt = unique("Which track is free?");
    await ask(clientFor(created.key), prompt);
    expect(cacheHeader(await ask(other, prompt))).toBe("hit");

    await revokeApiKey(db, created.record.id);
    await applyConfig();
    expect(await ask(clientFor(created.key), prompt).catch((e) => e)).toBeInstanceOf(OpenAI.AuthenticationError);

    await db.budget.create({ data: { orgId: tenant.orgId, scope: "team", teamId: team, period: "monthly", limitUsd: "0.0000000001", hard: true } });
    await applyConfig();
    await waitUntil(async () => (await ask(other, prompt).catch((e) => e)) instanceof OpenAI.RateLimitError);
    const refused = await ask(other, prompt).catch((e) => e);
    expect(refused.code).toBe("budget_exceeded");
    expect(sim.count({ operation: "chat" })).toBe(1);
  });

  describe("with cache rules", () => {
    const createRule = async (data: Record<string, unknown>) => {
      const rule = await app.rt.db.prisma.cacheRule.create({ data: { orgId: tenant.orgId, teamId: tenant.teamId, name: `rule-${++counter}`, ...data } });
      await applyConfig();
      return rule;
    };
    const dropRule = async (id: string) => {
      await app.rt.db.prisma.cacheRule.delete({ where: { id } });
      await applyConfig();
    };

    it("caches sampled requests when the rule allows it, per key when the rule scopes per key", async () => {
      const rule = await createRule({ allowNonZeroTemperature: true, scope: "key" });
      const prompt = unique("Pick a random station name");
      expect(cacheHeader(await ask(client, prompt, { temperature: 1 }))).toBe("miss");
      expect(cacheHeader(await ask(client, prompt, { temperature: 1 }))).toBe("hit");
      const sameTeam = clientFor((await createApiKey(app.rt.db.prisma, { ...tenant, name: "second key" })).key);
      expect(cacheHeader(await ask(sameTeam, prompt, { temperature: 1 }))).toBe("miss");
      await dropRule(rule.id);
    });

    it("reports would-be hits in shadow mode without serving them", async () => {
      const rule = await createRule({ shadow: true });
      const prompt = unique("Shadow question about points and crossings");
      expect(cacheHeader(await ask(client, prompt))).toBe("miss");
      const second = await ask(client, prompt);
      expect(cacheHeader(second)).toBe("shadow");
      expect(second.response.headers.get("x-switchyard-cache-shadow")).toBe("hit");
      expect(sim.count({ operation: "chat" })).toBe(2);
      expect((await rows()).at(-1)).toMatchObject({ cacheOutcome: "shadow" });
      await dropRule(rule.id);
    });

    it("turns caching off for what a disabled-cache rule matches", async () => {
      const rule = await createRule({ exact: false, semantic: false });
      const prompt = unique("Never cached");
      expect(cacheHeader(await ask(client, prompt))).toBe("bypass");
      expect(cacheHeader(await ask(client, prompt))).toBe("bypass");
      await dropRule(rule.id);
    });

    it("invalidates a rule's entries by namespace bump and purges a team's entries", async () => {
      const rule = await createRule({});
      const prompt = unique("Purge me");
      await ask(client, prompt);
      expect(cacheHeader(await ask(client, prompt))).toBe("hit");
      await bumpRuleNamespace(app.rt.db.prisma, tenant.orgId, rule.id);
      await runningResponseCache(app.rt)!.reload();
      expect(cacheHeader(await ask(client, prompt))).toBe("miss");
      expect(cacheHeader(await ask(client, prompt))).toBe("hit");

      const other = unique("Team B keeps this");
      await ask(clientB, other);
      await purgeCache(app.rt.db.prisma, { orgId: tenant.orgId, teamId: tenant.teamId });
      await runningResponseCache(app.rt)!.reload();
      expect(cacheHeader(await ask(client, prompt))).toBe("miss");
      expect(cacheHeader(await ask(clientB, other))).toBe("hit");
      await dropRule(rule.id);
    });

    it("serves paraphrases semantically but never a near-miss with other numbers or a negation", async () => {
      // The simulator's embeddings are a hashed bag of words: enough to exercise the semantic path end to end.
      const rule = await createRule({ teamId: null, semantic: true, threshold: 0.8, embedder: "sim-openai/text-embedding-3-small" });
      const rejected = async (reason: string) => {
        const metric = await app.rt.metrics.registry.getSingleMetric("switchyard_cache_semantic_similarity")!.get();
        const values = metric.values as Array<{ metricName?: string; labels: Record<string, unknown>; value: number }>;
        return values.find((v) => v.metricName?.endsWith("_count") && v.labels.decision === reason)?.value ?? 0;
      };
      const stored = unique("How many platforms does Central Station have in 2024?");
      await ask(client, stored);
      const near = await ask(client, stored.replace("How many", "Please tell me how many"));
      expect(cacheHeader(near)).toBe("semantic-hit");
      expect(near.data.id).toBe((await ask(client, stored)).data.id);
      expect(Number(near.response.headers.get("x-switchyard-cache-similarity"))).toBeGreaterThan(0.8);

      const numbers = await rejected("numbers");
      expect(cacheHeader(await ask(client, stored.replace("2024", "2023")))).toBe("miss");
      expect(await rejected("numbers")).toBe(numbers + 1);

      const question = unique("Is the night train running on Sundays?");
      await ask(client, question);
      expect(cacheHeader(await ask(client, question.replace("Is the", "Please tell me: is the")))).toBe("semantic-hit");
      const negation = await rejected("negation");
      expect(cacheHeader(await ask(client, question.replace("train running", "train not running")))).toBe("miss");
      expect(await rejected("negation")).toBe(negation + 1);
      // Another team never sees these entries, exactly or semantically: it gets its own.
      const own = await ask(clientB, stored);
      expect(cacheHeader(own)).toBe("miss");
      const ownNear = await ask(clientB, stored.replace("How many", "Please tell me how many"));
      expect(cacheHeader(ownNear)).toBe("semantic-hit");
      expect(ownNear.data.id).toBe(own.data.id);
      expect(ownNear.data.id).not.toBe(near.data.id);
      expect(sim.count({ operation: "chat" })).toBe(5);
      await dropRule(rule.id);
    });
  });
});
