import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bumpConfigVersion } from "./gateway/snapshot";
import { createApiKey, revokeApiKey } from "./keys/service";
import { ensureDefaultTenant as defaultTenant } from "./tenant";
import { startTestServer, type TestServer } from "./testing/harness";

describe("HTTP server: gateway fast path and ops endpoints", () => {
  let app: TestServer;
  beforeAll(async () => {
    app = await startTestServer({ SWITCHYARD_METRICS_TOKEN: "metrics-token-for-tests" });
  });
  afterAll(() => app.dispose());

  it("answers liveness and readiness", async () => {
    const health = await fetch(`${app.url}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const ready = await fetch(`${app.url}/api/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", checks: { database: "ok", migrations: "ok", state: "ok" } });
  });

  it("lists the policies and provider models a key may use, refreshed when config changes", async () => {
    const db = app.rt.db.prisma;
    const tenant = await defaultTenant(db);
    const { key } = await createApiKey(db, { ...tenant, name: "test" });
    const auth = { authorization: `Bearer ${key}` };
    const first = await fetch(`${app.url}/api/v1/models`, { headers: auth });
    expect(first.status).toBe(200);
    // Only the bundled local embedder before any provider or policy exists.
    expect((await first.json()).data.map((m: { id: string }) => m.id)).toEqual(["switchyard/use-lite"]);

    await db.provider.create({
      data: { orgId: tenant.orgId, name: "sim", kind: "simulator", baseUrl: "http://127.0.0.1:1/v1" },
    });
    await db.policy.create({
      data: { orgId: tenant.orgId, name: "support-bot", document: { targets: [{ provider: "sim", model: "sim-small" }] } },
    });
    await bumpConfigVersion(db);
    await app.rt.snapshot.refresh();

    const body = await (await fetch(`${app.url}/api/v1/models`, { headers: auth })).json();
    expect(body.object).toBe("list");
    const ids = body.data.map((m: { id: string }) => m.id);
    expect(ids[0]).toBe("support-bot");
    expect(ids).toContain("sim/sim-small");
    expect(body.data.find((m: { id: string }) => m.id === "sim/sim-small")).toMatchObject({ object: "model", owned_by: "sim" });

    const one = await fetch(`${app.url}/api/v1/models/support-bot`, { headers: auth });
    expect(await one.json()).toMatchObject({ id: "support-bot", object: "model", owned_by: "switchyard" });
    const missing = await fetch(`${app.url}/api/v1/models/nope`, { headers: auth });
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toMatchObject({ code: "model_not_found", param: "model", type: "not_found_error" });

    // A key restricted to one policy sees only that policy.
    const limited = await createApiKey(db, { ...tenant, name: "limited", allowedModels: ["support-bot"] });
    const limitedBody = await (await fetch(`${app.url}/api/v1/models`, { headers: { "x-api-key": limited.key } })).json();
    expect(limitedBody.data.map((m: { id: string }) => m.id)).toEqual(["support-bot"]);
  });

  it("rejects missing, malformed, unknown, revoked and expired keys with 401 and never echoes them", async () => {
    const db = app.rt.db.prisma;
    const tenant = await defaultTenant(db);
    const revoked = await createApiKey(db, { ...tenant, name: "to-revoke" });
    const expired = await createApiKey(db, { ...tenant, name: "expired", expiresAt: new Date(Date.now() - 1000) });
    expect((await fetch(`${app.url}/api/v1/models`, { headers: { authorization: `Bearer ${revoked.key}` } })).status).toBe(200);
    await revokeApiKey(db, revoked.record.id);
    await app.rt.snapshot.refresh();
    const cases: Array<Record<string, string>> = [
      {},
      { authorization: "Basic dXNlcjpwYXNz" },
      { authorization: "Bearer sy-unknownkeyunknownkeyunknownkey1" },
      { authorization: `Bearer ${revoked.key}` },
      { authorization: `Bearer ${expired.key}` },
    ];
    for (const headers of cases) {
      const res = await fetch(`${app.url}/api/v1/models`, { headers });
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(JSON.parse(text).error).toMatchObject({ code: "invalid_api_key", type: "authentication_error" });
      for (const value of Object.values(headers)) expect(text).not.toContain(value.replace(/^\w+ /, ""));
    }
    expect(app.logs.text()).not.toContain(revoked.key);
  });

  it("returns an OpenAI-shaped 404 for unknown gateway paths, with a request id", async () => {
    const res = await fetch(`${app.url}/api/v1/does/not/exist`, { method: "POST", body: "{}" });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const body = await res.json();
    expect(body).toEqual({
      error: { message: "Unknown request URL: POST /api/v1/does/not/exist", type: "not_found_error", param: null, code: "unknown_url" },
    });
  });

  it("echoes a well-formed client request id and replaces a malformed one", async () => {
    const echoed = await fetch(`${app.url}/api/v1/nope`, { headers: { "x-request-id": "client-req-42" } });
    expect(echoed.headers.get("x-request-id")).toBe("client-req-42");
    const replaced = await fetch(`${app.url}/api/v1/nope`, { headers: { "x-request-id": "bad id with spaces" } });
    expect(replaced.headers.get("x-request-id")).not.toBe("bad id with spaces");
  });

  it("serves Prometheus metrics only with the metrics token", async () => {
    const denied = await fetch(`${app.url}/api/metrics`);
    expect(denied.status).toBe(401);
    const wrong = await fetch(`${app.url}/api/metrics`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${app.url}/api/metrics`, { headers: { authorization: "Bearer metrics-token-for-tests" } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toContain("text/plain");
    const text = await ok.text();
    expect(text).toContain("switchyard_http_requests_total");
    expect(text).toMatch(/switchyard_http_requests_total\{surface="gateway",method="GET",status="401"\} \d+/);
  });

  it("answers 404 for pages when the dashboard is disabled", async () => {
    const res = await fetch(`${app.url}/`);
    expect(res.status).toBe(404);
  });

  it("never logs the metrics token or authorization headers", () => {
    expect(app.logs.text()).not.toContain("metrics-token-for-tests");
  });
});
