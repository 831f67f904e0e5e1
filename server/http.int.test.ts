import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bumpConfigVersion } from "./gateway/snapshot";
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

  it("lists models and policies from the database, refreshed when config changes", async () => {
    const first = await fetch(`${app.url}/api/v1/models`);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ object: "list", data: [] });

    const db = app.rt.db.prisma;
    const org = await db.organization.findUniqueOrThrow({ where: { slug: "default" } });
    const provider = await db.provider.create({
      data: { orgId: org.id, name: "simulated-openai", kind: "simulator", baseUrl: "http://127.0.0.1:1/v1" },
    });
    await db.modelOverride.create({ data: { orgId: org.id, providerId: provider.id, modelId: "gpt-4o-mini" } });
    await db.modelOverride.create({ data: { orgId: org.id, providerId: provider.id, modelId: "disabled-model", enabled: false } });
    await db.policy.create({ data: { orgId: org.id, name: "support-bot", document: { strategy: "cheapest" } } });
    await bumpConfigVersion(db);
    await app.rt.snapshot.refresh();

    const body = await (await fetch(`${app.url}/api/v1/models`)).json();
    expect(body.object).toBe("list");
    expect(body.data.map((m: { id: string }) => m.id)).toEqual(["support-bot", "gpt-4o-mini"]);
    expect(body.data[1]).toMatchObject({ object: "model", owned_by: "simulated-openai" });

    const one = await fetch(`${app.url}/api/v1/models/gpt-4o-mini`);
    expect(await one.json()).toMatchObject({ id: "gpt-4o-mini", object: "model" });
    const missing = await fetch(`${app.url}/api/v1/models/disabled-model`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toMatchObject({ code: "model_not_found", param: "model", type: "not_found_error" });
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
    const echoed = await fetch(`${app.url}/api/v1/models`, { headers: { "x-request-id": "client-req-42" } });
    expect(echoed.headers.get("x-request-id")).toBe("client-req-42");
    const replaced = await fetch(`${app.url}/api/v1/models`, { headers: { "x-request-id": "bad id with spaces" } });
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
    expect(text).toMatch(/switchyard_http_requests_total\{surface="gateway",method="GET",status="200"\} \d+/);
  });

  it("answers 404 for pages when the dashboard is disabled", async () => {
    const res = await fetch(`${app.url}/`);
    expect(res.status).toBe(404);
  });

  it("never logs the metrics token or authorization headers", () => {
    expect(app.logs.text()).not.toContain("metrics-token-for-tests");
  });
});
