/**
 * Reliability cases 1–7 (docs/reliability-cases.md, "Requests from clients"), through the real HTTP server with the
 * simulator as the only upstream: every refusal has its documented status and stable code in the surface's envelope,
 * and none of them reaches the upstream (sim.count() stays 0).
 */
import http from "node:http";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { callerAs, createTestOrg, type TestOrg } from "../api/testing";
import { createApiKey } from "../keys/service";
import { startSimulator, type Simulator } from "../providers/simulator";
import { waitUntil } from "../state/store.contract";
import { seedSimulatorProviders, startTestServer, type TestServer } from "../testing/harness";
import { bumpConfigVersion } from "./snapshot";

const CAP = 8 * 1024 * 1024; // room for the 100k-message body of case 5
const MODEL = "sim-openai/sim-small";

describe("reliability: requests from clients", () => {
  let sim: Simulator;
  let app: TestServer;
  let key: string;
  let org: TestOrg;
  let tenant: { orgId: string; teamId: string };

  beforeAll(async () => {
    sim = await startSimulator();
    app = await startTestServer({ SWITCHYARD_MAX_BODY_BYTES: String(CAP) });
    const seeded = await seedSimulatorProviders(app, sim.url);
    key = seeded.key;
    tenant = seeded.tenant;
    org = await createTestOrg(app.rt);
  });
  afterAll(async () => {
    await app?.dispose();
    await sim?.close();
  });
  beforeEach(() => sim.reset());

  const post = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
    fetch(`${app.url}/api/v1${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
      body,
    });
  const chatBody = (extra: Record<string, unknown> = {}) => JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hi" }], ...extra });
  const anthropicBody = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({ model: MODEL, max_tokens: 16, messages: [{ role: "user", content: "hi" }], ...extra });

  describe("case 1: missing, malformed or unknown key", () => {
    it("answers 401 invalid_api_key on every surface, never echoes the key, and never calls upstream", async () => {
      const unknown = "sy-unknownUNKNOWNunknownUNKNOWN0123456789";
      const variants: Array<Record<string, string>> = [
        {},
        { authorization: "" },
        { authorization: "Bearer" },
        { authorization: "Basic dXNlcjpwYXNz" },
        { authorization: `Bearer ${unknown}` },
        { "x-api-key": unknown },
        { authorization: "Bearer sk-proj-notOursAtAllButKeyShaped0123456789abcdef" },
      ];
      for (const auth of variants) {
        for (const [path, body, anthropic] of [
          ["/chat/completions", chatBody(), false],
          ["/responses", JSON.stringify({ model: MODEL, input: "hi" }), false],
          ["/embeddings", JSON.stringify({ model: "sim-openai/text-embedding-3-small", input: "hi" }), false],
          ["/messages", anthropicBody(), true],
        ] as const) {
          const res = await fetch(`${app.url}/api/v1${path}`, { method: "POST", headers: { "content-type": "application/json", ...auth }, body });
          const text = await res.text();
          expect(res.status, `${path} ${JSON.stringify(auth)}`).toBe(401);
          const parsed = JSON.parse(text);
          if (anthropic) expect(parsed).toMatchObject({ type: "error", error: { type: "authentication_error" } });
          else expect(parsed.error).toMatchObject({ code: "invalid_api_key", type: "authentication_error" });
          for (const value of Object.values(auth)) {
            const secret = value.replace(/^\w+ ?/, "");
            if (secret.length > 8) expect(text).not.toContain(secret);
          }
        }
      }
      // The endpoints that never reach a chat model answer the same (files and batches do reach the upstream).
      for (const auth of variants) {
        for (const [method, path] of [
          ["GET", "/models"],
          ["GET", "/models/sim-openai/sim-small"],
          ["GET", "/files"],
          ["POST", "/files"],
          ["GET", "/files/file-abc/content"],
          ["GET", "/batches"],
          ["POST", "/batches"],
          ["POST", "/batches/batch_abc/cancel"],
          ["POST", "/feedback"],
        ] as const) {
          const res = await fetch(`${app.url}/api/v1${path}`, { method, headers: { "content-type": "application/json", ...auth }, body: method === "POST" ? "{}" : undefined });
          const text = await res.text();
          expect(res.status, `${method} ${path} ${JSON.stringify(auth)}`).toBe(401);
          expect(JSON.parse(text).error).toMatchObject({ code: "invalid_api_key", type: "authentication_error" });
          if (auth.authorization?.startsWith("Bearer ") || auth["x-api-key"]) expect(text).not.toContain((auth.authorization ?? auth["x-api-key"]!).replace(/^Bearer /, ""));
        }
      }
      expect(sim.count()).toBe(0);
      expect(app.logs.text()).not.toContain(unknown);
    });
  });

  describe("case 2: revoked, expired or disabled key", () => {
    it("refuses a revoked key within a few seconds, on its own (no manual snapshot refresh)", async () => {
      const created = await callerAs(app.rt, org.users.admin).apiKeys.create({ name: "to-revoke", teamId: tenant.teamId });
      const ask = () => post("/chat/completions", chatBody(), { authorization: `Bearer ${created.key}` });
      expect((await ask()).status).toBe(200); // now cached by the authenticator
      await callerAs(app.rt, org.users.admin).apiKeys.revoke({ id: created.record.id });
      const revokedAt = Date.now();
      let last: Response | null = null;
      await waitUntil(async () => {
        last = await ask();
        return last.status === 401;
      }, 5_000);
      expect(Date.now() - revokedAt).toBeLessThan(5_000);
      const body = await last!.json();
      expect(body.error).toMatchObject({ code: "invalid_api_key" });
      expect(JSON.stringify(body)).not.toContain(created.key);
      const calls = sim.count();
      expect((await ask()).status).toBe(401);
      expect(sim.count()).toBe(calls);
    });

    it("refuses a disabled key within a few seconds and serves it again once enabled", async () => {
      const admin = callerAs(app.rt, org.users.admin);
      const created = await admin.apiKeys.create({ name: "to-pause", teamId: tenant.teamId });
      const ask = () => post("/chat/completions", chatBody(), { authorization: `Bearer ${created.key}` });
      expect((await ask()).status).toBe(200); // cached by the authenticator
      await admin.apiKeys.setDisabled({ id: created.record.id, disabled: true });
      let last: Response | null = null;
      await waitUntil(async () => {
        last = await ask();
        return last.status === 401;
      }, 5_000);
      const body = await last!.json();
      expect(body.error).toMatchObject({ code: "invalid_api_key", message: "This API key is disabled" });
      const calls = sim.count();
      expect((await post("/messages", anthropicBody(), { authorization: "", "x-api-key": created.key })).status).toBe(401);
      expect(sim.count()).toBe(calls);
      await admin.apiKeys.setDisabled({ id: created.record.id, disabled: false });
      await waitUntil(async () => (await ask()).status === 200, 5_000);
      // Revocation is final: a revoked key cannot be enabled.
      await admin.apiKeys.revoke({ id: created.record.id });
      await expect(admin.apiKeys.setDisabled({ id: created.record.id, disabled: false })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    });

    it("refuses the keys of a disabled user, and serves them again when the user is enabled", async () => {
      const developer = callerAs(app.rt, org.users.developerA);
      const created = await developer.apiKeys.create({ name: "owned", teamId: org.teamA });
      const ask = () => fetch(`${app.url}/api/v1/models`, { headers: { authorization: `Bearer ${created.key}` } });
      expect((await ask()).status).toBe(200);
      const admin = callerAs(app.rt, org.users.admin);
      await admin.users.update({ id: org.users.developerA.id, disabled: true });
      try {
        let last: Response | null = null;
        await waitUntil(async () => {
          last = await ask();
          return last.status === 401;
        }, 5_000);
        expect((await last!.json()).error).toMatchObject({ code: "invalid_api_key", message: "This API key's owner is disabled" });
      } finally {
        await admin.users.update({ id: org.users.developerA.id, disabled: false });
      }
      await waitUntil(async () => (await ask()).status === 200, 5_000);
    });

    it("refuses a key the moment it expires, even while it is cached", async () => {
      const db = app.rt.db.prisma;
      const expiresAt = Date.now() + 1_500;
      const expiring = await createApiKey(db, { ...tenant, name: "expiring", expiresAt: new Date(expiresAt) });
      const ask = () => fetch(`${app.url}/api/v1/models`, { headers: { authorization: `Bearer ${expiring.key}` } });
      expect((await ask()).status).toBe(200); // cached by the authenticator from here on
      let res: Response | null = null;
      await waitUntil(async () => {
        res = await ask();
        return res.status !== 200;
      }, 4_000);
      const refusedAt = Date.now();
      expect(res!.status).toBe(401);
      expect((await res!.json()).error.code).toBe("invalid_api_key");
      expect(refusedAt).toBeGreaterThanOrEqual(expiresAt);
      expect(refusedAt - expiresAt).toBeLessThan(1_000);
      const calls = sim.count();
      expect((await post("/chat/completions", chatBody(), { authorization: `Bearer ${expiring.key}` })).status).toBe(401);
      expect(sim.count()).toBe(calls);
    });
  });

  describe("case 3: bodies that are not JSON", () => {
    it("answers 400 / 415 before any upstream call, on the OpenAI and Anthropic surfaces", async () => {
      const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x20)); // ~20 KB inflating to 20 MiB
      const cases: Array<[string, BodyInit, Record<string, string>, number, string]> = [
        ["/chat/completions", "{not json", {}, 400, "invalid_json"],
        ["/chat/completions", chatBody().slice(0, 30), {}, 400, "invalid_json"], // truncated
        ["/chat/completions", "", {}, 400, "invalid_json"],
        ["/chat/completions", chatBody(), { "content-type": "text/plain" }, 415, "unsupported_media_type"],
        ["/chat/completions", chatBody(), { "content-type": "application/x-www-form-urlencoded" }, 415, "unsupported_media_type"],
        ["/chat/completions", new Uint8Array(bomb), { "content-encoding": "gzip" }, 415, "unsupported_content_encoding"],
        ["/chat/completions", new Uint8Array(gzipSync(chatBody())), { "content-encoding": "gzip" }, 415, "unsupported_content_encoding"],
        ["/embeddings", "[1,", {}, 400, "invalid_json"],
        ["/responses", '{"model":', {}, 400, "invalid_json"],
        ["/responses", JSON.stringify({ model: MODEL, input: "hi" }), { "content-type": "text/plain" }, 415, "unsupported_media_type"],
        ["/responses", JSON.stringify({ model: MODEL, input: "hi" }), { "content-encoding": "br" }, 415, "unsupported_content_encoding"],
        ["/embeddings", JSON.stringify({ model: "sim-openai/sim-embed", input: "hi" }), { "content-type": "text/plain" }, 415, "unsupported_media_type"],
        ["/embeddings", new Uint8Array(gzipSync(JSON.stringify({ model: "sim-openai/sim-embed", input: "hi" }))), { "content-encoding": "gzip" }, 415, "unsupported_content_encoding"],
      ];
      for (const [path, body, headers, status, code] of cases) {
        const res = await post(path, body, headers);
        expect(res.status, `${path} ${code}`).toBe(status);
        expect((await res.json()).error.code).toBe(code);
      }
      const anthropic = await post("/messages", anthropicBody().slice(0, 20));
      expect(anthropic.status).toBe(400);
      expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
      for (const [headers, code] of [
        [{ "content-type": "text/plain" }, "unsupported_media_type"],
        [{ "content-encoding": "gzip" }, "unsupported_content_encoding"],
      ] as const) {
        const refused = await post("/messages", anthropicBody(), headers);
        expect(refused.status, code).toBe(415);
        expect(await refused.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error", code } });
      }
      // A body sent without a Content-Type at all (fetch adds text/plain for strings; node:http sends none).
      const bare = await rawPost(`${app.url}/api/v1/chat/completions`, { authorization: `Bearer ${key}` }, Buffer.from(chatBody()));
      expect(bare.status).toBe(415);
      expect(sim.count()).toBe(0);
    });
  });

  describe("case 4: bodies over the cap", () => {
    it("refuses a declared length over the cap at once, without waiting for the body", async () => {
      const started = Date.now();
      // Declares 100 MB but sends 1 KB and never finishes: only an answer that does not read the body can arrive.
      const res = await rawPost(
        `${app.url}/api/v1/chat/completions`,
        { authorization: `Bearer ${key}`, "content-type": "application/json", "content-length": String(100 * 1024 * 1024) },
        Buffer.alloc(1024, 0x20),
        { endBody: false },
      );
      expect(res.status).toBe(413);
      expect(JSON.parse(res.text).error.code).toBe("request_too_large");
      expect(Date.now() - started).toBeLessThan(3_000);
      // Every other endpoint that takes a body, in its surface's envelope.
      for (const path of ["/messages", "/responses", "/embeddings", "/batches", "/feedback", "/files"]) {
        const refused = await rawPost(
          `${app.url}/api/v1${path}`,
          {
            authorization: `Bearer ${key}`,
            "content-type": path === "/files" ? "multipart/form-data; boundary=x" : "application/json",
            "content-length": String(100 * 1024 * 1024),
          },
          Buffer.alloc(1024, 0x20),
          { endBody: false },
        );
        expect(refused.status, path).toBe(413);
        const body = JSON.parse(refused.text);
        if (path === "/messages") expect(body).toMatchObject({ type: "error", error: { type: "invalid_request_error", code: "request_too_large" } });
        else expect(body.error.code, path).toBe("request_too_large");
      }
      expect(sim.count()).toBe(0);
    });

    it("refuses an endless chunked body with 413, reading a bounded amount, and keeps memory flat", async () => {
      const heapBefore = process.memoryUsage().heapUsed;
      const { status, text, written } = await endlessChunkedPost(`${app.url}/api/v1/chat/completions`, key);
      expect(status).toBe(413);
      expect(JSON.parse(text).error.code).toBe("request_too_large");
      // The server swallows at most 16 MiB after answering, then hangs up: the client could not send forever.
      expect(written).toBeLessThan(64 * 1024 * 1024);
      // Nothing of what was sent stays on the heap beyond the cap (8 MiB).
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(48 * 1024 * 1024);
      expect(sim.count()).toBe(0);
      // The server is still healthy.
      expect((await post("/chat/completions", chatBody())).status).toBe(200);
    });
  });

  describe("case 5: schema fuzz", () => {
    it("answers the listed bad values with 400 and param set, never 500, without calling upstream", async () => {
      const cases: Array<[string, string]> = [
        [chatBody({ temperature: "hot" }), "temperature"],
        [chatBody({ max_tokens: -1 }), "max_tokens"],
        [chatBody({ n: 1000 }), "n"],
        [JSON.stringify({ model: MODEL, messages: Array.from({ length: 100_000 }, () => ({ role: "user", content: "x" })) }), "messages"],
        // Raw JSON escapes: a lone surrogate and a NUL survive JSON.parse and must be refused by validation.
        [`{"model":"${MODEL}","messages":[{"role":"user","content":"bad \\ud800 surrogate"}]}`, "messages[0].content"],
        [`{"model":"${MODEL}","messages":[{"role":"user","content":"a\\u0000b"}]}`, "messages[0].content"],
      ];
      for (const [body, param] of cases) {
        const res = await post("/chat/completions", body);
        expect(res.status, param).toBe(400);
        expect((await res.json()).error).toMatchObject({ param, type: "invalid_request_error" });
      }
      // The same values on the other surfaces (the Anthropic envelope names the parameter in its message).
      const others: Array<[string, string, string]> = [
        ["/messages", anthropicBody({ temperature: "hot" }), "temperature"],
        ["/messages", anthropicBody({ max_tokens: -1 }), "max_tokens"],
        ["/messages", `{"model":"${MODEL}","max_tokens":8,"messages":[{"role":"user","content":"bad \\ud800 surrogate"}]}`, "messages[0].content"],
        ["/messages", `{"model":"${MODEL}","max_tokens":8,"messages":[{"role":"user","content":"a\\u0000b"}]}`, "messages[0].content"],
        ["/responses", JSON.stringify({ model: MODEL, input: "hi", temperature: "hot" }), "temperature"],
        ["/responses", JSON.stringify({ model: MODEL, input: "hi", max_output_tokens: -1 }), "max_output_tokens"],
        ["/responses", `{"model":"${MODEL}","input":"a\\u0000b"}`, "input"],
        ["/embeddings", `{"model":"sim-openai/sim-embed","input":"bad \\udfff surrogate"}`, "input"],
      ];
      for (const [path, body, param] of others) {
        const res = await post(path, body);
        const error = (await res.json()).error;
        expect(res.status, `${path} ${param}`).toBe(400);
        if (path === "/messages") expect(error.message, param).toContain(`'${param}'`);
        else expect(error, `${path} ${param}`).toMatchObject({ param, type: "invalid_request_error" });
      }
      expect(sim.count()).toBe(0);
    });

    it("never answers 5xx to arbitrary bodies over HTTP; every 400 from validation names its param (property)", async () => {
      const field = fc.constantFrom("model", "messages", "temperature", "max_tokens", "n", "stop", "tools", "tool_choice", "response_format", "stream", "top_p", "seed", "max_completion_tokens");
      const anything = fc.oneof(fc.jsonValue(), fc.string(), fc.integer(), fc.double(), fc.constant(null));
      await fc.assert(
        fc.asyncProperty(fc.dictionary(field, anything, { maxKeys: 4 }), fc.constantFrom("/chat/completions", "/messages", "/responses"), async (patch, path) => {
          const base = path === "/responses" ? { model: MODEL, input: "hi" } : { model: MODEL, max_tokens: 8, messages: [{ role: "user", content: "hi" }] };
          const res = await post(path, JSON.stringify({ ...base, ...patch }));
          const text = await res.text();
          expect(res.status, `${path} ${JSON.stringify(patch)} → ${text.slice(0, 200)}`).toBeLessThan(500);
          if (res.status === 400) {
            const error = JSON.parse(text).error;
            if (!["invalid_value", "unknown_parameter", "missing_required_parameter"].includes(error.code)) return;
            // The Anthropic envelope has no `param` field: its message names the parameter instead.
            if (path === "/messages") expect(error.message).toMatch(/^(Invalid value for '[^']+'|Missing required parameter: '[^']+'|Unrecognized request argument supplied: \S+)/);
            else expect(error.param).toBeTruthy();
          }
        }),
        { numRuns: 60 },
      );
    });
  });

  describe("case 6: steering the endpoint or credentials", () => {
    it("answers 400 forbidden_parameter naming the path, top-level and nested, on every surface, without calling upstream", async () => {
      const cases: Array<[string, string, string]> = [
        ["/chat/completions", chatBody({ api_base: "http://169.254.169.254/latest" }), "api_base"],
        ["/chat/completions", chatBody({ base_url: "http://127.0.0.1:9" }), "base_url"],
        ["/chat/completions", chatBody({ api_key: "sk-attacker-0123456789" }), "api_key"],
        ["/chat/completions", chatBody({ metadata: { base_url: "http://evil.example" } }), "metadata.base_url"],
        ["/chat/completions", chatBody({ extra_body: { nested: { "api-key": "sk-attacker-0123456789" } } }), "extra_body.nested.api-key"],
        ["/chat/completions", chatBody({ headers: { Authorization: "Bearer sk-attacker-0123456789" } }), "headers"],
        // Each provider's auth header pasted into the body: Anthropic, Gemini, a proxy's; top-level and nested.
        ["/chat/completions", chatBody({ "x-api-key": "sk-attacker-0123456789" }), "x-api-key"],
        ["/chat/completions", chatBody({ metadata: { "X-Api-Key": "sk-attacker-0123456789" } }), "metadata.X-Api-Key"],
        ["/chat/completions", chatBody({ metadata: { "x-goog-api-key": "sk-attacker-0123456789" } }), "metadata.x-goog-api-key"],
        ["/chat/completions", chatBody({ metadata: { "Proxy-Authorization": "Basic sk-attacker-0123456789" } }), "metadata.Proxy-Authorization"],
        ["/chat/completions", chatBody({ metadata: { azure_ad_token: "sk-attacker-0123456789" } }), "metadata.azure_ad_token"],
        ["/chat/completions", chatBody({ messages: [{ role: "user", content: "hi", api_key: "sk-attacker-0123456789" }] }), "messages.0.api_key"],
        ["/responses", JSON.stringify({ model: MODEL, input: "hi", api_base: "http://169.254.169.254" }), "api_base"],
        ["/embeddings", JSON.stringify({ model: "sim-openai/text-embedding-3-small", input: "hi", base_url: "http://127.0.0.1:1" }), "base_url"],
      ];
      for (const [path, body, param] of cases) {
        const res = await post(path, body);
        const text = await res.text();
        expect(res.status, `${path} ${param}`).toBe(400);
        expect(JSON.parse(text).error).toMatchObject({ code: "forbidden_parameter", param });
        expect(text).not.toContain("sk-attacker-0123456789");
      }
      for (const [extra, param] of [
        [{ metadata: { api_base: "http://169.254.169.254" } }, "metadata.api_base"],
        [{ "x-api-key": "sk-attacker-0123456789" }, "x-api-key"],
        [{ metadata: { user_id: "u", "x-api-key": "sk-attacker-0123456789" } }, "metadata.x-api-key"],
      ] as const) {
        const anthropic = await post("/messages", anthropicBody(extra));
        const text = await anthropic.text();
        expect(anthropic.status, param).toBe(400);
        const body = JSON.parse(text);
        expect(body).toMatchObject({ type: "error", error: { type: "invalid_request_error", code: "forbidden_parameter" } });
        expect(body.error.message).toContain(`'${param}'`);
        expect(text).not.toContain("sk-attacker-0123456789");
      }
      expect(sim.count()).toBe(0);
    });
  });

  describe("case 7: unknown or disallowed model", () => {
    it("answers 404 for another organization's policies and providers, and never lists them", async () => {
      const db = app.rt.db.prisma;
      const other = await db.organization.findUniqueOrThrow({ where: { slug: "other" } });
      await db.provider.create({
        data: { orgId: other.id, name: "rival-sim", kind: "simulator", baseUrl: `${sim.url}/openai/v1`, allowPrivate: true, config: { protocol: "openai" } },
      });
      await db.policy.create({ data: { orgId: other.id, name: "rival-secret-policy", document: { targets: [{ provider: "rival-sim", model: "sim-small" }] } } });
      await bumpConfigVersion(db);
      await app.rt.snapshot.refresh();
      await app.rt.snapshot.refresh();

      for (const model of ["rival-secret-policy", "rival-sim/sim-small", "no-such-model"]) {
        const res = await post("/chat/completions", chatBody({ model }));
        const text = await res.text();
        expect(res.status, model).toBe(404);
        expect(JSON.parse(text).error).toMatchObject({ code: "model_not_found", param: "model" });
        // Only the requested name may appear: nothing of the other organization's configuration.
        for (const leaked of ["rival-secret-policy", "rival-sim"]) if (!model.includes(leaked)) expect(text).not.toContain(leaked);
        expect(text).not.toContain("sim-openai");
      }
      const listed = await (await fetch(`${app.url}/api/v1/models`, { headers: { authorization: `Bearer ${key}` } })).text();
      expect(listed).toContain("sim-openai/");
      expect(listed).not.toContain("rival");
      expect((await fetch(`${app.url}/api/v1/models/rival-secret-policy`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(404);
      expect(sim.count()).toBe(0);
    });

    it("answers 403 model_not_allowed outside the key's allow-list, without listing what it may use", async () => {
      const limited = await createApiKey(app.rt.db.prisma, { ...tenant, name: "limited", allowedModels: ["sim-openai/sim-secret-allowed"] });
      const res = await post("/chat/completions", chatBody({ model: "sim-anthropic/sim-claude" }), { authorization: `Bearer ${limited.key}` });
      const text = await res.text();
      expect(res.status).toBe(403);
      expect(JSON.parse(text).error).toMatchObject({ code: "model_not_allowed", param: "model" });
      expect(text).not.toContain("sim-secret-allowed");
      // The Anthropic surface, in its envelope.
      const refused = await post("/messages", anthropicBody({ model: "sim-anthropic/sim-claude" }), { authorization: "", "x-api-key": limited.key });
      const refusedText = await refused.text();
      expect(refused.status).toBe(403);
      expect(JSON.parse(refusedText)).toMatchObject({ type: "error", error: { type: "permission_error", code: "model_not_allowed" } });
      expect(refusedText).not.toContain("sim-secret-allowed");
      const unknown = await post("/messages", anthropicBody({ model: "rival-secret-policy" }));
      const unknownText = await unknown.text();
      expect(unknown.status).toBe(404);
      expect(JSON.parse(unknownText)).toMatchObject({ type: "error", error: { type: "not_found_error", code: "model_not_found" } });
      expect(unknownText).not.toContain("rival-sim");
      expect(sim.count()).toBe(0);
    });
  });
});

/** POST with node:http (no Content-Type unless given; optionally never finishing the body). */
function rawPost(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
  options: { endBody?: boolean } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, text });
        req.destroy();
      });
    });
    req.on("error", reject);
    req.write(body);
    if (options.endBody !== false) req.end();
  });
}

/** Streams a chunked body of spaces until the server answers or hangs up; returns the answer and bytes written. */
function endlessChunkedPost(url: string, key: string): Promise<{ status: number; text: string; written: number }> {
  return new Promise((resolve, reject) => {
    let written = 0;
    let answer: { status: number; text: string } | null = null;
    let done = false;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const finish = () => {
      if (done) return;
      done = true;
      if (answer) resolve({ ...answer, written });
      else reject(new Error(`no answer after ${written} bytes`));
    };
    const req = http.request(url, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => {
        answer = { status: res.statusCode ?? 0, text };
        req.destroy();
        finish();
      });
    });
    req.on("error", () => finish());
    req.on("close", () => setTimeout(finish, 50));
    const pump = () => {
      while (!done && !req.destroyed && written < 256 * 1024 * 1024) {
        written += chunk.length;
        if (!req.write(chunk)) {
          req.once("drain", pump);
          return;
        }
      }
    };
    pump();
  });
}
