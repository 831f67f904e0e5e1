import { Prisma } from "../db/generated/client";
import { describe, expect, it } from "vitest";
import { buildCatalog } from "./catalog";
import { applyOverrides, type ModelOverrideRow } from "./overrides";

const base = buildCatalog({
  openai: {
    models: {
      "gpt-4o": { name: "GPT-4o", tool_call: true, cost: { input: 2.5, output: 10, cache_read: 1.25 }, limit: { context: 128000, output: 16384 } },
    },
  },
  azure: { models: { "gpt-4o": { name: "GPT-4o (Azure)", cost: { input: 2.5, output: 10 } } } },
  deepseek: { models: { "deepseek-chat": { name: "DeepSeek Chat", cost: { input: 0.27, output: 1.1 } } } },
  anthropic: { models: { "claude-sonnet-4-20250514": { cost: { input: 3, output: 15 } } } },
});

const providers = [
  { id: "prov-openai", kind: "openai" },
  { id: "prov-openai-2", kind: "openai" },
  { id: "prov-vllm", kind: "deepseek" },
  { id: "prov-odd", kind: "cohere" },
];

const row = (r: Partial<ModelOverrideRow> & Pick<ModelOverrideRow, "modelId">): ModelOverrideRow => ({
  providerId: null,
  capabilities: {},
  enabled: true,
  custom: false,
  ...r,
});

