import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { rejection } from "../testing/app-error";
import { TEST_KEY } from "./adapter.contract";
import { sse } from "./fixtures/openai";
import { isChatResponseShape, responseSchema } from "./openai";
import { getAdapter } from "./registry";
import { UpstreamError, type ChatChunk, type ChatRequest, type ProviderKind, type UpstreamTarget } from "./types";

const hello: ChatRequest = { model: "m", messages: [{ role: "user", content: "Hi" }] };

function targetFor(kind: ProviderKind, extra: Partial<UpstreamTarget> = {}): UpstreamTarget {
  return { kind, baseUrl: "https://upstream.example/v1", apiKey: TEST_KEY, model: "model-x", ...extra };
}

function body(kind: ProviderKind, req: ChatRequest, dropParams?: string[]): Record<string, unknown> {
  const options = dropParams ? { dropParams: new Set(dropParams) } : undefined;
  return JSON.parse(getAdapter(kind).buildRequest(req, targetFor(kind), options).body) as Record<string, unknown>;
}

function stream(kind: ProviderKind, chunks: unknown[], done = true): { chunks: ChatChunk[]; finished: boolean; usage: unknown } {
  const parser = getAdapter(kind).createStreamParser(targetFor(kind));
  const events = done ? sse(chunks) : sse(chunks).slice(0, -1);
  const out = events.flatMap((e) => parser.push(e));
  const finished = parser.finished();
  return { chunks: [...out, ...parser.end()], finished, usage: parser.usage() };
}

const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: "c1",
  object: "chat.completion.chunk",
  created: 1,
  model: "model-x",
  choices: [{ index: 0, delta, finish_reason: null }],
  ...extra,
});

