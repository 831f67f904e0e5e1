/**
 * Issue #6: request and response bodies in the call log, only when the policy's `logging.bodies` is on, redacted
 * (key-shaped strings, `switchyard` field dropped) — through the gateway with the official openai SDK and the
 * simulator — and shown by calls.get to admins and developers of the call's team, never to finance.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { SessionUser } from "../auth/users";
import { callerAs } from "../api/testing";
import { startSimulator, type Simulator } from "../providers/simulator";
import { seedSimulatorProviders, startTestServer, type TestServer } from "../testing/harness";
import { policySpec } from "@/lib/config-file";
import { policyDocument } from "@/lib/policy";
import { MAX_LOGGED_BODY_BYTES, loggedRequestBody, redactBody } from "./bodies";
import { bumpConfigVersion } from "./snapshot";

// Looks like an OpenAI key (the scrubber's `sk-` pattern); built at run time so no literal key sits in the source.
const FAKE_KEY = ["sk", "proj", "A1b2C3d4E5f6G7h8I9j0K1l2"].join("-");

describe("call-log bodies (policy logging.bodies)", () => {
  let sim: Simulator;
  let app: TestServer;
  let client: OpenAI;
  let tenant: { orgId: string; teamId: string };

  const rowFor = async (requestId: string | null) => {
    await app.rt.calls.flush();
    return app.rt.db.prisma.call.findFirstOrThrow({ where: { requestId: requestId ?? "missing" } });
  };
  const user = (role: SessionUser["role"], teamId: string | null): SessionUser => ({ id: `u-${role}-${teamId}`, email: `${role}@example.com`, name: null, role, orgId: tenant.orgId, teamId });

  beforeAll(async () => {
    sim = await startSimulator();
    app = await startTestServer();
    const seeded = await seedSimulatorProviders(app, sim.url);
    tenant = seeded.tenant;
    const db = app.rt.db.prisma;
    const targets = [{ provider: "sim-openai", model: "sim-small" }];
    await db.policy.create({ data: { orgId: tenant.orgId, name: "logged", document: { targets, logging: { bodies: true } } } });
    await db.policy.create({ data: { orgId: tenant.orgId, name: "quiet", document: { targets } } });
    await bumpConfigVersion(db);
    await app.rt.snapshot.refresh();
    client = new OpenAI({ apiKey: seeded.key, baseURL: `${app.url}/api/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await app?.dispose();
    await sim?.close();
  });
  beforeEach(() => sim.reset());

  it("stores both bodies, redacted, when the policy enables it", async () => {
    const { data, response } = await client.chat.completions
      .create({
        model: "logged",
        messages: [{ role: "user", content: `My key is ${FAKE_KEY}, please say hello` }],
        temperature: 0.3,
        // @ts-expect-error the gateway's routing extension is not in the SDK's types
        switchyard: { require: ["streaming"] },
      })
      .withResponse();
    const row = await rowFor(response.headers.get("x-request-id"));
    expect(row.policy).toBe("logged");
    const request = row.requestBody as { model: string; temperature: number; messages: Array<{ content: string }>; switchyard?: unknown };
    expect(request.model).toBe("logged");
    expect(request.temperature).toBe(0.3);
    expect(request).not.toHaveProperty("switchyard");
    expect(request.messages[0]!.content).toBe("My key is [REDACTED], please say hello");
    expect(JSON.stringify(row.requestBody)).not.toContain(FAKE_KEY);
    const stored = row.responseBody as { object: string; choices: Array<{ message: { content: string } }> };
    expect(stored.object).toBe("chat.completion");
    // The simulator echoes the prompt: the stored answer is the one the client got, with the echoed key redacted.
    expect(data.choices[0]!.message.content).toContain(FAKE_KEY);
    expect(stored.choices[0]!.message.content).toBe(data.choices[0]!.message.content!.replace(FAKE_KEY, "[REDACTED]"));
    expect(JSON.stringify(row.responseBody)).not.toContain(FAKE_KEY);
  });

  it("stores no body for a policy without logging, nor for a concrete model", async () => {
    for (const model of ["quiet", "sim-openai/sim-small"]) {
      const { response } = await client.chat.completions
        .create({ model, messages: [{ role: "user", content: `Hello, my key is ${FAKE_KEY}` }] })
        .withResponse();
      const row = await rowFor(response.headers.get("x-request-id"));
      expect(row.status).toBe(200);
      expect(row.requestBody).toBeNull();
      expect(row.responseBody).toBeNull();
    }
  });

  it("stores the assembled answer of a streamed call", async () => {
    const { data: stream, response } = await client.chat.completions
      .create({ model: "logged", messages: [{ role: "user", content: "Stream a short answer please" }], stream: true })
      .withResponse();
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text.length).toBeGreaterThan(0);
    const row = await rowFor(response.headers.get("x-request-id"));
    expect(row).toMatchObject({ streamed: true, partial: false, status: 200 });
    expect((row.requestBody as { stream: boolean }).stream).toBe(true);
    const stored = row.responseBody as { object: string; choices: Array<{ message: { content: string }; finish_reason: string }> };
    expect(stored.object).toBe("chat.completion");
    expect(stored.choices[0]!.message.content).toBe(text);
    expect(stored.choices[0]!.finish_reason).toBe("stop");
  });

  it("shows bodies to admins and same-team developers, never to finance", async () => {
    const { response } = await client.chat.completions
      .create({ model: "logged", messages: [{ role: "user", content: "Who may read this?" }] })
      .withResponse();
    const row = await rowFor(response.headers.get("x-request-id"));
    const admin = await callerAs(app.rt, user("admin", null)).calls.get({ id: row.id });
    expect(admin.bodies?.request).toMatchObject({ model: "logged" });
    expect(admin.bodies?.response).toMatchObject({ object: "chat.completion" });
    const developer = await callerAs(app.rt, user("developer", tenant.teamId)).calls.get({ id: row.id });
    expect(developer.bodies?.request).toEqual(row.requestBody);
    expect(developer).not.toHaveProperty("requestBody"); // only under `bodies`
    await expect(callerAs(app.rt, user("developer", "another-team")).calls.get({ id: row.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    const finance = await callerAs(app.rt, user("finance", null)).calls.get({ id: row.id });
    expect(finance.id).toBe(row.id);
    expect(finance.bodies).toBeNull();
    expect(finance).not.toHaveProperty("requestBody");
    expect(finance).not.toHaveProperty("responseBody");
  });

  it("accepts logging.bodies in policy documents and config-as-code, off when absent", () => {
    const targets = [{ provider: "sim-openai", model: "sim-small" }];
    expect(policyDocument.parse({ targets, logging: { bodies: true } }).logging).toEqual({ bodies: true });
    expect(policyDocument.parse({ targets }).logging).toBeUndefined();
    expect(policyDocument.safeParse({ targets, logging: { bodies: "yes" } }).success).toBe(false);
    expect(policyDocument.safeParse({ targets, logging: { prompts: true } }).success).toBe(false);
    expect(policySpec.parse({ name: "logged", strategy: "cheapest", targets, logging: { bodies: true } }).logging).toEqual({ bodies: true });
  });

  it("caps a body at 64 KiB with a truncation marker, and redacts credential fields", () => {
    const big = loggedRequestBody({ model: "logged", messages: [{ role: "user", content: "x".repeat(100_000) }], switchyard: { a: 1 } });
    expect(big).toMatchObject({ truncated: true, maxBytes: MAX_LOGGED_BODY_BYTES });
    const marker = big as { bytes: number; preview: string };
    expect(marker.bytes).toBeGreaterThan(100_000);
    expect(Buffer.byteLength(marker.preview)).toBeLessThanOrEqual(MAX_LOGGED_BODY_BYTES);
    expect(marker.preview.startsWith('{"model":"logged"')).toBe(true);
    expect(redactBody({ api_key: "plain", nested: { authorization: "Bearer abcdefghijkl" }, n: 1 })).toEqual({ api_key: "[REDACTED]", nested: { authorization: "[REDACTED]" }, n: 1 });
    expect(redactBody({ text: "use Bearer abcdefghijkl here" })).toEqual({ text: "use Bearer [REDACTED] here" });
  });
});
