/**
 * The response cache as a component on a real runtime (database, and Redis when REDIS_URL is set), driven with an
 * injected clock: TTL expiry, purge by age, entry size limits, and the semantic index rebuilt by another instance.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthContext } from "../gateway/auth";
import type { CallContext } from "../gateway/hooks";
import { resolvePlan } from "../gateway/resolve";
import { bumpConfigVersion } from "../gateway/snapshot";
import type { ChatResponse } from "../providers/types";
import { seedSimulatorProviders, startTestServer, type TestServer } from "../testing/harness";
import { purgeCache } from "./admin";
import { createHashingEmbedder } from "./embedder";
import type { StoredAnswer } from "./exact-store";
import { createResponseCache, type ResponseCacheOptions, type SwitchyardResponseCache } from "./response-cache";

describe("response cache component", () => {
  let app: TestServer;
  let key: AuthContext;
  let clock = Date.parse("2026-11-01T00:00:00Z");
  const caches: SwitchyardResponseCache[] = [];
  let ruleId: string;

  const options: ResponseCacheOptions = { now: () => clock, embedderFor: () => createHashingEmbedder(), syncIntervalMs: 3_600_000 };
  const open = async () => {
    const cache = createResponseCache(app.rt, options);
    caches.push(cache);
    await cache.ready;
    return cache;
  };
  const call = (content: string, headers: Record<string, string> = {}): CallContext => {
    const canonical = { model: "sim-openai/sim-small", temperature: 0, messages: [{ role: "user" as const, content }] };
    return {
      key,
      endpoint: "chat.completions",
      canonical,
      plan: resolvePlan(app.rt.snapshot.current(), key, canonical.model),
      headers: new Headers(headers),
      callId: crypto.randomUUID(),
    };
  };
  const answer = (text: string): StoredAnswer => {
    const response: ChatResponse = {
      id: `chatcmpl-${text.length}-${Math.random().toString(36).slice(2)}`,
      object: "chat.completion",
      created: 1,
      model: "sim-small",
      choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, finish_reason: "stop", logprobs: null }],
    };
    return { response, usage: { input: 10, cachedInput: 0, cacheWrite: 0, output: 5, reasoning: 0 }, originalCostUsd: "0.0001" };
  };
  /** Looks a request up and, on a miss, stores `text` as its answer (what the pipeline does). */
  const exchange = async (cache: SwitchyardResponseCache, content: string, text = `answer to ${content}`, headers: Record<string, string> = {}) => {
    const ctx = call(content, headers);
    const lookup = await cache.lookup(ctx);
    if (!lookup.answer && lookup.store) await cache.store(ctx, answer(text));
    return lookup;
  };

  beforeAll(async () => {
    app = await startTestServer();
    const seeded = await seedSimulatorProviders(app, "http://127.0.0.1:9");
    const row = await app.rt.db.prisma.apiKey.findFirstOrThrow({ where: { teamId: seeded.tenant.teamId } });
    key = { apiKeyId: row.id, orgId: row.orgId, teamId: row.teamId, ownerId: null, allowedModels: [], allowStore: false, rpmLimit: null, tpmLimit: null };
    const rule = await app.rt.db.prisma.cacheRule.create({
      data: { orgId: key.orgId, name: "semantic", semantic: true, threshold: 0.8, ttlSeconds: 60, maxEntryBytes: 2_000 },
    });
    ruleId = rule.id;
    await bumpConfigVersion(app.rt.db.prisma);
    await app.rt.snapshot.refresh();
  });
  afterAll(async () => {
    for (const cache of caches) await cache.close();
    await app?.dispose();
  });

  it("expires entries after the rule's TTL and serves only entries younger than max-age", async () => {
    const cache = await open();
    expect((await exchange(cache, "When does the first train leave?")).outcome).toBe("miss");
    clock += 30_000;
    const hit = await exchange(cache, "When does the first train leave?");
    expect(hit).toMatchObject({ outcome: "hit", headers: { age: "30" } });
    expect((await exchange(cache, "When does the first train leave?", "x", { "cache-control": "max-age=10" })).outcome).toBe("miss");
    clock += 61_000;
    expect((await exchange(cache, "When does the first train leave?")).outcome).toBe("miss");
  });

  it("purges entries older than a given age, exact and semantic", async () => {
    const cache = await open();
    await exchange(cache, "Where is platform nine?");
    clock += 100_000;
    await exchange(cache, "Where is platform ten?");
    await cache.flush();
    const { semanticEntries } = await purgeCache(app.rt.db.prisma, { orgId: key.orgId, ruleId, olderThanSeconds: 50 }, new Date(clock));
    expect(semanticEntries).toBeGreaterThanOrEqual(1);
    await cache.reload();
    expect((await cache.lookup(call("Where is platform nine?", { "cache-control": "no-store" }))).outcome).toBe("miss");
    expect((await cache.lookup(call("Where is platform ten?", { "cache-control": "no-store" }))).outcome).toBe("hit");
  });

  it("does not store an answer larger than the rule's maximum entry size", async () => {
    const cache = await open();
    await exchange(cache, "Recite the timetable", "x".repeat(5_000));
    expect((await cache.lookup(call("Recite the timetable"))).outcome).toBe("miss");
  });

  it("rebuilds the semantic index from the database in another instance and picks up its new rows", async () => {
    const first = await open();
    await exchange(first, "Which platform does the night train to Vienna leave from?");
    await first.flush();

    const second = await open();
    const paraphrase = await second.lookup(call("Which platform does the night train to Vienna leave from, please?"));
    expect(paraphrase.outcome).toBe("semantic-hit");
    expect(paraphrase.answer?.response.choices[0]!.message.content).toBe("answer to Which platform does the night train to Vienna leave from?");
    expect(Number(paraphrase.headers["x-switchyard-cache-similarity"])).toBeGreaterThan(0.8);
    // The identical request is an exact hit there too (from the database row, or from Redis when it is shared).
    expect((await second.lookup(call("Which platform does the night train to Vienna leave from?"))).outcome).toBe("hit");

    await exchange(first, "How long is the stop in Salzburg?");
    await first.flush();
    expect((await second.lookup(call("How long is the stop in Salzburg?", { "cache-control": "no-store" }))).outcome).toBe(
      app.rt.env.REDIS_URL ? "hit" : "miss",
    );
    await second.sync();
    expect((await second.lookup(call("How long is the stop in Salzburg?"))).outcome).toBe("hit");
  });
});