describe("OpenAI-protocol requests", () => {
  it("always asks for stream usage where the provider supports it, keeping the client's other options", () => {
    expect(body("openai", { ...hello, stream: true, stream_options: { include_obfuscation: false } })).toMatchObject({
      stream: true,
      stream_options: { include_obfuscation: false, include_usage: true },
    });
    expect(body("openai", { ...hello, stream: false, stream_options: { include_usage: true } })).not.toHaveProperty("stream_options");
    expect(body("mistral", { ...hello, stream: true })).not.toHaveProperty("stream_options");
  });

  it("strips Switchyard's extensions from messages", () => {
    const b = body("openai", {
      model: "m",
      messages: [
        { role: "user", content: [{ type: "text", text: "Long", cache_control: { type: "ephemeral" } }] },
        { role: "assistant", content: "Ok", reasoning_content: "thought" },
      ],
    });
    expect(b.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Long" }] },
      { role: "assistant", content: "Ok" },
    ]);
  });

  it("keeps developer messages for OpenAI and sends them as system to compatible providers", () => {
    const req: ChatRequest = { model: "m", messages: [{ role: "developer", content: "Be brief." }] };
    expect(body("openai", req).messages).toEqual([{ role: "developer", content: "Be brief." }]);
    expect(body("together", req).messages).toEqual([{ role: "system", content: "Be brief." }]);
  });

  it("sends one output cap: max_completion_tokens wins when both are given", () => {
    expect(body("openai", { ...hello, max_tokens: 10, max_completion_tokens: 20 })).toMatchObject({ max_completion_tokens: 20 });
    expect(body("openai", { ...hello, max_tokens: 10 })).not.toHaveProperty("max_tokens");
    expect(body("vllm", { ...hello, max_completion_tokens: 20 })).toMatchObject({ max_tokens: 20 });
  });

  it("passes vendor extensions through to OpenAI-protocol upstreams", () => {
    expect(body("vllm", { ...hello, top_k: 40, repetition_penalty: 1.1 } as ChatRequest)).toMatchObject({ top_k: 40, repetition_penalty: 1.1 });
  });

  it("drops OpenAI-platform metadata for compatible providers but not for OpenAI", () => {
    const req: ChatRequest = { ...hello, store: true, metadata: { team: "a" }, prompt_cache_key: "k", user: "u" };
    expect(body("openai", req)).toMatchObject({ store: true, metadata: { team: "a" }, prompt_cache_key: "k", user: "u" });
    const compat = body("fireworks", req);
    expect(compat).not.toHaveProperty("store");
    expect(compat).not.toHaveProperty("metadata");
    expect(compat).not.toHaveProperty("prompt_cache_key");
    expect(compat.user).toBe("u");
  });

  it("applies provider quirks: Mistral, Groq, DeepSeek, Perplexity, Cerebras, Ollama", () => {
    expect(body("mistral", { ...hello, seed: 7, tool_choice: "required", tools: [{ type: "function", function: { name: "a" } }] })).toMatchObject({
      random_seed: 7,
      tool_choice: "any",
    });
    expect(body("mistral", { ...hello, seed: 7 })).not.toHaveProperty("seed");
    expect(rejection(() => body("groq", { ...hello, n: 2 })).options.param).toBe("n");
    expect(body("groq", { ...hello, n: 1 })).not.toHaveProperty("n");
    expect(body("groq", { model: "m", messages: [{ role: "user", content: "Hi", name: "ann" }] }).messages).toEqual([
      { role: "user", content: "Hi" },
    ]);
    expect(rejection(() => body("deepseek", { ...hello, response_format: { type: "json_schema", json_schema: { name: "x" } } })).options.param).toBe(
      "response_format",
    );
    expect(body("deepseek", { ...hello, response_format: { type: "json_object" } })).toMatchObject({ response_format: { type: "json_object" } });
    expect(rejection(() => body("perplexity", { ...hello, tools: [{ type: "function", function: { name: "a" } }] })).options.param).toBe("tools");
    expect(rejection(() => body("cerebras", { ...hello, parallel_tool_calls: false })).options.param).toBe("parallel_tool_calls");
    expect(body("cerebras", { ...hello, max_tokens: 5 })).toMatchObject({ max_completion_tokens: 5 });
    expect(rejection(() => body("ollama", { ...hello, tool_choice: "required" })).options.param).toBe("tool_choice");
    expect(body("ollama", { ...hello, tool_choice: "auto" })).not.toHaveProperty("tool_choice");
    expect(rejection(() => body("together", { ...hello, functions: [{ name: "f" }] })).options.param).toBe("functions");
  });

  it("builds Azure deployment URLs with the api-key header", () => {
    const adapter = getAdapter("azure-openai");
    const target = targetFor("azure-openai", { baseUrl: "https://contoso.openai.azure.com/", model: "gpt-4o" });
    const spec = adapter.buildRequest(hello, target);
    expect(spec.url).toBe("https://contoso.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21");
    expect(spec.headers["api-key"]).toBe(TEST_KEY);
    expect(spec.headers.authorization).toBeUndefined();
    const custom = adapter.buildRequest(hello, { ...target, config: { deployment: "prod 4o", apiVersion: "2025-04-01-preview" } });
    expect(custom.url).toBe("https://contoso.openai.azure.com/openai/deployments/prod%204o/chat/completions?api-version=2025-04-01-preview");
    const embed = adapter.embeddings!.buildRequest({ model: "e", input: "x" }, { ...target, config: { deployment: "emb" } });
    expect(embed.url).toBe("https://contoso.openai.azure.com/openai/deployments/emb/embeddings?api-version=2024-10-21");
  });

  it("adds configured headers but never lets them replace auth", () => {
    const spec = getAdapter("openai").buildRequest(
      hello,
      targetFor("openai", { config: { headers: { "OpenAI-Organization": "org-1", Authorization: "Bearer stolen" } } }),
    );
    expect(spec.headers["openai-organization"]).toBe("org-1");
    expect(spec.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
    const keyless = getAdapter("ollama").buildRequest(hello, { ...targetFor("ollama"), apiKey: undefined });
    expect(keyless.headers).toEqual({ "content-type": "application/json" });
  });
});

