/**
 * Provider kinds: defaults, auth style and quirks, as data. OpenAI-protocol kinds are the OpenAI adapter with a
 * flavor (openai.ts); quirks come from each provider's compatibility documentation (e.g. Groq answers 400 to
 * logprobs / logit_bias / n > 1; DeepSeek reports cache reads as `prompt_cache_hit_tokens`; xAI counts reasoning
 * outside `completion_tokens`). `getAdapter(kind, config)` returns the adapter for one provider.
 */
import { z } from "zod";
import { AppError } from "../gateway/errors";
import type { BuildOptions, HttpRequestSpec, ProviderAdapter } from "./adapter";
import { createAnthropicAdapter } from "./anthropic";
import { createGeminiAdapter } from "./gemini";
import { createOpenAIAdapter, joinUrl, OPENAI_FLAVOR, RESERVED_HEADERS, type AuthStyle, type OpenAIFlavor } from "./openai";
import { type ChatParam, type Protocol, type ProviderConfig, type ProviderKind, type UpstreamTarget } from "./types";

export interface ProviderDefinition {
  kind: ProviderKind;
  label: string;
  /** The wire protocol; `config` for the simulator, whose `config.protocol` chooses (default openai). */
  protocol: Protocol | "config";
  /** Prefilled in the admin UI; null when it is specific to each installation (Azure resource, self-hosted). */
  defaultBaseUrl: string | null;
  auth: AuthStyle;
  /** Whether requests need an API key (self-hosted servers usually run without one). */
  requiresKey: boolean;
  embeddings: boolean;
  /** OpenAI-protocol kinds only: how the provider deviates from OpenAI. */
  flavor?: OpenAIFlavor;
}

/** What the OpenAI-compatible family shares unless a provider says otherwise. */
const COMPAT: Omit<OpenAIFlavor, "label"> = {
  auth: "bearer",
  endpoint: "standard",
  maxTokensField: "max_tokens",
  streamOptions: true,
  developerRole: false,
  messageName: true,
  jsonSchema: true,
  toolChoiceRequired: "required",
  embeddings: false,
  drop: {
    metadata: "OpenAI stored-completion tags",
    store: "OpenAI stored completions",
    service_tier: "OpenAI processing tiers",
    prompt_cache_key: "OpenAI prompt-cache routing key",
    prompt_cache_retention: "OpenAI prompt-cache retention",
    safety_identifier: "OpenAI abuse-monitoring identifier",
  },
  reject: {
    audio: "audio output is an OpenAI feature",
    modalities: "only text output is available",
    prediction: "predicted outputs are an OpenAI feature",
    web_search_options: "the OpenAI web search options are not available",
    verbosity: "verbosity control is an OpenAI feature",
    functions: "the deprecated functions parameter is not available; use tools",
    function_call: "the deprecated function_call parameter is not available; use tool_choice",
  },
};

function compat(
  label: string,
  overrides: Partial<Omit<OpenAIFlavor, "label" | "reject" | "drop">> & {
    reject?: Partial<Record<ChatParam, string>>;
    drop?: Partial<Record<ChatParam, string>>;
  } = {},
): OpenAIFlavor {
  return {
    ...COMPAT,
    ...overrides,
    label,
    reject: { ...COMPAT.reject, ...overrides.reject },
    drop: { ...COMPAT.drop, ...overrides.drop },
  };
}

function openAIKind(
  kind: ProviderKind,
  defaultBaseUrl: string | null,
  flavor: OpenAIFlavor,
  requiresKey = true,
): ProviderDefinition {
  const { label, auth, embeddings } = flavor;
  return { kind, label, protocol: "openai", defaultBaseUrl, auth, requiresKey, embeddings, flavor };
}

const ONE_CHOICE = "only one choice is generated per request";

