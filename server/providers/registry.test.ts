import { describe, expect, it } from "vitest";
import { AppError } from "../gateway/errors";
import { REPRESENTATIVE_REQUEST, TEST_KEY } from "./adapter.contract";
import { getAdapter, isProviderKind, parseProviderConfig, protocolTarget, PROVIDERS } from "./registry";
import { PROVIDER_KINDS, type ChatRequest, type UpstreamTarget } from "./types";

describe("provider registry", () => {
  it("defines every kind, with an adapter that builds a request", () => {
    expect(PROVIDER_KINDS.length).toBeGreaterThanOrEqual(15);
    for (const kind of PROVIDER_KINDS) {
      const definition = PROVIDERS[kind];
      expect(definition.kind).toBe(kind);
      expect(definition.label).not.toBe("");
      const adapter = getAdapter(kind);
      expect(adapter.protocol).toBe(definition.protocol === "config" ? "openai" : definition.protocol);
      expect(Boolean(adapter.embeddings)).toBe(definition.embeddings);
      const baseUrl = definition.defaultBaseUrl ?? "https://self-hosted.example/v1";
      expect(() => new URL(baseUrl)).not.toThrow();
      const simple: ChatRequest = { model: "m", messages: [{ role: "user", content: "Hi" }] };
      const spec = adapter.buildRequest(simple, { kind, baseUrl, apiKey: TEST_KEY, model: "x" });
      expect(spec.url.startsWith(baseUrl.replace(/\/+$/, ""))).toBe(true);
    }
  });

  it("uses HTTPS for every hosted default and plain HTTP only for local servers", () => {
    for (const definition of Object.values(PROVIDERS)) {
      if (!definition.defaultBaseUrl) continue;
      const url = new URL(definition.defaultBaseUrl);
      expect(url.protocol === "https:" || url.hostname === "localhost").toBe(true);
    }
  });

  it("returns cached, stateless adapters", () => {
    expect(getAdapter("groq")).toBe(getAdapter("groq"));
    expect(getAdapter("simulator", { protocol: "gemini" })).toBe(getAdapter("simulator", { protocol: "gemini" }));
    expect(getAdapter("simulator", { protocol: "gemini" })).not.toBe(getAdapter("simulator", { protocol: "anthropic" }));
  });

  it("rejects an unknown kind", () => {
    expect(isProviderKind("openai")).toBe(true);
    expect(isProviderKind("bedrock")).toBe(false);
    expect(() => getAdapter("bedrock" as never)).toThrow(AppError);
  });
});

describe("simulator kind", () => {
  const target = (baseUrl: string): UpstreamTarget => ({ kind: "simulator", baseUrl, apiKey: TEST_KEY, model: "sim-model" });

  it("speaks the configured protocol under the simulator's mount for it", () => {
    const openai = getAdapter("simulator", {}).buildRequest(REPRESENTATIVE_REQUEST, target("http://127.0.0.1:4010"));
    expect(openai.url).toBe("http://127.0.0.1:4010/openai/v1/chat/completions");
    expect(openai.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
    const anthropic = getAdapter("simulator", { protocol: "anthropic" }).buildRequest(REPRESENTATIVE_REQUEST, target("http://127.0.0.1:4010/"));
    expect(anthropic.url).toBe("http://127.0.0.1:4010/anthropic/v1/messages");
    expect(anthropic.headers["x-api-key"]).toBe(TEST_KEY);
    const gemini = getAdapter("simulator", { protocol: "gemini" });
    expect(gemini.protocol).toBe("gemini");
    expect(gemini.buildRequest({ ...REPRESENTATIVE_REQUEST, stream: true }, target("http://127.0.0.1:4010")).url).toBe(
      "http://127.0.0.1:4010/gemini/v1beta/models/sim-model:streamGenerateContent?alt=sse",
    );
    expect(gemini.embeddings!.buildRequest({ model: "e", input: "x" }, target("http://127.0.0.1:4010")).url).toBe(
      "http://127.0.0.1:4010/gemini/v1beta/models/sim-model:embedContent",
    );
  });

  it("does not append the mount twice when the admin entered it", () => {
    const spec = getAdapter("simulator", { protocol: "anthropic" }).buildRequest(REPRESENTATIVE_REQUEST, target("http://127.0.0.1:4010/anthropic/v1"));
    expect(spec.url).toBe("http://127.0.0.1:4010/anthropic/v1/messages");
  });

  it("gives other clients of the provider's API (batch endpoints) the same base URL as the chat adapter", () => {
    for (const protocol of ["openai", "anthropic", "gemini"] as const) {
      for (const base of ["http://127.0.0.1:4010", "http://127.0.0.1:4010/"]) {
        const t = { ...target(base), config: { protocol } };
        const chatUrl = getAdapter("simulator", { protocol }).buildRequest(REPRESENTATIVE_REQUEST, t).url;
        expect(chatUrl.startsWith(`${protocolTarget(t).baseUrl}/`)).toBe(true);
      }
    }
    expect(protocolTarget({ ...target("http://127.0.0.1:4010"), config: { protocol: "gemini" } }).baseUrl).toBe("http://127.0.0.1:4010/gemini/v1beta");
    expect(protocolTarget(target("http://127.0.0.1:4010/openai/v1/")).baseUrl).toBe("http://127.0.0.1:4010/openai/v1/");
    const openai: UpstreamTarget = { kind: "openai", baseUrl: "https://api.openai.com/v1", model: "gpt-4o" };
    expect(protocolTarget(openai)).toBe(openai);
  });
});

describe("provider config", () => {
  it("accepts non-secret settings and strips unknown keys", () => {
    expect(
      parseProviderConfig({ apiVersion: "2024-10-21", deployment: "gpt-4o", headers: { "anthropic-beta": "context-1m-2025-08-07" }, other: 1 }),
    ).toEqual({ apiVersion: "2024-10-21", deployment: "gpt-4o", headers: { "anthropic-beta": "context-1m-2025-08-07" } });
    expect(parseProviderConfig(undefined)).toEqual({});
    expect(parseProviderConfig({ protocol: "gemini" })).toEqual({ protocol: "gemini" });
  });

  it("refuses credential headers, bad header names and unknown protocols", () => {
    for (const raw of [{ headers: { Authorization: "Bearer x" } }, { headers: { "X-Goog-Api-Key": "k" } }, { headers: { "bad name": "v" } }, { protocol: "bedrock" }]) {
      expect(() => parseProviderConfig(raw)).toThrow(AppError);
    }
    let thrown: unknown;
    try {
      parseProviderConfig({ headers: { "api-key": "k" } });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ status: 400, code: "invalid_provider_config", options: { param: "config" } });
  });
});