describe("OpenAI-protocol responses and streams", () => {
  it("counts xAI reasoning tokens into the output", () => {
    const response = getAdapter("xai").parseResponse(
      {
        id: "x",
        object: "chat.completion",
        created: 1,
        model: "grok-3-mini",
        choices: [{ index: 0, message: { role: "assistant", content: "1" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 10120, completion_tokens: 1499, total_tokens: 14428, prompt_tokens_details: { cached_tokens: 128 }, completion_tokens_details: { reasoning_tokens: 2809 } },
      },
      targetFor("xai"),
    );
    expect(response.usage).toMatchObject({ prompt_tokens: 10120, completion_tokens: 4308, total_tokens: 14428 });
  });

  it("moves OpenRouter's reasoning field to reasoning_content, in responses and deltas", () => {
    const response = getAdapter("openrouter").parseResponse(
      { id: "o", created: 1, model: "x", choices: [{ index: 0, message: { role: "assistant", content: "A", reasoning: "R" }, finish_reason: "stop" }] },
      targetFor("openrouter"),
    );
    expect(response.choices[0]!.message).toEqual({ role: "assistant", content: "A", refusal: null, reasoning_content: "R" });
    const { chunks } = stream("openrouter", [chunk({ role: "assistant", reasoning: "think" }), chunk({ content: "A" })]);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: "assistant", reasoning_content: "think" });
  });

  it("reads Groq's x_groq usage and emits exactly one usage chunk", () => {
    const usage = { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 };
    const { chunks, usage: normalized } = stream("groq", [
      chunk({ role: "assistant", content: "" }),
      chunk({ content: "Yo" }),
      { ...chunk({}), choices: [{ index: 0, delta: {}, finish_reason: "stop" }], x_groq: { id: "req_1", usage } },
    ]);
    expect(normalized).toEqual({ input: 9, cachedInput: 0, cacheWrite: 0, output: 3, reasoning: 0 });
    expect(chunks.filter((c) => c.usage)).toHaveLength(1);
    expect(chunks.at(-1)!.usage).toMatchObject(usage);
    expect(JSON.stringify(chunks)).not.toContain("x_groq");
  });

  it("flushes usage at the end of a stream that never sent [DONE], and reports it unfinished", () => {
    const { chunks, finished } = stream(
      "openai",
      [chunk({ content: "partial" }), { ...chunk({}), choices: [], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } }],
      false,
    );
    expect(finished).toBe(false);
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 1 });
  });

  it("normalizes missing and unknown finish reasons", () => {
    const parse = (finish_reason: unknown) =>
      getAdapter("vllm").parseResponse({ choices: [{ message: { content: "x" }, finish_reason }] }, targetFor("vllm")).choices[0]!;
    expect(parse("model_length").finish_reason).toBe("length");
    expect(parse(null).finish_reason).toBe("stop");
    const filled = getAdapter("vllm").parseResponse({ choices: [{ message: { content: "x" } }] }, targetFor("vllm"));
    expect(filled).toMatchObject({ object: "chat.completion", model: "model-x", choices: [{ index: 0, message: { role: "assistant", content: "x", refusal: null } }] });
  });

  it("throws the classified error for an error object inside a stream", () => {
    const parser = getAdapter("vllm").createStreamParser(targetFor("vllm"));
    let thrown: unknown;
    try {
      parser.push({ data: JSON.stringify({ error: { message: "This model's maximum context length is 4096 tokens.", type: "BadRequestError", code: 400 } }) });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UpstreamError);
    expect(thrown).toMatchObject({ kind: "context_length", status: 400 });
  });

  it("classifies Ollama's plain error strings and insufficient quota", () => {
    const ollama = getAdapter("ollama").classifyError(404, JSON.stringify({ error: 'model "llama9" not found, try pulling it first' }), new Headers());
    expect(ollama).toMatchObject({ kind: "not_found", message: 'model "llama9" not found, try pulling it first' });
    const quota = getAdapter("openai").classifyError(
      429,
      JSON.stringify({ error: { message: "You exceeded your current quota, please check your plan and billing details.", type: "insufficient_quota", code: "insufficient_quota" } }),
      new Headers(),
    );
    expect(quota).toMatchObject({ kind: "auth", status: 429, providerCode: "insufficient_quota" });
  });
});

