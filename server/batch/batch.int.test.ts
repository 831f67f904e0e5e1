import http from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApiKey } from "../keys/service";
import { startSimulator, type Simulator } from "../providers/simulator";
import { startSwitchyard, type Switchyard } from "../start";
import { waitUntil } from "../state/store.contract";
import { LogCapture, createTestDatabase, seedSimulatorProviders, startTestServer, tempDir, testEnv, type TestServer } from "../testing/harness";
import { bumpConfigVersion } from "../gateway/snapshot";
import { decimalToString } from "../catalog/money";
import { Prisma } from "../db/generated/client";
import { computeCost } from "../ledger/cost";
import type { BatchWorkerOptions } from "./context";

/** Every interval shortened so a batch completes in a few tens of milliseconds. */
const FAST: Partial<BatchWorkerOptions> = {
  tickMs: 20,
  pollInitialMs: 10,
  pollMaxMs: 40,
  deferWindowMs: 40,
  directConcurrency: 8,
  directRatePerSecond: 1_000,
  webhookAllowPrivate: true,
};

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
const chatLine = (id: string, model: string, text: string, extra: Record<string, unknown> = {}) => ({
  custom_id: id,
  method: "POST",
  url: "/v1/chat/completions",
  body: { model, messages: [{ role: "user", content: text }], ...extra },
});
const FINAL = ["completed", "failed", "expired", "cancelled"];
/** The custom_id of the output line a call-log row belongs to (rows and output lines share the request id). */
const lineIdOf = (requestId: string, output: Record<string, { custom_id: string; response: { request_id: string } | null }>) =>
  Object.values(output).find((l) => l.response?.request_id === requestId)?.custom_id ?? requestId;

function helpers(client: () => OpenAI) {
  return {
    submit: async (rows: unknown[], metadata?: Record<string, string>) => {
      const file = await client().files.create({ file: new File([jsonl(rows)], "input.jsonl", { type: "application/jsonl" }), purpose: "batch" });
      return client().batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", ...(metadata ? { metadata } : {}) });
    },
    finished: async (id: string, statuses = FINAL) => {
      let batch: OpenAI.Batches.Batch | undefined;
      await waitUntil(async () => statuses.includes((batch = await client().batches.retrieve(id)).status), 15_000);
      return batch!;
    },
    lines: async (fileId: string | null | undefined) => {
      if (!fileId) return [];
      const text = await (await client().files.content(fileId)).text();
      return text.trim().split("\n").map((l) => JSON.parse(l) as { id: string; custom_id: string; response: { status_code: number; request_id: string; body: any } | null; error: { code: string } | null });
    },
  };
}