describe("applyOverrides", () => {
  it("scopes a provider's negotiated prices to that provider, re-deriving batch prices, accepting Prisma.Decimal", () => {
    const catalog = applyOverrides(
      base,
      [row({ providerId: "prov-openai", modelId: "gpt-4o", inputPrice: new Prisma.Decimal("2.0000000000"), outputPrice: "8.5" })],
      providers,
    );
    const scoped = catalog.get("openai", "gpt-4o", { providerId: "prov-openai" });
    expect(scoped).toMatchObject({
      providerId: "prov-openai",
      overridden: true,
      source: "dataset",
      name: "GPT-4o",
      contextWindow: 128000,
      prices: { input: "2", output: "8.5", cacheRead: "1.25", batchInput: "1", batchOutput: "4.25", batchCacheRead: "0.625" },
      derivedPrices: ["batchInput", "batchOutput", "batchCacheRead"],
    });
    // Other accounts of the same kind, and lookups without a provider, keep the catalog price.
    expect(catalog.get("openai", "gpt-4o", { providerId: "prov-openai-2" })?.prices.input).toBe("2.5");
    expect(catalog.get("openai", "gpt-4o")?.prices.input).toBe("2.5");
    expect(catalog.list({ providerId: "prov-openai" })).toEqual([scoped]);
    expect(base.get("openai", "gpt-4o", { providerId: "prov-openai" })?.prices.input).toBe("2.5");
  });

  it("keeps explicit batch prices and marks only the rest derived", () => {
    const catalog = applyOverrides(
      base,
      [row({ providerId: "prov-openai", modelId: "gpt-4o", batchInputPrice: "1.1" })],
      providers,
    );
    const model = catalog.get("openai", "gpt-4o", { providerId: "prov-openai" });
    expect(model?.prices).toMatchObject({ batchInput: "1.1", batchOutput: "5", batchCacheRead: "0.625" });
    expect(model?.derivedPrices).toEqual(["batchOutput", "batchCacheRead"]);
  });

  it("applies a provider-less row to the model id under every kind", () => {
    const catalog = applyOverrides(
      base,
      [row({ modelId: "gpt-4o", displayName: "GPT-4o (contract)", cacheWritePrice: "3", contextWindow: 64000 })],
      providers,
    );
    for (const kind of ["openai", "azure-openai"]) {
      expect(catalog.get(kind, "gpt-4o")).toMatchObject({
        name: "GPT-4o (contract)",
        contextWindow: 64000,
        overridden: true,
        providerId: null,
        prices: { cacheWrite: "3" },
      });
    }
    expect(catalog.get("openai", "gpt-4o")?.prices.batchCacheWrite).toBe("1.5");
    expect(catalog.get("azure-openai", "gpt-4o")?.prices.batchCacheWrite).toBeUndefined();
  });

  it("layers provider rows over provider-less ones", () => {
    const catalog = applyOverrides(
      base,
      [
        row({ providerId: "prov-openai", modelId: "gpt-4o", outputPrice: "9" }),
        row({ modelId: "gpt-4o", inputPrice: "2.25" }),
      ],
      providers,
    );
    expect(catalog.get("openai", "gpt-4o", { providerId: "prov-openai" })?.prices).toMatchObject({ input: "2.25", output: "9" });
  });

  it("adds custom models for a provider, with default capabilities under its own", () => {
    const catalog = applyOverrides(
      base,
      [
        row({
          providerId: "prov-vllm",
          modelId: "llama-3.3-70b",
          custom: true,
          displayName: "Llama 3.3 70B (self-hosted)",
          inputPrice: "0",
          outputPrice: "0.0000001",
          maxOutput: 4096,
          capabilities: { tools: true },
        }),
      ],
      providers,
    );
    expect(catalog.get("deepseek", "llama-3.3-70b", { providerId: "prov-vllm" })).toMatchObject({
      source: "custom",
      name: "Llama 3.3 70B (self-hosted)",
      prices: { input: "0", output: "0.0000001" },
      derivedPrices: [],
      contextWindow: null,
      maxOutput: 4096,
      capabilities: { tools: true, vision: false, json: false, reasoning: false, streaming: true, embeddings: false },
    });
    expect(catalog.issues).toEqual(base.issues);
  });

  it("corrects capabilities and disables models", () => {
    const catalog = applyOverrides(
      base,
      [row({ providerId: "prov-openai", modelId: "gpt-4o", capabilities: { streaming: false, json: false }, enabled: false })],
      providers,
    );
    const model = catalog.get("openai", "gpt-4o", { providerId: "prov-openai" });
    expect(model).toMatchObject({ enabled: false, capabilities: { tools: true, streaming: false, json: false } });
    expect(catalog.list({ providerId: "prov-openai" })).toEqual([]);
    expect(catalog.list({ providerId: "prov-openai", includeDisabled: true })).toEqual([model]);
  });

  it("skips rows it cannot apply and reports why, keeping the rest", () => {
    const catalog = applyOverrides(
      base,
      [
        row({ modelId: "unknown-model", custom: true, inputPrice: "1", outputPrice: "2" }),
        row({ providerId: "prov-missing", modelId: "gpt-4o", inputPrice: "1" }),
        row({ providerId: "prov-odd", modelId: "command-r", inputPrice: "1", outputPrice: "2" }),
        row({ providerId: "prov-vllm", modelId: "no-prices", custom: true, inputPrice: "1" }),
        row({ providerId: "prov-openai", modelId: "gpt-4o", inputPrice: "-1" }),
        row({ providerId: "prov-openai-2", modelId: "gpt-4o", capabilities: { tools: "yes" } }),
        row({ providerId: "prov-vllm", modelId: "deepseek-chat", outputPrice: "1.0" }),
      ],
      providers,
    );
    expect(catalog.issues.slice(base.issues.length)).toEqual([
      "override unknown-model: not in the catalog; a custom model needs a provider",
      "override gpt-4o: provider prov-missing is unknown",
      'override command-r: provider prov-odd is of unsupported kind "cohere"',
      "override no-prices: not in the catalog, and a custom model needs input and output prices",
      "override gpt-4o: input price must not be negative",
      "override gpt-4o: capabilities must be an object of booleans",
    ]);
    expect(catalog.get("deepseek", "deepseek-chat", { providerId: "prov-vllm" })?.prices.output).toBe("1");
    expect(catalog.get("openai", "gpt-4o", { providerId: "prov-openai" })?.overridden).toBe(false);
  });
});
