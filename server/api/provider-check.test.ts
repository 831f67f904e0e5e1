import { describe, expect, it } from "vitest";
import { getAdapter } from "../providers/registry";
import type { Protocol } from "../providers/types";
import { modelsRequest, SIMULATOR_MOUNTS } from "./provider-check";

describe("modelsRequest", () => {
  it("mounts the simulator where its adapter does", () => {
    for (const protocol of Object.keys(SIMULATOR_MOUNTS) as Protocol[]) {
      const chat = getAdapter("simulator", { protocol }).buildRequest(
        { model: "m", messages: [{ role: "user", content: "hi" }] } as never,
        { kind: "simulator", baseUrl: "http://sim:1", model: "m", config: { protocol } },
      );
      expect(chat.url.startsWith(`http://sim:1${SIMULATOR_MOUNTS[protocol]}/`)).toBe(true);
      expect(modelsRequest({ kind: "simulator", baseUrl: "http://sim:1", apiKey: null, allowPrivate: true, config: { protocol } }).url).toBe(
        `http://sim:1${SIMULATOR_MOUNTS[protocol]}/models`,
      );
    }
  });

  it("sends each kind's auth header and endpoint", () => {
    const key = "sk-test-0000000000000000";
    const target = (kind: "openai" | "anthropic" | "gemini" | "azure-openai", baseUrl: string, config = {}) =>
      modelsRequest({ kind, baseUrl, apiKey: key, allowPrivate: false, config });
    expect(target("openai", "https://api.openai.com/v1/")).toMatchObject({ url: "https://api.openai.com/v1/models", headers: { authorization: `Bearer ${key}` } });
    expect(target("anthropic", "https://api.anthropic.com/v1")).toMatchObject({ url: "https://api.anthropic.com/v1/models", headers: { "x-api-key": key, "anthropic-version": "2023-06-01" } });
    expect(target("gemini", "https://generativelanguage.googleapis.com/v1beta")).toMatchObject({ headers: { "x-goog-api-key": key } });
    expect(target("azure-openai", "https://res.openai.azure.com", { apiVersion: "2024-06-01" })).toMatchObject({
      url: "https://res.openai.azure.com/openai/models?api-version=2024-06-01",
      headers: { "api-key": key },
    });
  });
});