/** A stand-in for a provider without a batch API: batch endpoints answer 404, everything else reaches the simulator. */
async function startNoBatchProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c)).on("end", async () => {
      if (/\/(files|batches)(\/|$)/.test(req.url ?? "")) {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "Unknown request URL", type: "invalid_request_error", param: null, code: "unknown_url" } }));
        return;
      }
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([name, v]) => typeof v === "string" && name !== "host" && name !== "content-length")) as Record<string, string>;
      const upstream = await fetch(`${target}${req.url}`, { method: req.method, headers, ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}) });
      res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" }).end(Buffer.from(await upstream.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("batch tier through the official openai SDK", () => {
  let sim: Simulator;
  let proxy: Awaited<ReturnType<typeof startNoBatchProxy>>;
  let app: TestServer;
  let client: OpenAI;
  let orgId: string;
  const { submit, finished, lines } = helpers(() => client);

  const callRows = async (batchId: string) => {
    await app.rt.calls.flush();
    const rows = await app.rt.db.prisma.call.findMany({ where: { batch: true } });
    return rows.filter((r) => (r.route as { batch?: string } | null)?.batch === batchId);
  };
  const linesSentDirectly = () => sim.requests.filter((r) => r.operation === "chat" && r.headers["x-sim-batch-line"] === undefined).length;

  beforeAll(async () => {
    sim = await startSimulator();
    app = await startTestServer();
    const seeded = await seedSimulatorProviders(app, sim.url);
    orgId = seeded.tenant.orgId;
    // An OpenAI-compatible provider without a batch API: its lines take the normal adapter path.
    await app.rt.db.prisma.provider.create({
      data: { orgId, name: "sim-groq", kind: "groq", baseUrl: `${sim.url}/openai/v1`, allowPrivate: true, encryptedKey: app.rt.secrets.encrypt("gsk-sim-0123456789"), keyLast4: "6789" },
    });
    // Simulator providers configured at the simulator's root URL: the protocol's mount is appended (registry.ts).
    for (const protocol of ["openai", "anthropic", "gemini"]) {
      await app.rt.db.prisma.provider.create({
        data: { orgId, name: `sim-root-${protocol}`, kind: "simulator", baseUrl: sim.url, allowPrivate: true, config: { protocol }, encryptedKey: app.rt.secrets.encrypt("sk-sim-root-key-0123456789"), keyLast4: "6789" },
      });
    }
    // A simulator provider whose batch endpoints answer 404 (behind a proxy): its lines fall back to the normal path.
    proxy = await startNoBatchProxy(sim.url);
    await app.rt.db.prisma.provider.create({
      data: { orgId, name: "sim-nobatch", kind: "simulator", baseUrl: proxy.url, allowPrivate: true, config: { protocol: "openai" }, encryptedKey: app.rt.secrets.encrypt("sk-sim-nobatch-secret-0123456789"), keyLast4: "6789" },
    });
    // A cascade: easy lines start on the cheap tier, hard ones on the flagship (heuristic difficulty ≥ 0.3).
    await app.rt.db.prisma.policy.create({
      data: {
        orgId,
        name: "tiered",
        document: {
          strategy: "cascade",
          targets: [
            { provider: "sim-openai", model: "sim-small" },
            { provider: "sim-anthropic", model: "sim-claude" },
          ],
          reference: { provider: "sim-anthropic", model: "sim-claude" },
          classifier: { kind: "heuristic", thresholds: [0.3] },
        },
      },
    });
    // Lossless compression and an output cap, as live traffic of this policy gets them.
    await app.rt.db.prisma.policy.create({
      data: { orgId, name: "squeezed", document: { targets: [{ provider: "sim-openai", model: "sim-small" }], compression: {}, parameters: { maxTokens: 40 } } },
    });
    await bumpConfigVersion(app.rt.db.prisma);
    await app.rt.snapshot.refresh();
    app.rt.batch.configure(FAST);
    client = new OpenAI({ apiKey: seeded.key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await app?.dispose();
    await proxy?.close();
    await sim?.close();
  });
  beforeEach(() => sim.reset());

  it("submits to the provider batch APIs of simulator providers configured at the simulator's root URL, at batch prices", async () => {
    const created = await submit([
      chatLine("root-oa", "sim-root-openai/sim-small", "root openai line"),
      chatLine("root-an", "sim-root-anthropic/sim-claude", "root anthropic line"),
      chatLine("root-ge", "sim-root-gemini/sim-small", "root gemini line"),
    ]);
    const done = await finished(created.id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 3, completed: 3, failed: 0 }, metadata: null });
    // The simulator's batch endpoints (under each protocol's mount) got one batch each; nothing ran line by line.
    expect(sim.batches.list().map((b) => [b.protocol, b.lines]).sort()).toEqual([["anthropic", 1], ["gemini", 1], ["openai", 1]]);
    expect(linesSentDirectly()).toBe(0);
    const rows = await callRows(created.id);
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.route).toMatchObject({ mode: "provider-batch" });
      expect(Number(row.costUsd)).toBeGreaterThan(0);
      // Half price: the batch saving equals what was billed.
      expect(Math.abs(Number(row.savingsBatchUsd) - Number(row.costUsd))).toBeLessThan(1e-9);
    }
  });

  it("makes a refused provider-batch submission visible: a warning naming the provider, the batch's metadata, the rows' route", async () => {
    const created = await submit([chatLine("nb-1", "sim-nobatch/sim-small", "no batch api here")], { job: "fallback" });
    const done = await finished(created.id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 1, completed: 1, failed: 0 } });
    expect(done.metadata).toMatchObject({ job: "fallback", switchyard_fallback: expect.stringContaining("provider 'sim-nobatch' batch API refused the submission") });
    expect(linesSentDirectly()).toBe(1);
    const [row] = await callRows(created.id);
    expect(row!.route).toMatchObject({ mode: "direct", providerBatchFallback: true, target: "sim-nobatch/sim-small" });
    expect(Number(row!.savingsBatchUsd)).toBe(0);
    const warning = app.logs.lines.find((l) => l.includes("provider batch submission failed") && l.includes("sim-nobatch"));
    expect(warning).toBeDefined();
    expect(app.logs.text()).not.toContain("sk-sim-nobatch-secret");
  });

  it("plans every line with the live planner: a cascade sends an easy and a hard line of one batch to different tiers", async () => {
    const hard =
      "Prove step by step that the algorithm below terminates, analyse its complexity and compare the trade-offs, then calculate 17 * 23:\n```\nfunction f(n) { while (n > 1) n = n % 2 ? 3 * n + 1 : n / 2; return n; }\n```";
    const created = await submit([chatLine("easy", "tiered", "hi"), chatLine("hard", "tiered", hard)]);
    const done = await finished(created.id);
    expect(done.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    const output = Object.fromEntries((await lines(done.output_file_id)).map((l) => [l.custom_id, l]));
    const rows = Object.fromEntries((await callRows(created.id)).map((r) => [lineIdOf(r.requestId, output), r]));
    expect(rows.easy!.route).toMatchObject({ policy: "tiered", strategy: "cascade", tier: 0, target: "sim-openai/sim-small", mode: "provider-batch", difficulty: { startTier: 0 } });
    expect(rows.hard!.route).toMatchObject({ policy: "tiered", strategy: "cascade", tier: 1, target: "sim-anthropic/sim-claude", mode: "provider-batch", difficulty: { startTier: 1 } });
    // Grouped by target only after planning: one provider batch per tier.
    expect(sim.batches.list().map((b) => [b.protocol, b.lines]).sort()).toEqual([["anthropic", 1], ["openai", 1]]);

    // A deferred request to the same policy is planned the same way.
    const accepted = await client.chat.completions.create({ model: "tiered", messages: [{ role: "user", content: hard }] }, { headers: { "x-switchyard-defer": "3600" } }).withResponse();
    const deferred = await finished((accepted.data as unknown as OpenAI.Batches.Batch).id);
    const [row] = await callRows(deferred.id);
    expect(row!.route).toMatchObject({ tier: 1, target: "sim-anthropic/sim-claude" });
  });

  it("keeps a deferred request's routing headers (x-switchyard-policy, header conditions), but never its credentials", async () => {
    await app.rt.db.prisma.policy.create({
      data: {
        orgId,
        name: "by-app",
        document: {
          strategy: "conditional",
          targets: [{ provider: "sim-openai", model: "sim-small" }],
          rules: [{ when: { headers: { "x-app": "^nightly-report$" } }, targets: [{ provider: "sim-anthropic", model: "sim-claude" }] }],
        },
      },
    });
    await bumpConfigVersion(app.rt.db.prisma);
    await app.rt.snapshot.refresh();
    const defer = async (model: string, headers: Record<string, string>) => {
      const accepted = await client.chat.completions
        .create({ model, messages: [{ role: "user", content: "summarise the night" }] }, { headers: { "x-switchyard-defer": "3600", ...headers } })
        .withResponse();
      expect(accepted.response.status).toBe(202);
      const done = await finished((accepted.data as unknown as OpenAI.Batches.Batch).id);
      expect(done.status).toBe("completed");
      const [row] = await callRows(done.id);
      return row!;
    };
    // The header condition picks the flagship for this app only, as it would live.
    expect((await defer("by-app", { "x-app": "nightly-report", "x-app-secret": "do-not-store-me" })).route).toMatchObject({ policy: "by-app", target: "sim-anthropic/sim-claude" });
    expect((await defer("by-app", { "x-app": "other" })).route).toMatchObject({ policy: "by-app", target: "sim-openai/sim-small" });
    // x-switchyard-policy overrides the body's model for a deferred request too.
    expect((await defer("sim-openai/sim-small", { "x-switchyard-policy": "by-app", "x-app": "nightly-report" })).route).toMatchObject({ policy: "by-app", target: "sim-anthropic/sim-claude" });
    // An unknown policy in the header is refused up front, not when the line runs.
    const refused = await fetch(`${app.url}/api/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${client.apiKey}`, "content-type": "application/json", "x-switchyard-defer": "60", "x-switchyard-policy": "no-such-policy" },
      body: JSON.stringify({ model: "sim-openai/sim-small", messages: [{ role: "user", content: "x" }] }),
    });
    expect(refused.status).toBe(404);
    // What was stored: the routing headers, never the key or a secret-looking header.
    const stored = JSON.stringify((await app.rt.db.prisma.batchItem.findMany({ where: { batch: { deferred: true } }, select: { headers: true } })).map((i) => i.headers));
    expect(stored).toContain("nightly-report");
    expect(stored).not.toContain(client.apiKey);
    expect(stored).not.toContain("do-not-store-me");
    expect(stored).not.toContain("authorization");
  });

  it("applies the policy's prompt compression and output cap to batch lines, as to live calls", async () => {
    const messages = [
      { role: "system", content: "You are a terse assistant.   Answer   briefly.\n\n\n\nNever   use lists." },
      { role: "system", content: "You are a terse assistant.   Answer   briefly.\n\n\n\nNever   use lists." },
      { role: "user", content: "What   is   the   capital   of   France?   " },
    ];
    const created = await submit([
      { custom_id: "squeezed", method: "POST", url: "/v1/chat/completions", body: { model: "squeezed", messages } },
      { custom_id: "as-sent", method: "POST", url: "/v1/chat/completions", body: { model: "sim-openai/sim-small", messages } },
    ]);
    const done = await finished(created.id);
    expect(done.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    const output = Object.fromEntries((await lines(done.output_file_id)).map((l) => [l.custom_id, l]));
    const rows = Object.fromEntries((await callRows(created.id)).map((r) => [lineIdOf(r.requestId, output), r]));
    const squeezed = rows.squeezed!;
    const route = squeezed.route as { compression?: { tokensSaved: number }; cap?: { cap: number } };
    expect(route.compression!.tokensSaved).toBeGreaterThan(0);
    expect(route.cap).toMatchObject({ cap: 40, applied: true });
    // The provider counted fewer prompt tokens than for the same messages sent as written.
    expect(squeezed.inputTokens).toBeLessThan(rows["as-sent"]!.inputTokens!);
    expect(Number(squeezed.savingsCompressionUsd)).toBeGreaterThan(0);
    expect(squeezed.route).toMatchObject({ mode: "provider-batch" });
  });

  describe("a policy changed while the provider runs the batch", () => {
    const messages = [
      { role: "system", content: "You are a terse assistant.   Answer   briefly.\n\n\n\nNever   use lists." },
      { role: "system", content: "You are a terse assistant.   Answer   briefly.\n\n\n\nNever   use lists." },
      { role: "user", content: "Name   a   prime   number.   " },
    ];
    /** Version 1: the cheap target, measured against the flagship, with compression and an output cap. */
    const before = {
      targets: [{ provider: "sim-openai", model: "sim-small" }],
      reference: { provider: "sim-anthropic", model: "sim-claude" },
      compression: {},
      parameters: { maxTokens: 40 },
    };
    /** Version 2: another target, no reference (its own target: no routing saving), no compression, no cap. */
    const after = { targets: [{ provider: "sim-gemini", model: "sim-small" }] };

    /**
     * Submits one line to policy `name` (version 1), changes the policy to version 2 while the provider batch runs,
     * lets it finish, and returns the line's call-log row. `meanwhile` runs before the change (with the line queued).
     */
    const runAcrossChange = async (name: string, meanwhile: (batchId: string) => Promise<void> = async () => {}) => {
      const db = app.rt.db.prisma;
      const policy = await db.policy.create({ data: { orgId, name, document: before } });
      await bumpConfigVersion(db);
      await app.rt.snapshot.refresh();
      sim.batches.configure({ polls: 1_000_000 });
      const created = await submit([{ custom_id: name, method: "POST", url: "/v1/chat/completions", body: { model: name, messages } }]);
      await waitUntil(async () => sim.batches.list().length === 1 && (await db.batchItem.findFirst({ where: { batchId: created.id } }))?.status === "queued");
      await meanwhile(created.id);
      await db.policy.update({ where: { id: policy.id }, data: { document: after, version: 2 } });
      await bumpConfigVersion(db);
      await app.rt.snapshot.refresh();
      expect(app.rt.snapshot.current().orgs.get(orgId)!.policies.get(name)!.version).toBe(2);
      sim.batches.configure({ polls: 0 });
      const done = await finished(created.id);
      expect(done.request_counts).toEqual({ total: 1, completed: 1, failed: 0 });
      const rows = await callRows(created.id);
      expect(rows).toHaveLength(1);
      return { row: rows[0]!, batchId: created.id };
    };

    it("records the line under the plan it was submitted with: policy version, route, reference baseline and savings", async () => {
      const { row, batchId } = await runAcrossChange("drifting");
      expect(row).toMatchObject({ status: 200, policy: "drifting", batch: true, providerKind: "simulator", model: "sim-small" });
      const route = row.route as { policyVersion: number; compression: { tokensSaved: number }; cap: { cap: number; applied: boolean; outcome: string } };
      expect(route).toMatchObject({
        policy: "drifting",
        policyVersion: 1,
        target: "sim-openai/sim-small",
        candidates: [{ target: "sim-openai/sim-small" }],
        cap: { cap: 40, applied: true },
        mode: "provider-batch",
        batch: batchId,
      });
      expect(["within", "truncated"]).toContain(route.cap.outcome);
      const saved = route.compression.tokensSaved;
      expect(saved).toBeGreaterThan(0);
      // The baseline is the version-1 reference (the flagship) on the client's uncompressed prompt, priced now.
      const flagship = app.rt.snapshot.current().orgs.get(orgId)!.catalog.get("simulator", "sim-claude")!.prices;
      const original = { input: row.inputTokens! + saved, cachedInput: 0, cacheWrite: 0, output: row.outputTokens!, reasoning: row.reasoningTokens ?? 0 };
      expect(Number(row.baselineCostUsd)).toBe(Number(decimalToString(computeCost(original, flagship).total)));
      expect(Number(row.savingsRoutingUsd)).toBeGreaterThan(0);
      expect(Number(row.savingsCompressionUsd)).toBeGreaterThan(0);
      expect(Math.abs(Number(row.savingsBatchUsd) - Number(row.costUsd))).toBeLessThan(1e-9);
      // What was stored for it: the decision, never a key.
      const [item] = await app.rt.db.prisma.batchItem.findMany({ where: { batchId }, select: { plan: true } });
      const stored = JSON.stringify(item!.plan);
      expect(stored).toContain('"policyVersion":1');
      expect(stored).not.toContain("sk-sim");
      expect(stored).not.toContain(client.apiKey);
    });

    it("plans a line submitted before plan summaries were stored again, under the configuration of its completion", async () => {
      const { row } = await runAcrossChange("drifting-legacy", async (batchId) => {
        // As a line queued by the previous release: no summary on the item.
        await app.rt.db.prisma.batchItem.updateMany({ where: { batchId }, data: { plan: Prisma.DbNull } });
      });
      expect(row).toMatchObject({ status: 200, policy: "drifting-legacy", model: "sim-small" });
      expect(row.route).toMatchObject({ policyVersion: 2, target: "sim-openai/sim-small", mode: "provider-batch" });
      expect(row.route).not.toHaveProperty("cap");
      expect(Number(row.savingsRoutingUsd)).toBe(0);
    });
  });

  it("splits lines by target: OpenAI Batch, Anthropic Message Batches, Gemini Batch Mode, and the normal path for the rest", async () => {
    const created = await submit(
      [
        chatLine("oa-1", "sim-openai/sim-small", "first openai line"),
        chatLine("an-1", "sim-anthropic/sim-claude", "an anthropic line"),
        chatLine("oa-2", "sim-openai/sim-small", "second openai line"),
        chatLine("ge-1", "sim-gemini/sim-small", "a gemini line"),
        chatLine("gr-1", "sim-groq/llama-3.1-8b-instant", "a groq line takes the normal path"),
      ],
      { job: "nightly" },
    );
    expect(created).toMatchObject({ object: "batch", status: "validating", endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { job: "nightly" } });
    const done = await finished(created.id);
    expect(done.status).toBe("completed");
    expect(done.request_counts).toEqual({ total: 5, completed: 5, failed: 0 });
    expect(done.error_file_id).toBeNull();
    expect(done.completed_at).toBeGreaterThanOrEqual(done.created_at);

    const output = await lines(done.output_file_id);
    expect(output.map((l) => l.custom_id)).toEqual(["oa-1", "an-1", "oa-2", "ge-1", "gr-1"]);
    for (const line of output) {
      expect(line.id).toMatch(/^batch_req_/);
      expect(line.error).toBeNull();
      expect(line.response).toMatchObject({ status_code: 200, body: { object: "chat.completion" } });
    }
    expect(output[1]!.response!.body.choices[0].message.content).toContain("an anthropic line");

    expect(output[3]!.response!.body.choices[0].message.content).toContain("a gemini line");
    // One provider batch per batch-capable target; the Groq line went through the adapter path.
    const upstream = sim.batches.list();
    expect(upstream.map((b) => [b.protocol, b.lines]).sort()).toEqual([["anthropic", 1], ["gemini", 1], ["openai", 2]]);
    expect(linesSentDirectly()).toBe(1);

    // Every line is a call-log row with batch: true; provider-batch lines cost half, direct ones full price.
    const rows = await callRows(created.id);
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      expect(row).toMatchObject({ batch: true, status: 200, endpoint: "chat.completions" });
      const cost = Number(row.costUsd);
      const saved = Number(row.savingsBatchUsd);
      expect(cost).toBeGreaterThan(0);
      if ((row.route as { mode: string }).mode === "provider-batch") expect(Math.abs(saved - cost)).toBeLessThan(1e-9);
      else expect(saved).toBe(0);
    }
    expect(rows.filter((r) => (r.route as { mode: string }).mode === "provider-batch")).toHaveLength(4);
  });

  it("runs a normal-path line again after its provider's Retry-After instead of failing it", async () => {
    // Every attempt of the line's first run is rate limited (the in-call retry included): the line waits and runs again.
    sim.faults.add({ fault: "rate_limit", protocol: "openai", model: "llama-3.1-8b-instant", retryAfterSeconds: 1, times: 2 });
    const before = linesSentDirectly();
    const done = await finished((await submit([chatLine("limited", "sim-groq/llama-3.1-8b-instant", "a line that meets a rate limit")])).id);
    expect(done.status).toBe("completed");
    expect(done.request_counts).toEqual({ total: 1, completed: 1, failed: 0 });
    expect(done.error_file_id).toBeNull();
    const [line] = await lines(done.output_file_id);
    expect(line!.response).toMatchObject({ status_code: 200, body: { object: "chat.completion" } });
    expect(linesSentDirectly() - before).toBe(3); // two 429s, then the answer
    const rows = await callRows(done.id);
    expect(rows).toHaveLength(1); // one call-log row for the line, written when it finished
    expect(rows[0]).toMatchObject({ status: 200, batch: true });
  });

  it("puts failed lines in the error file: upstream failures, schema errors and unknown models", async () => {
    sim.faults.add({ fault: "server_error", protocol: "openai", operation: "chat", times: 1 });
    const done = await finished(
      (
        await submit([
          chatLine("ok", "sim-openai/sim-small", "this one works"),
          chatLine("boom", "sim-openai/sim-small", "this one meets the fault"),
          chatLine("schema", "sim-openai/sim-small", "bad temperature", { temperature: 7 }),
          chatLine("unknown", "no-such-model", "unknown model"),
        ])
      ).id,
    );
    expect(done.status).toBe("completed");
    expect(done.request_counts).toEqual({ total: 4, completed: 1, failed: 3 });
    const errors = Object.fromEntries((await lines(done.error_file_id)).map((l) => [l.custom_id, l]));
    // One of the two provider-batch lines ran into the fault: it fails as the live request would have (502).
    const output = await lines(done.output_file_id);
    expect(output).toHaveLength(1);
    const faulted = errors[output[0]!.custom_id === "ok" ? "boom" : "ok"]!;
    expect(faulted.response).toMatchObject({ status_code: 502, body: { error: { code: "upstream_error", type: "api_error" } } });
    expect(faulted.response!.request_id).toMatch(/^req_/);
    expect(errors.schema!.response).toMatchObject({ status_code: 400, body: { error: { code: "invalid_value", param: "temperature" } } });
    expect(errors.unknown!.response).toMatchObject({ status_code: 404, body: { error: { code: "model_not_found" } } });
  });

  it("fails a batch whose input file is malformed, with OpenAI's validation errors", async () => {
    const done = await finished((await submit([chatLine("same", "sim-openai/sim-small", "a"), chatLine("same", "sim-openai/sim-small", "b")])).id);
    expect(done.status).toBe("failed");
    expect(done.errors?.data?.[0]).toMatchObject({ code: "duplicate_custom_id", line: 2, param: "custom_id" });
    await expect(client.batches.create({ input_file_id: "file-missing", endpoint: "/v1/chat/completions", completion_window: "24h" })).rejects.toMatchObject({ status: 404 });
  });

  it("cancels a batch: the provider batch is cancelled and unrun lines report batch_cancelled", async () => {
    sim.batches.configure({ polls: 1_000_000 });
    const created = await submit([chatLine("a", "sim-openai/sim-small", "never runs"), chatLine("b", "sim-openai/sim-small", "nor this")]);
    await waitUntil(() => sim.batches.list().length === 1);
    const cancelling = await client.batches.cancel(created.id);
    expect(cancelling.status).toBe("cancelling");
    expect(cancelling.cancelling_at).toBeGreaterThan(0);
    const done = await finished(created.id);
    expect(done.status).toBe("cancelled");
    expect(done.request_counts).toEqual({ total: 2, completed: 0, failed: 2 });
    expect((await lines(done.error_file_id)).map((l) => l.error?.code)).toEqual(["batch_cancelled", "batch_cancelled"]);
    await waitUntil(() => sim.batches.list()[0]!.cancelled);
    await expect(client.batches.cancel(created.id)).resolves.toMatchObject({ status: "cancelled" });
    expect(linesSentDirectly()).toBe(0);
  });

  it("runs lines a provider batch left unrun (expired upstream) on the normal path", async () => {
    sim.batches.configure({ outcome: "expire" });
    const done = await finished((await submit([chatLine("x1", "sim-openai/sim-small", "runs in the batch"), chatLine("x2", "sim-openai/sim-small", "expires upstream")])).id);
    expect(done.status).toBe("completed");
    expect(done.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    expect(linesSentDirectly()).toBe(1);
    const modes = (await callRows(done.id)).map((r) => (r.route as { mode: string }).mode).sort();
    expect(modes).toEqual(["direct", "provider-batch"]);
    // The fallback is visible on the batch and on the line's row.
    expect(done.metadata).toMatchObject({ switchyard_fallback: expect.stringContaining("ended without running 1 line") });
    expect((await callRows(done.id)).find((r) => (r.route as { mode: string }).mode === "direct")!.route).toMatchObject({ providerBatchFallback: true });
  });

  it("expires a deferred request whose deadline passes before the provider answers", async () => {
    sim.batches.configure({ polls: 1_000_000 });
    const accepted = await client.chat.completions
      .create({ model: "sim-openai/sim-small", messages: [{ role: "user", content: "too slow" }] }, { headers: { "x-switchyard-defer": "1" } })
      .withResponse();
    const done = await finished((accepted.data as unknown as OpenAI.Batches.Batch).id);
    expect(done.status).toBe("expired");
    expect(done.expired_at).toBeGreaterThan(0);
    expect((await lines(done.error_file_id)).map((l) => l.error?.code)).toEqual(["batch_expired"]);
    await waitUntil(() => sim.batches.list()[0]?.cancelled === true);
    expect(linesSentDirectly()).toBe(0);
  });

  it("accepts a deferred request with 202, groups deferred requests into one provider batch, and posts the webhook", async () => {
    const received: unknown[] = [];
    const hook = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c)).on("end", () => {
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
    try {
      app.rt.batch.configure({ deferWindowMs: 300 });
      const webhook = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
      const defer = (text: string, headers: Record<string, string> = {}) =>
        client.chat.completions
          .create({ model: "sim-openai/sim-small", messages: [{ role: "user", content: text }] }, { headers: { "x-switchyard-defer": "3600", ...headers } })
          .withResponse();
      const [first, second] = await Promise.all([defer("deferred one", { "x-switchyard-webhook": webhook }), defer("deferred two")]);
      expect(first.response.status).toBe(202);
      const batch = first.data as unknown as OpenAI.Batches.Batch;
      expect(batch).toMatchObject({ object: "batch", status: "in_progress", request_counts: { total: 1 } });
      expect(first.response.headers.get("x-switchyard-batch-id")).toBe(batch.id);
      expect(batch.expires_at! - batch.created_at).toBeGreaterThanOrEqual(3599);

      const done = await finished(batch.id);
      expect(done.status).toBe("completed");
      const [line] = await lines(done.output_file_id);
      expect(line!.custom_id).toBe(first.response.headers.get("x-request-id"));
      expect(line!.response!.body.choices[0].message.content).toContain("deferred one");
      await finished((second.data as unknown as OpenAI.Batches.Batch).id);
      // Both requests reached the provider in one batch, at batch prices.
      expect(sim.batches.list()).toEqual([expect.objectContaining({ protocol: "openai", lines: 2 })]);
      const [row] = await callRows(batch.id);
      expect(Number(row!.savingsBatchUsd)).toBeGreaterThan(0);

      await waitUntil(() => received.length === 1);
      expect(received[0]).toMatchObject({ type: "batch.completed", batch: { id: batch.id, status: "completed" }, results: [{ custom_id: line!.custom_id, response: { status_code: 200 } }] });
    } finally {
      app.rt.batch.configure({ deferWindowMs: FAST.deferWindowMs! });
      await new Promise<void>((resolve) => hook.close(() => resolve()));
    }
  });

  it("validates deferred requests up front and guards webhooks against SSRF", async () => {
    const deferredBefore = await app.rt.db.prisma.batchJob.count({ where: { deferred: true } });
    const post = (headers: Record<string, string>, body: unknown = { model: "sim-openai/sim-small", messages: [{ role: "user", content: "hi" }] }) =>
      fetch(`${app.url}/api/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${client.apiKey}`, "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    expect((await post({ "x-switchyard-defer": "soon" })).status).toBe(400);
    expect((await post({ "x-switchyard-defer": "2000-01-01T00:00:00Z" })).status).toBe(400);
    expect((await post({ "x-switchyard-defer": "60" }, { model: "no-such-model", messages: [{ role: "user", content: "x" }] })).status).toBe(404);
    expect((await post({ "x-switchyard-defer": "60" }, { model: "sim-openai/sim-small", messages: [{ role: "user", content: "x" }], stream: true })).status).toBe(400);
    const metadata = await post({ "x-switchyard-defer": "60", "x-switchyard-webhook": "http://169.254.169.254/latest/meta-data" });
    expect(metadata.status).toBe(400);
    expect(((await metadata.json()) as { error: { code: string } }).error.code).toBe("invalid_webhook");
    app.rt.batch.configure({ webhookAllowPrivate: false });
    try {
      expect((await post({ "x-switchyard-defer": "60", "x-switchyard-webhook": "http://127.0.0.1:9/hook" })).status).toBe(400);
    } finally {
      app.rt.batch.configure({ webhookAllowPrivate: true });
    }
    expect(await app.rt.db.prisma.batchJob.count({ where: { deferred: true } })).toBe(deferredBefore);
  });

  it("defers every non-streaming request of a deferrable key", async () => {
    const { key } = await createApiKey(app.rt.db.prisma, { orgId, teamId: (await app.rt.db.prisma.team.findFirstOrThrow({ where: { orgId } })).id, name: "background", deferrable: true });
    const background = new OpenAI({ apiKey: key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
    const accepted = await background.chat.completions.create({ model: "sim-openai/sim-small", messages: [{ role: "user", content: "nightly job" }] }).withResponse();
    expect(accepted.response.status).toBe(202);
    expect((accepted.data as unknown as OpenAI.Batches.Batch).object).toBe("batch");
    // A streaming request cannot be answered later: it runs live.
    const stream = await background.chat.completions.create({ model: "sim-openai/sim-small", messages: [{ role: "user", content: "live" }], stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toContain("live");
    const done = await helpers(() => background).finished((accepted.data as unknown as OpenAI.Batches.Batch).id);
    expect(done.status).toBe("completed");
  });

  it("lists batches newest first with after/limit pagination", async () => {
    const ids = [];
    for (let i = 0; i < 3; i += 1) ids.push((await submit([chatLine(`p${i}`, "sim-openai/sim-small", `page ${i}`)])).id);
    const first = await client.batches.list({ limit: 2 });
    expect(first.data.map((b) => b.id)).toEqual([ids[2], ids[1]]);
    expect(first.hasNextPage()).toBe(true);
    const next = await client.batches.list({ limit: 2, after: first.data.at(-1)!.id });
    expect(next.data[0]!.id).toBe(ids[0]);
    await expect(client.batches.list({ limit: 0 })).rejects.toMatchObject({ status: 400 });
  });

  it("keeps batches and files invisible to other teams", async () => {
    const created = await submit([chatLine("mine", "sim-openai/sim-small", "team a only")]);
    const done = await finished(created.id);
    const team = await app.rt.db.prisma.team.create({ data: { orgId, name: "Other", slug: "other" } });
    const { key } = await createApiKey(app.rt.db.prisma, { orgId, teamId: team.id, name: "other-team" });
    await bumpConfigVersion(app.rt.db.prisma);
    const other = new OpenAI({ apiKey: key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
    await expect(other.batches.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(other.batches.cancel(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(other.files.retrieve(created.input_file_id)).rejects.toMatchObject({ status: 404 });
    await expect(other.files.content(done.output_file_id!)).rejects.toMatchObject({ status: 404 });
    await expect(other.batches.create({ input_file_id: created.input_file_id, endpoint: "/v1/chat/completions", completion_window: "24h" })).rejects.toMatchObject({ status: 404 });
    expect((await other.batches.list()).data).toEqual([]);
    expect((await other.files.list()).data).toEqual([]);
    // The owner still sees both.
    expect((await client.files.retrieve(created.input_file_id)).purpose).toBe("batch");
    expect((await client.files.retrieve(done.output_file_id!)).purpose).toBe("batch_output");
  });

  it("applies budgets to batch lines", async () => {
    const team = await app.rt.db.prisma.team.create({ data: { orgId, name: "Broke", slug: "broke" } });
    const { key } = await createApiKey(app.rt.db.prisma, { orgId, teamId: team.id, name: "broke" });
    await app.rt.db.prisma.budget.create({ data: { orgId, scope: "team", teamId: team.id, period: "monthly", limitUsd: "0.0000000001", hard: true } });
    await bumpConfigVersion(app.rt.db.prisma);
    await app.rt.snapshot.refresh();
    const broke = new OpenAI({ apiKey: key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
    const h = helpers(() => broke);
    const done = await h.finished((await h.submit([chatLine("over", "sim-openai/sim-small", "over budget ".repeat(50))])).id);
    expect(done.request_counts).toMatchObject({ completed: 0, failed: 1 });
    const [line] = await h.lines(done.error_file_id);
    expect(line!.response).toMatchObject({ status_code: 429, body: { error: { code: "budget_exceeded" } } });
    expect(sim.batches.list()).toEqual([]);
  });
});

describe("batch tier across a restart", () => {
  it("resumes a batch mid-flight on a new server over the same database", async () => {
    const sim = await startSimulator({ batch: { polls: 1_000_000 } });
    const db = await createTestDatabase();
    const dir = tempDir();
    const env = testEnv({ DATABASE_URL: db.url, SWITCHYARD_DATA_DIR: dir.path });
    const start = async () => {
      const server = await startSwitchyard(env, { log: new LogCapture().logger, ui: false, seedDemo: false });
      server.rt.batch.configure(FAST);
      return server;
    };
    let first: Switchyard | null = null;
    let second: Switchyard | null = null;
    try {
      first = await start();
      const { key } = await seedSimulatorProviders(first, sim.url);
      let client = new OpenAI({ apiKey: key, baseURL: `${first.url}/api/v1`, maxRetries: 0 });
      const { submit, finished, lines } = helpers(() => client);
      const created = await submit([chatLine("r1", "sim-openai/sim-small", "survives a restart"), chatLine("r2", "sim-anthropic/sim-claude", "so does this")]);
      // Both provider batches submitted and recorded: the batch is mid-flight.
      const running = first.rt.db.prisma;
      await waitUntil(async () => (await running.providerBatch.count({ where: { status: "in_progress" } })) === 2);
      await first.stop();
      first = null;

      sim.batches.configure({ polls: 0 });
      second = await start();
      client = new OpenAI({ apiKey: key, baseURL: `${second.url}/api/v1`, maxRetries: 0 });
      const done = await finished(created.id);
      expect(done.status).toBe("completed");
      expect((await lines(done.output_file_id)).map((l) => [l.custom_id, l.response?.status_code])).toEqual([["r1", 200], ["r2", 200]]);
      // Resumed by polling the provider batches submitted before the restart, not by submitting again.
      expect(sim.batches.list()).toHaveLength(2);
      expect(sim.count({ operation: "chat" })).toBe(2);
    } finally {
      await first?.stop();
      await second?.stop();
      await db.drop();
      dir.remove();
      await sim.close();
    }
  });
});
