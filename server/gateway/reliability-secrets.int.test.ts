/**
 * Reliability case 25 (docs/reliability-cases.md): two organizations never share a cached answer, and no API key,
 * provider key or master secret appears in any log line (debug level) or error body after a run that goes through
 * every path that handles one: successes and streams, refused keys, keys pasted into bodies, provider auth failures,
 * upstream errors that echo the credentials they were sent, and the control plane's provider procedures.
 * (Cache refusals for a revoked key or an exhausted budget: server/cache/cache.int.test.ts.)
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerAs, createTestOrg, type TestOrg } from "../api/testing";
import { createApiKey } from "../keys/service";
import { startSimulator, type Simulator } from "../providers/simulator";
import { waitUntil } from "../state/store.contract";
import { SEEDED_PROVIDER_KEY, seedSimulatorProviders, startTestServer, type TestServer } from "../testing/harness";
import { bumpConfigVersion } from "./snapshot";

const MASTER_SECRET = "7f3a9c2e5b8d1f4a6c0e9b2d5f8a1c4e7b0d3f6a9c2e5b8d1f4a7c0e3b6d9f2a";
// Provider keys that do not look like keys to a pattern scrubber (Azure: 32 hex; Together: 64 hex; a Groq key).
const ECHO_KEY = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const GROQ_KEY = "gsk_R3liabilityCase25DoNotLeakThisKeyAnywhere";
const WRONG_KEY = "sk-wrong-provider-key-ABCDEFGH12345678";
const URL_PASSWORD = "hunter2UrlPasswordCase25";
const URL_TOKEN = "tok3nInAMetadataUrlCase25";
const WEBHOOK_SECRET = "XoXbWebhookSecretCase25abcdef";

/** An OpenAI-protocol upstream that answers every request with an error echoing the credentials it received. */
async function startEchoingUpstream() {
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (d) => (raw += d));
    req.on("end", () => {
      const auth = String(req.headers.authorization ?? "");
      // Listing models (test connection) → 401; streams → 500; the rest → 400.
      const status = req.url?.includes("/models") ? 401 : raw.includes('"stream":true') ? 500 : 400;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `Invalid header 'Authorization: ${auth}' (key ${auth.replace(/^Bearer /, "")} is not valid here)`, type: "invalid_request_error", code: "bad_header" } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("reliability: tenants and secrets", () => {
  let sim: Simulator;
  let echo: Awaited<ReturnType<typeof startEchoingUpstream>>;
  let app: TestServer;
  let key: string;
  let org: TestOrg;
  let otherKey: string;
  const bodies: string[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ apiKey: SEEDED_PROVIDER_KEY });
    echo = await startEchoingUpstream();
    app = await startTestServer({ SWITCHYARD_SECRET: MASTER_SECRET, LOG_LEVEL: "debug" });
    const seeded = await seedSimulatorProviders(app, sim.url);
    key = seeded.key;
    org = await createTestOrg(app.rt);
    const db = app.rt.db.prisma;
    const provider = (name: string, baseUrl: string, secret: string, orgId = seeded.tenant.orgId) =>
      db.provider.create({
        data: { orgId, name, kind: "simulator", baseUrl, allowPrivate: true, config: { protocol: "openai" }, encryptedKey: app.rt.secrets.encrypt(secret), keyLast4: secret.slice(-4) },
      });
    await provider("wrong-key", `${sim.url}/openai/v1`, WRONG_KEY);
    await provider("echo-azure", `${echo.url}/openai/v1`, ECHO_KEY);
    await provider("echo-groq", `${echo.url}/openai/v1`, GROQ_KEY);
    // A second organization with its own simulator provider under the same name, and its own key.
    const other = await db.organization.findUniqueOrThrow({ where: { slug: "other" } });
    const otherTeam = await db.team.create({ data: { orgId: other.id, name: "Other team", slug: "other-team" } });
    await provider("sim-openai", `${sim.url}/openai/v1`, SEEDED_PROVIDER_KEY, other.id);
    otherKey = (await createApiKey(db, { orgId: other.id, teamId: otherTeam.id, name: "other-org" })).key;
    await bumpConfigVersion(db);
    await app.rt.snapshot.refresh();
    await app.rt.snapshot.refresh();
  });
  afterAll(async () => {
    await app?.dispose();
    await sim?.close();
    await echo?.close();
  });

  const send = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${app.url}/api/v1${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    bodies.push(text);
    return { status: res.status, text, headers: res.headers };
  };
  const messages = (content: string) => [{ role: "user", content }];

  it("never answers one organization from another's cached answer", async () => {
    const body = { model: "sim-openai/sim-small", temperature: 0, messages: messages("Which platform does the night train leave from?") };
    const first = await send("/chat/completions", body);
    expect(first.status).toBe(200);
    expect((await send("/chat/completions", body)).headers.get("x-switchyard-cache")).toBe("hit"); // the cache is on
    const calls = sim.count({ operation: "chat" });
    const other = await send("/chat/completions", body, { authorization: `Bearer ${otherKey}` });
    expect(other.status).toBe(200);
    expect(other.headers.get("x-switchyard-cache")).toBe("miss");
    expect(sim.count({ operation: "chat" })).toBe(calls + 1);
    expect(JSON.parse(other.text).id).not.toBe(JSON.parse(first.text).id);
    // Streamed too: the other organization's stream is not a replay of ours.
    const streamedBody = { ...body, stream: true, messages: messages("Is the dining car open after midnight?") };
    expect((await send("/chat/completions", streamedBody)).status).toBe(200);
    expect((await send("/chat/completions", streamedBody)).headers.get("x-switchyard-cache")).toBe("hit");
    const streamed = await send("/chat/completions", streamedBody, { authorization: `Bearer ${otherKey}` });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get("x-switchyard-cache")).toBe("miss");
  });

  it("keeps every key and secret out of logs and error bodies, whatever the path", async () => {
    // Successes, streamed and not, through both surfaces and both auth headers.
    expect((await send("/chat/completions", { model: "sim-openai/sim-small", messages: messages("hello") })).status).toBe(200);
    expect((await send("/chat/completions", { model: "sim-openai/sim-small", stream: true, messages: messages("hello") }, { authorization: "", "x-api-key": key })).status).toBe(200);
    expect((await send("/messages", { model: "sim-anthropic/sim-claude", max_tokens: 20, messages: messages("hello") }, { authorization: "", "x-api-key": key })).status).toBe(200);
    const sdk = new OpenAI({ apiKey: key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
    await sdk.chat.completions.create({ model: "sim-openai/sim-small", messages: [{ role: "user", content: "sdk" }] });

    // Refused keys, including a near miss of the real one and a provider key sent as a client key.
    for (const bad of [`${key}x`, key.slice(0, -1), SEEDED_PROVIDER_KEY, GROQ_KEY, ECHO_KEY]) {
      expect((await send("/chat/completions", { model: "sim-openai/sim-small", messages: messages("x") }, { authorization: `Bearer ${bad}` })).status).toBe(401);
      expect((await send("/messages", { model: "sim-openai/sim-small", max_tokens: 5, messages: messages("x") }, { authorization: "", "x-api-key": bad })).status).toBe(401);
    }

    // Keys pasted into bodies: echoed parameters, unknown models, forbidden parameters, invalid JSON.
    await send("/chat/completions", { model: key, messages: messages("x") });
    await send("/chat/completions", { model: `sim-openai/${key}`, messages: messages("x") });
    await send("/chat/completions", { model: "sim-openai/sim-small", messages: messages("x"), api_key: GROQ_KEY });
    await send("/chat/completions", { model: "sim-openai/sim-small", messages: messages("x"), [key]: 1 });
    await send("/chat/completions", { model: "sim-openai/sim-small", messages: [{ role: key, content: "x" }] });
    await send("/chat/completions", { model: "sim-openai/sim-small", messages: messages("x"), temperature: ECHO_KEY });
    await send("/chat/completions", `{"model": "${key}", "messages": [`);
    await send("/messages", { model: key, max_tokens: 5, messages: messages("x") });

    // Provider failures: a wrong stored key (the simulator echoes it masked, as OpenAI does), upstream errors that
    // echo the full credentials they were sent, in 400s (JSON) and 500s (streams).
    expect((await send("/chat/completions", { model: "wrong-key/sim-small", messages: messages("x") })).status).toBe(502);
    for (const provider of ["echo-azure", "echo-groq"]) {
      for (const stream of [false, true]) {
        const res = await send("/chat/completions", { model: `${provider}/sim-small`, stream, messages: messages("x") });
        expect(res.status).toBeGreaterThanOrEqual(400);
        await send("/messages", { model: `${provider}/sim-small`, max_tokens: 5, stream, messages: messages("x") });
      }
    }

    // The control plane: saving providers with keys, testing connections that fail with them.
    const admin = callerAs(app.rt, org.users.admin);
    const saved = await admin.providers.create({ name: "cp-groq", kind: "simulator", baseUrl: `${echo.url}/openai/v1`, apiKey: GROQ_KEY, allowPrivate: true, config: { protocol: "openai" } });
    const check = await admin.providers.testConnection({ id: saved.id });
    bodies.push(JSON.stringify(check), JSON.stringify(saved), JSON.stringify(await admin.providers.list()));
    const wrong = (await app.rt.db.prisma.provider.findFirstOrThrow({ where: { name: "wrong-key" } })).id;
    bodies.push(JSON.stringify(await admin.providers.testConnection({ id: wrong })));
    // Secrets inside URLs: credentials in a refused base URL, a token in a metadata URL's query, a webhook URL
    // (itself a bearer secret, as Slack's are) whose delivery is refused.
    for (const baseUrl of [`https://user:${URL_PASSWORD}@api.example.com/v1`, `http://169.254.169.254/latest?token=${URL_TOKEN}`]) {
      const refused = await admin.providers.create({ name: "url-secret", kind: "openai-compatible", baseUrl, apiKey: GROQ_KEY }).then(() => null, (e: Error) => e);
      expect(refused).not.toBeNull();
      bodies.push(refused!.message, JSON.stringify(refused));
    }
    const webhookBudget = await app.rt.db.prisma.budget.create({
      data: { orgId: org.orgId, scope: "organization", period: "monthly", limitUsd: "0.0000001", hard: false, alertThresholds: [50], webhookUrl: `https://hooks.example.invalid/services/T0/B0/${WEBHOOK_SECRET}` },
    });
    await bumpConfigVersion(app.rt.db.prisma);
    await app.rt.snapshot.refresh();
    expect((await send("/chat/completions", { model: "sim-openai/sim-small", messages: messages("spend past the alert") })).status).toBe(200);
    const alert = async () => app.rt.db.prisma.budgetAlert.findFirst({ where: { budgetId: webhookBudget.id, webhookStatus: { not: "pending" } } });
    await waitUntil(async () => (await alert()) !== null, 10_000);
    bodies.push(JSON.stringify(await alert()), JSON.stringify(await admin.budgets.alerts({ limit: 50 })));
    // Admins and finance manage the webhook URL and see it; a developer sees the budget without it.
    const developerView = JSON.stringify(await callerAs(app.rt, org.users.developerA).budgets.list());
    expect(developerView).toContain(webhookBudget.id);
    bodies.push(developerView);

    await app.rt.calls.flush();
    const logs = app.logs.text();
    expect(logs.length).toBeGreaterThan(0);
    expect(app.rt.log.isLevelEnabled("debug")).toBe(true);
    const secrets: Record<string, string> = {
      "API key": key,
      "API key body": key.replace(/^sy-/, ""),
      "other org's API key": otherKey,
      "simulator provider key": SEEDED_PROVIDER_KEY,
      "wrong provider key": WRONG_KEY,
      "Azure-style provider key": ECHO_KEY,
      "Groq provider key": GROQ_KEY,
      "master secret": MASTER_SECRET,
      "password in a provider URL": URL_PASSWORD,
      "token in a provider URL": URL_TOKEN,
      "webhook URL secret": WEBHOOK_SECRET,
    };
    const rows = JSON.stringify([
      await app.rt.db.prisma.call.findMany({ select: { errorClass: true, attempts: true, route: true, requestedModel: true } }),
      await app.rt.db.prisma.auditLog.findMany({}),
    ]);
    for (const [what, secret] of Object.entries(secrets)) {
      expect(logs.includes(secret), `${what} in a log line`).toBe(false);
      expect(bodies.find((b) => b.includes(secret)), `${what} in an error body`).toBeUndefined();
      expect(rows.includes(secret), `${what} in a call-log or audit row`).toBe(false);
    }
  });
});