export const PROVIDERS: Readonly<Record<ProviderKind, ProviderDefinition>> = {
  openai: openAIKind("openai", "https://api.openai.com/v1", OPENAI_FLAVOR),
  anthropic: {
    kind: "anthropic",
    label: "Anthropic",
    protocol: "anthropic",
    defaultBaseUrl: "https://api.anthropic.com/v1",
    auth: "x-api-key",
    requiresKey: true,
    embeddings: false,
  },
  gemini: {
    kind: "gemini",
    label: "Google Gemini",
    protocol: "gemini",
    defaultBaseUrl: "https://generativelanguage.googleapis.com/v1beta",
    auth: "x-goog-api-key",
    requiresKey: true,
    embeddings: true,
  },
  deepseek: openAIKind(
    "deepseek",
    "https://api.deepseek.com/v1",
    compat("DeepSeek", {
      jsonSchema: false,
      reject: { n: ONE_CHOICE, logit_bias: "logit bias is not available", seed: "seeded sampling is not available" },
      usage: { cacheHitField: "prompt_cache_hit_tokens" },
    }),
  ),
  mistral: openAIKind(
    "mistral",
    "https://api.mistral.ai/v1",
    compat("Mistral", {
      rename: { seed: "random_seed" },
      toolChoiceRequired: "any",
      // Mistral answers 422 to fields it does not know, and streams usage without being asked.
      streamOptions: false,
      messageName: false,
      embeddings: true,
      reject: {
        logit_bias: "logit bias is not available",
        logprobs: "log probabilities are not available",
        top_logprobs: "log probabilities are not available",
      },
      drop: { user: "Mistral has no end-user field" },
    }),
  ),
  qwen: openAIKind(
    "qwen",
    "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
    compat("Qwen (DashScope)", { embeddings: true, reject: { logit_bias: "logit bias is not available" } }),
  ),
  groq: openAIKind(
    "groq",
    "https://api.groq.com/openai/v1",
    compat("Groq", {
      messageName: false,
      reasoningField: "reasoning",
      usage: { groqStreamUsage: true },
      reject: {
        n: ONE_CHOICE,
        logprobs: "log probabilities are not available",
        top_logprobs: "log probabilities are not available",
        logit_bias: "logit bias is not available",
      },
    }),
  ),
  together: openAIKind("together", "https://api.together.xyz/v1", compat("Together AI", { embeddings: true })),
  fireworks: openAIKind("fireworks", "https://api.fireworks.ai/inference/v1", compat("Fireworks AI", { embeddings: true })),
  xai: openAIKind("xai", "https://api.x.ai/v1", compat("xAI", { usage: { reasoningOutsideCompletion: true } })),
  openrouter: openAIKind("openrouter", "https://openrouter.ai/api/v1", compat("OpenRouter", { reasoningField: "reasoning" })),
  perplexity: openAIKind(
    "perplexity",
    "https://api.perplexity.ai",
    compat("Perplexity", {
      streamOptions: false,
      reject: {
        tools: "tool calling is not available",
        tool_choice: "tool calling is not available",
        parallel_tool_calls: "tool calling is not available",
        n: ONE_CHOICE,
        logprobs: "log probabilities are not available",
        top_logprobs: "log probabilities are not available",
        logit_bias: "logit bias is not available",
        seed: "seeded sampling is not available",
      },
    }),
  ),
  cerebras: openAIKind(
    "cerebras",
    "https://api.cerebras.ai/v1",
    compat("Cerebras", {
      maxTokensField: "max_completion_tokens",
      reject: {
        frequency_penalty: "frequency penalties are not available",
        presence_penalty: "presence penalties are not available",
        logit_bias: "logit bias is not available",
        parallel_tool_calls: "parallel tool calls cannot be turned off",
      },
    }),
  ),
  deepinfra: openAIKind("deepinfra", "https://api.deepinfra.com/v1/openai", compat("DeepInfra", { embeddings: true })),
  "azure-openai": openAIKind("azure-openai", null, { ...OPENAI_FLAVOR, label: "Azure OpenAI", auth: "api-key", endpoint: "azure" }),
  ollama: openAIKind(
    "ollama",
    "http://localhost:11434/v1",
    compat("Ollama", {
      embeddings: true,
      reject: {
        n: ONE_CHOICE,
        logit_bias: "logit bias is not available",
        tool_choice: "Ollama ignores tool_choice, so only the default (auto) can be honoured",
      },
    }),
    false,
  ),
  vllm: openAIKind("vllm", "http://localhost:8000/v1", compat("vLLM", { embeddings: true }), false),
  "openai-compatible": openAIKind("openai-compatible", null, compat("OpenAI-compatible server", { embeddings: true }), false),
  simulator: {
    kind: "simulator",
    label: "Simulator",
    protocol: "config",
    // The simulator's root URL (e.g. http://127.0.0.1:4010); the protocol's mount is appended (see below).
    defaultBaseUrl: null,
    // For the openai protocol; the anthropic and gemini protocols use their own headers, as the simulator expects.
    auth: "bearer",
    requiresKey: false,
    embeddings: true,
  },
};

export { isProviderKind } from "../../lib/provider-kinds";