describe("OpenAI-protocol embeddings", () => {
  it("builds /embeddings with the target model and parses the list", () => {
    const adapter = getAdapter("openai");
    const target = targetFor("openai", { model: "text-embedding-3-small" });
    const spec = adapter.embeddings!.buildRequest({ model: "alias", input: ["a", "b"], dimensions: 256, encoding_format: "float", user: "u" }, target);
    expect(spec.url).toBe("https://upstream.example/v1/embeddings");
    expect(JSON.parse(spec.body)).toEqual({ model: "text-embedding-3-small", input: ["a", "b"], dimensions: 256, encoding_format: "float", user: "u" });
    const parsed = adapter.embeddings!.parseResponse(
      {
        object: "list",
        data: [
          { object: "embedding", index: 0, embedding: [0.1, 0.2] },
          { object: "embedding", index: 1, embedding: [0.3, 0.4] },
        ],
        model: "text-embedding-3-small",
        usage: { prompt_tokens: 2, total_tokens: 2 },
      },
      target,
      { model: "alias", input: ["a", "b"] },
    );
    expect(parsed.data.map((d) => d.embedding)).toEqual([[0.1, 0.2], [0.3, 0.4]]);
    expect(parsed.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
  });

  it("exists only where the provider serves embeddings", () => {
    expect(getAdapter("groq").embeddings).toBeUndefined();
    expect(getAdapter("anthropic").embeddings).toBeUndefined();
    expect(getAdapter("mistral").embeddings).toBeDefined();
  });
});

describe("OpenAI chat response shape check (hand-written, replaces zod on the hot path)", () => {
  // Arbitrary JSON-ish values biased towards near-valid responses, so both sides of every rule get exercised.
  const scalar = fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
  const anyValue = fc.oneof(scalar, fc.array(scalar, { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 2 }), scalar, { maxKeys: 2 }));
  const maybe = <T,>(arb: fc.Arbitrary<T>) => fc.option(fc.oneof(arb, anyValue), { nil: undefined });
  const choice = fc.oneof(
    anyValue,
    fc.record(
      {
        index: maybe(fc.nat()),
        message: fc.oneof(fc.constant({ role: "assistant", content: "hi" }), anyValue),
        finish_reason: maybe(fc.constantFrom("stop", "length", null)),
        logprobs: maybe(fc.constant(null)),
      },
      { requiredKeys: [] },
    ),
  );
  const response = fc.oneof(
    anyValue,
    fc.record(
      {
        id: maybe(fc.string()),
        created: maybe(fc.nat()),
        model: maybe(fc.string()),
        choices: fc.oneof(fc.array(choice, { maxLength: 3 }), anyValue),
        usage: maybe(fc.oneof(fc.constant(null), fc.constant({ prompt_tokens: 1 }))),
        extra: maybe(fc.string()),
      },
      { requiredKeys: [] },
    ),
  );

  it("accepts exactly what the zod schema accepts", () => {
    fc.assert(
      fc.property(response, (json) => {
        expect(isChatResponseShape(json)).toBe(responseSchema.safeParse(json).success);
      }),
      { numRuns: 3000 },
    );
  });

  it("still refuses malformed upstream answers with a 502-class error", () => {
    const adapter = getAdapter("openai");
    for (const bad of [null, [], { choices: "no" }, { choices: [{ message: [] }] }, { choices: [{ message: {}, index: "0" }] }, { id: 5, choices: [] }]) {
      expect(() => adapter.parseResponse(bad, targetFor("openai"))).toThrow(UpstreamError);
    }
    const ok = adapter.parseResponse({ choices: [{ message: { content: "hi" }, finish_reason: "stop" }] }, targetFor("openai"));
    expect(ok.choices[0]!.message.content).toBe("hi");
  });
});