/** Validates `Provider.config` (non-secret settings). Reserved (auth / framing) headers are refused. */
export const providerConfigSchema = z.object({
  protocol: z.enum(["openai", "anthropic", "gemini"]).optional(),
  apiVersion: z.string().min(1).max(64).optional(),
  deployment: z.string().min(1).max(256).optional(),
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9-]{1,128}$/, "must be a header name"), z.string().max(4096))
    .refine((headers) => Object.keys(headers).every((name) => !RESERVED_HEADERS.has(name.toLowerCase())), {
      message: "may not set credential or framing headers (authorization, api-key, x-api-key, x-goog-api-key, …)",
    })
    .optional(),
});

export function parseProviderConfig(raw: unknown): ProviderConfig {
  const parsed = providerConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`).join("; ");
    throw new AppError(400, "invalid_provider_config", `Invalid provider config: ${issues}`, { param: "config" });
  }
  const { protocol, apiVersion, deployment, headers } = parsed.data;
  return {
    ...(protocol ? { protocol } : {}),
    ...(apiVersion ? { apiVersion } : {}),
    ...(deployment ? { deployment } : {}),
    ...(headers ? { headers } : {}),
  };
}

/** Where the simulator mounts each protocol (server/providers/simulator/index.ts). */
const SIMULATOR_MOUNTS: Record<Protocol, string> = { openai: "/openai/v1", anthropic: "/anthropic/v1", gemini: "/gemini/v1beta" };

/** `target` with the simulator's mount for `protocol` appended (left alone when the admin entered the full mount URL). */
function withSimulatorMount(target: UpstreamTarget, protocol: Protocol): UpstreamTarget {
  const mount = SIMULATOR_MOUNTS[protocol];
  const base = target.baseUrl.replace(/\/+$/, "");
  return base.endsWith(mount) ? target : { ...target, baseUrl: joinUrl(base, mount) };
}

/**
 * The target as its protocol's requests address it: for the simulator, its root URL with the protocol's mount
 * appended; every other kind unchanged. The chat adapters apply it themselves; other clients of a provider's API
 * (the batch tier's batch endpoints) call it to derive their URLs the same way.
 */
export function protocolTarget(target: UpstreamTarget): UpstreamTarget {
  return target.kind === "simulator" ? withSimulatorMount(target, target.config?.protocol ?? "openai") : target;
}

/** The simulator speaks all three protocols under one root: its adapter is the protocol's own one, mounted. */
function simulatorAdapter(protocol: Protocol): ProviderAdapter {
  const inner = protocolAdapter(protocol, { ...OPENAI_FLAVOR, label: "Simulator (openai)" });
  const mounted = (target: UpstreamTarget): UpstreamTarget => withSimulatorMount(target, protocol);
  const adapter: ProviderAdapter = {
    protocol,
    buildRequest: (req, target, options) => inner.buildRequest(req, mounted(target), options),
    parseResponse: (json, target) => inner.parseResponse(json, target),
    createStreamParser: (target) => inner.createStreamParser(target),
    classifyError: (status, body, headers) => inner.classifyError(status, body, headers),
  };
  const embeddings = inner.embeddings;
  if (embeddings) {
    adapter.embeddings = {
      buildRequest: (req, target, options?: BuildOptions): HttpRequestSpec => embeddings.buildRequest(req, mounted(target), options),
      parseResponse: (json, target, req) => embeddings.parseResponse(json, target, req),
    };
  }
  return adapter;
}

function protocolAdapter(protocol: Protocol, flavor: OpenAIFlavor): ProviderAdapter {
  if (protocol === "anthropic") return createAnthropicAdapter();
  if (protocol === "gemini") return createGeminiAdapter();
  return createOpenAIAdapter(flavor);
}

const cache = new Map<string, ProviderAdapter>();

/**
 * The adapter for a provider kind. `config.protocol` matters only for the simulator; everything else in the
 * config (Azure deployment and API version, extra headers) is read per request from `UpstreamTarget.config`.
 * Adapters are stateless and cached per kind (and simulator protocol).
 */
export function getAdapter(kind: ProviderKind, config: ProviderConfig = {}): ProviderAdapter {
  const definition = (PROVIDERS as Record<string, ProviderDefinition | undefined>)[kind];
  if (!definition) throw new AppError(500, "unknown_provider_kind", `Unknown provider kind '${kind}'`);
  const protocol: Protocol = definition.protocol === "config" ? (config.protocol ?? "openai") : definition.protocol;
  const key = definition.protocol === "config" ? `${kind}:${protocol}` : kind;
  let adapter = cache.get(key);
  if (!adapter) {
    adapter =
      definition.protocol === "config"
        ? simulatorAdapter(protocol)
        : protocolAdapter(protocol, definition.flavor ?? OPENAI_FLAVOR);
    cache.set(key, adapter);
  }
  return adapter;
}
