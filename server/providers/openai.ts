/**
 * OpenAI Chat Completions adapter, and the base of the OpenAI-compatible family: a provider of that family is
 * this adapter plus an `OpenAIFlavor` — its quirks as data (registry.ts). Requests pass through nearly as-is;
 * responses and chunks are normalized (usage convention, reasoning field, finish reasons) so that every
 * OpenAI-protocol provider looks like OpenAI to the rest of the gateway.
 */
import { z } from "zod";
import type {
  BuildOptions,
  EmbeddingRequest,
  EmbeddingResponse,
  EmbeddingsAdapter,
  HttpRequestSpec,
  ProviderAdapter,
  SseEvent,
  StreamParser,
} from "./adapter";
import {
  asString,
  classifyHttpError,
  isRecord,
  malformedResponse,
  parseJsonOrUndefined,
  parseStreamJson,
  type ErrorInfo,
} from "./classify";
import { applyParams, createParamContext, type ParamRule, type ParamTable } from "./params";
import {
  normalizeUsage,
  type ChatChunk,
  type ChatMessage,
  type ChatParam,
  type ChatRequest,
  type ChatResponse,
  type ChatUsage,
  type ChunkChoice,
  type FinishReason,
  type NormalizedUsage,
  type UpstreamError,
  type UpstreamTarget,
} from "./types";

/** Where the key goes: `Authorization: Bearer`, Azure `api-key`, Anthropic `x-api-key`, Gemini `x-goog-api-key`. */
export type AuthStyle = "bearer" | "api-key" | "x-api-key" | "x-goog-api-key";

/** Usage-field quirks of an OpenAI-compatible provider. */
export interface UsageQuirks {
  /** A top-level usage field holding cache-read tokens when `prompt_tokens_details.cached_tokens` is absent
   * (DeepSeek: `prompt_cache_hit_tokens`). */
  cacheHitField?: string;
  /** `completion_tokens` excludes reasoning tokens (xAI), so output = completion + reasoning. */
  reasoningOutsideCompletion?: boolean;
  /** Streams report usage under `x_groq.usage` in the last chunk (Groq). */
  groqStreamUsage?: boolean;
}

/** How one OpenAI-protocol provider deviates from OpenAI — data, not code. */
export interface OpenAIFlavor {
  label: string;
  auth: AuthStyle;
  /** `azure`: /openai/deployments/{deployment}/…?api-version=…; `standard`: {baseUrl}/chat/completions. */
  endpoint: "standard" | "azure";
  /** Parameters the provider refuses (400) — rejected here first, with the reason. */
  reject?: Partial<Record<ChatParam, string>>;
  /** Non-semantic parameters the provider refuses or ignores; dropped. */
  drop?: Partial<Record<ChatParam, string>>;
  /** Parameters spelled differently (Mistral: seed → random_seed). */
  rename?: Partial<Record<ChatParam, string>>;
  /** Which body field carries the output cap (`max_tokens` and `max_completion_tokens` both map to it). */
  maxTokensField: "max_tokens" | "max_completion_tokens";
  /** Accepts `stream_options.include_usage` (then it is always requested, so cost is known). */
  streamOptions: boolean;
  /** Accepts the `developer` role; otherwise it is sent as `system`. */
  developerRole: boolean;
  /** Accepts `messages[].name`; otherwise the name is dropped (it only labels a participant). */
  messageName: boolean;
  /** Accepts `response_format: {type: "json_schema"}`. */
  jsonSchema: boolean;
  /** How the provider spells tool_choice "required" (Mistral: "any"). */
  toolChoiceRequired: "required" | "any";
  /** The message/delta field carrying reasoning text, when it is not `reasoning_content`. */
  reasoningField?: "reasoning";
  usage?: UsageQuirks;
  /** Whether the provider serves `/embeddings`. */
  embeddings: boolean;
}

/** OpenAI itself. */
export const OPENAI_FLAVOR: OpenAIFlavor = {
  label: "OpenAI",
  auth: "bearer",
  endpoint: "standard",
  // OpenAI deprecated max_tokens and o-series models reject it; max_completion_tokens works for every model.
  maxTokensField: "max_completion_tokens",
  streamOptions: true,
  developerRole: true,
  messageName: true,
  jsonSchema: true,
  toolChoiceRequired: "required",
  embeddings: true,
};

const AZURE_DEFAULT_API_VERSION = "2024-10-21";

// ---------------------------------------------------------------------------------------------------------------
// Shared HTTP helpers (also used by the Anthropic and Gemini adapters)

/** Header names that carry credentials or framing; config headers may never set them. */
export const RESERVED_HEADERS = new Set([
  "authorization",
  "api-key",
  "x-api-key",
  "x-goog-api-key",
  "cookie",
  "content-type",
  "content-length",
  "host",
]);

/** Builds request headers: non-secret config headers first, then content type and auth (which always win). */
export function buildHeaders(target: UpstreamTarget, auth: AuthStyle, extra: Record<string, string> = {}) {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(target.config?.headers ?? {})) {
    if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
  }
  Object.assign(headers, extra, { "content-type": "application/json" });
  const key = target.apiKey;
  if (key) {
    if (auth === "bearer") headers.authorization = `Bearer ${key}`;
    else if (auth === "api-key") headers["api-key"] = key;
    else if (auth === "x-api-key") headers["x-api-key"] = key;
    else if (auth === "x-goog-api-key") headers["x-goog-api-key"] = key;
  }
  return headers;
}

export function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, "") + path;
}

function operationUrl(flavor: OpenAIFlavor, target: UpstreamTarget, operation: "chat/completions" | "embeddings") {
  if (flavor.endpoint === "azure") {
    const deployment = encodeURIComponent(target.config?.deployment ?? target.model);
    const version = encodeURIComponent(target.config?.apiVersion ?? AZURE_DEFAULT_API_VERSION);
    return joinUrl(target.baseUrl, `/openai/deployments/${deployment}/${operation}?api-version=${version}`);
  }
  return joinUrl(target.baseUrl, `/${operation}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Request

const pass: ParamRule<unknown> = { action: "pass" };

/** The rule table for a flavor: OpenAI's own rules, overridden by the flavor's reject / drop / rename data. */
export function openAIParamTable(flavor: OpenAIFlavor): ParamTable {
  const base: ParamTable = {
    model: { action: "map", apply: (_value, body, ctx) => void (body.model = ctx.target.model) },
    messages: { action: "map", apply: (value, body) => void (body.messages = convertMessages(value, flavor)) },
    tools: pass,
    tool_choice: {
      action: "map",
      apply: (value, body) => void (body.tool_choice = value === "required" ? flavor.toolChoiceRequired : value),
    },
    parallel_tool_calls: pass,
    response_format: {
      action: "map",
      apply(value, body, ctx) {
        if (value.type === "json_schema" && !flavor.jsonSchema) {
          return ctx.reject("response_format", "json_schema output is not available (json_object is)");
        }
        body.response_format = value;
      },
    },
    temperature: pass,
    top_p: pass,
    stop: pass,
    seed: pass,
    // Both caps map to one field; when a client sends both, max_completion_tokens (the current name) wins.
    max_tokens: {
      action: "map",
      apply(value, body, ctx) {
        if (ctx.req.max_completion_tokens === undefined || ctx.req.max_completion_tokens === null) {
          body[flavor.maxTokensField] = value;
        }
      },
    },
    max_completion_tokens: { action: "map", apply: (value, body) => void (body[flavor.maxTokensField] = value) },
    n: pass,
    user: pass,
    metadata: pass,
    logprobs: pass,
    top_logprobs: pass,
    stream: {
      action: "map",
      apply(value, body, ctx) {
        body.stream = value;
        // Usage is always requested when the provider can send it: cost accounting needs it. The gateway forwards
        // the usage chunk only to clients that asked for it.
        if (value && flavor.streamOptions) body.stream_options = { ...ctx.req.stream_options, include_usage: true };
      },
    },
    stream_options: { action: "drop", reason: "folded into the stream rule (sent only when streaming)" },
    presence_penalty: pass,
    frequency_penalty: pass,
    logit_bias: pass,
    reasoning_effort: pass,
    prompt_cache_key: pass,
    prompt_cache_retention: pass,
    safety_identifier: pass,
    store: pass,
    service_tier: pass,
    verbosity: pass,
    modalities: pass,
    audio: pass,
    prediction: pass,
    web_search_options: pass,
    functions: pass,
    function_call: pass,
  };
  const table: Record<string, unknown> = { ...base };
  for (const [param, to] of Object.entries(flavor.rename ?? {})) table[param] = { action: "rename", to };
  for (const [param, reason] of Object.entries(flavor.drop ?? {})) table[param] = { action: "drop", reason };
  for (const [param, reason] of Object.entries(flavor.reject ?? {})) table[param] = { action: "reject", reason };
  return table as ParamTable;
}

/** Strips Switchyard's extensions and applies the flavor's role / name quirks. */
function convertMessages(messages: ChatMessage[], flavor: OpenAIFlavor): unknown[] {
  return messages.map((message) => {
    const out: Record<string, unknown> = { ...message };
    if (message.role === "developer" && !flavor.developerRole) out.role = "system";
    if (!flavor.messageName && message.role !== "function") delete out.name;
    if (message.role === "assistant") delete out.reasoning_content;
    if (Array.isArray(message.content)) {
      out.content = message.content.map((part) => {
        if (!("cache_control" in part)) return part;
        const { cache_control: _ignored, ...rest } = part;
        return rest;
      });
    }
    return out;
  });
}

function buildChatRequest(
  flavor: OpenAIFlavor,
  table: ParamTable,
  req: ChatRequest,
  target: UpstreamTarget,
  options?: BuildOptions,
): HttpRequestSpec {
  const ctx = createParamContext(req, target, flavor.label, options);
  const body: Record<string, unknown> = {};
  applyParams(table, body, ctx, "pass");
  return {
    url: operationUrl(flavor, target, "chat/completions"),
    method: "POST",
    headers: buildHeaders(target, flavor.auth),
    body: JSON.stringify(body),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Response

const FINISH_REASONS = new Set<FinishReason>(["stop", "length", "tool_calls", "content_filter", "function_call"]);

/** Providers' finish reasons → OpenAI's (Mistral says `model_length` for a context-bounded stop). */
export function openAIFinishReason(value: unknown): FinishReason {
  if (typeof value === "string" && FINISH_REASONS.has(value as FinishReason)) return value as FinishReason;
  if (value === "model_length") return "length";
  return "stop";
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** A provider's OpenAI-shape usage → the canonical OpenAI convention (see NormalizedUsage). Extras are kept. */
export function canonicalOpenAIUsage(raw: Record<string, unknown>, quirks: UsageQuirks = {}): ChatUsage {
  const promptDetails = isRecord(raw.prompt_tokens_details) ? raw.prompt_tokens_details : {};
  const completionDetails = isRecord(raw.completion_tokens_details) ? raw.completion_tokens_details : {};
  const prompt = num(raw.prompt_tokens) ?? 0;
  const completion = num(raw.completion_tokens) ?? 0;
  const cached =
    num(promptDetails.cached_tokens) ?? (quirks.cacheHitField ? num(raw[quirks.cacheHitField]) : undefined) ?? 0;
  const reasoning = num(completionDetails.reasoning_tokens) ?? 0;
  const output = quirks.reasoningOutsideCompletion ? completion + reasoning : completion;
  return {
    ...raw,
    prompt_tokens: prompt,
    completion_tokens: output,
    total_tokens: prompt + output,
    prompt_tokens_details: { ...promptDetails, cached_tokens: cached },
    completion_tokens_details: { ...completionDetails, reasoning_tokens: reasoning },
  };
}

export const responseSchema = z
  .object({
    id: z.string().optional(),
    created: z.number().optional(),
    model: z.string().optional(),
    choices: z.array(
      z
        .object({
          index: z.number().optional(),
          message: z.record(z.string(), z.unknown()),
          finish_reason: z.string().nullable().optional(),
          logprobs: z.unknown().optional(),
        })
        .loose(),
    ),
    usage: z.record(z.string(), z.unknown()).nullable().optional(),
  })
  .loose();

/** Moves a provider's reasoning field to `reasoning_content` (the canonical extension). */
function normalizeReasoningField(target: Record<string, unknown>, flavor: OpenAIFlavor): void {
  if (!flavor.reasoningField) return;
  const value = target[flavor.reasoningField];
  delete target[flavor.reasoningField];
  if (typeof value === "string" && target.reasoning_content === undefined) target.reasoning_content = value;
}

/** The shape `responseSchema` accepts, checked by hand: the hot path of every JSON answer (zod costs ~10× more). */
type RawChatResponse = z.infer<typeof responseSchema>;
const isPlainRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const optional = (value: unknown, type: "string" | "number") => value === undefined || typeof value === type;

/** Equivalent to `responseSchema.safeParse(json).success` (adapters.test.ts checks both agree); reads without copying. */
export function isChatResponseShape(json: unknown): json is RawChatResponse {
  if (!isPlainRecord(json)) return false;
  if (!optional(json.id, "string") || !optional(json.model, "string")) return false;
  if (!(json.created === undefined || (typeof json.created === "number" && Number.isFinite(json.created)))) return false;
  if (!(json.usage === undefined || json.usage === null || isPlainRecord(json.usage))) return false;
  if (!Array.isArray(json.choices)) return false;
  for (const choice of json.choices as unknown[]) {
    if (!isPlainRecord(choice) || !isPlainRecord(choice.message)) return false;
    if (!(choice.index === undefined || (typeof choice.index === "number" && Number.isFinite(choice.index)))) return false;
    if (!(choice.finish_reason === undefined || choice.finish_reason === null || typeof choice.finish_reason === "string")) return false;
  }
  return true;
}

function parseChatResponse(flavor: OpenAIFlavor, json: unknown, target: UpstreamTarget): ChatResponse {
  if (!isChatResponseShape(json)) throw malformedResponse("chat completion");
  const raw = json;
  const choices = raw.choices.map((choice, position) => {
    const message: Record<string, unknown> = { ...choice.message, role: "assistant" };
    message.content = typeof message.content === "string" ? message.content : null;
    message.refusal = typeof message.refusal === "string" ? message.refusal : null;
    normalizeReasoningField(message, flavor);
    return {
      ...choice,
      index: choice.index ?? position,
      message,
      finish_reason: openAIFinishReason(choice.finish_reason),
      logprobs: (choice.logprobs ?? null) as ChatResponse["choices"][number]["logprobs"],
    };
  });
  const { usage: rawUsage, ...rest } = raw;
  const response = {
    ...rest,
    id: raw.id ?? `chatcmpl-${crypto.randomUUID()}`,
    object: "chat.completion",
    created: raw.created ?? Math.floor(Date.now() / 1000),
    model: raw.model ?? target.model,
    choices,
  } as unknown as ChatResponse;
  if (rawUsage) response.usage = canonicalOpenAIUsage(rawUsage, flavor.usage);
  return response;
}

// ---------------------------------------------------------------------------------------------------------------
// Streaming

class OpenAIStreamParser implements StreamParser {
  private done = false;
  private lastUsage: ChatUsage | null = null;
  private usageEmitted = false;
  private base: { id: string; created: number; model: string };

  constructor(
    private readonly flavor: OpenAIFlavor,
    target: UpstreamTarget,
  ) {
    this.base = { id: `chatcmpl-${crypto.randomUUID()}`, created: Math.floor(Date.now() / 1000), model: target.model };
  }

  push(event: SseEvent): ChatChunk[] {
    const data = event.data.trim();
    if (data === "") return [];
    if (data === "[DONE]") {
      this.done = true;
      return this.flushUsage();
    }
    const json = parseStreamJson(data);
    if (!isRecord(json)) throw malformedResponse("stream chunk");
    if (json.error !== undefined) throw streamError(json.error);

    if (typeof json.id === "string") this.base.id = json.id;
    if (typeof json.created === "number") this.base.created = json.created;
    if (typeof json.model === "string") this.base.model = json.model;

    const groqUsage = this.flavor.usage?.groqStreamUsage && isRecord(json.x_groq) ? json.x_groq.usage : undefined;
    const rawUsage = isRecord(json.usage) ? json.usage : isRecord(groqUsage) ? groqUsage : undefined;
    if (rawUsage) this.lastUsage = canonicalOpenAIUsage(rawUsage, this.flavor.usage);

    const choices = Array.isArray(json.choices) ? json.choices : [];
    if (choices.length === 0) return [];
    const { usage: _usage, x_groq: _xGroq, ...rest } = json;
    const chunk = {
      ...rest,
      ...this.base,
      object: "chat.completion.chunk",
      choices: choices.map((choice, position) => this.normalizeChoice(choice, position)),
    } as ChatChunk;
    return [chunk];
  }

  end(): ChatChunk[] {
    return this.flushUsage();
  }

  usage(): NormalizedUsage | null {
    return normalizeUsage(this.lastUsage);
  }

  /** OpenAI-protocol upstreams report usage only with (or as running totals of) the output. */
  outputCounted(): boolean {
    return this.lastUsage !== null;
  }

  finished(): boolean {
    return this.done;
  }

  private normalizeChoice(choice: unknown, position: number): ChunkChoice {
    if (!isRecord(choice)) throw malformedResponse("stream chunk choice");
    const delta: Record<string, unknown> = isRecord(choice.delta) ? { ...choice.delta } : {};
    normalizeReasoningField(delta, this.flavor);
    if (Array.isArray(delta.tool_calls)) {
      // Some servers (Mistral) omit `type` on the delta that opens a call; OpenAI clients expect it there.
      delta.tool_calls = delta.tool_calls.map((call: unknown) =>
        isRecord(call) && typeof call.id === "string" && call.type === undefined ? { ...call, type: "function" } : call,
      );
    }
    return {
      ...choice,
      index: num(choice.index) ?? position,
      delta,
      finish_reason: choice.finish_reason == null ? null : openAIFinishReason(choice.finish_reason),
    } as ChunkChoice;
  }

  /** One usage chunk per stream, where OpenAI puts it: right before `[DONE]` (or at the end without one). */
  private flushUsage(): ChatChunk[] {
    if (this.usageEmitted || !this.lastUsage) return [];
    this.usageEmitted = true;
    return [{ ...this.base, object: "chat.completion.chunk", choices: [], usage: this.lastUsage }];
  }
}

/** An `{"error": …}` payload inside a 200 stream (OpenAI and vLLM-style servers send these). */
function streamError(error: unknown): UpstreamError {
  const info = openAIErrorInfo({ error });
  const code = isRecord(error) ? num(error.code) : undefined;
  return classifyHttpError(code !== undefined && code >= 400 ? code : 500, info, new Headers());
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

/**
 * Error bodies of the OpenAI family: `{"error":{"message","type","param","code"}}` (OpenAI, Azure with
 * `innererror`), `{"error":"text"}` (Ollama), `{"object":"error","message","type","code"}` (Mistral) or
 * `{"detail":"text"}` (FastAPI-based servers).
 */
export function openAIErrorInfo(json: unknown): ErrorInfo {
  const codes: string[] = [];
  let message = "";
  if (isRecord(json)) {
    const error = json.error;
    if (isRecord(error)) {
      message = asString(error.message) ?? "";
      const inner = isRecord(error.innererror) ? asString(error.innererror.code) : undefined;
      for (const code of [asString(error.code), asString(error.type), inner]) if (code) codes.push(code);
    } else if (typeof error === "string") {
      message = error;
    } else {
      // Mistral and FastAPI-style servers put the fields at the top level.
      message = asString(json.detail) ?? asString(json.message) ?? "";
      for (const code of [asString(json.code), asString(json.type)]) if (code) codes.push(code);
    }
  }
  return { message, codes };
}

function classifyOpenAIError(status: number, body: string, headers: Headers): UpstreamError {
  const info = openAIErrorInfo(parseJsonOrUndefined(body));
  if (info.message === "" && body.trim() !== "" && !body.trimStart().startsWith("<")) info.message = body.trim();
  return classifyHttpError(status, info, headers);
}

// ---------------------------------------------------------------------------------------------------------------
// Embeddings

const embeddingResponseSchema = z
  .object({
    data: z.array(z.object({ index: z.number(), embedding: z.union([z.array(z.number()), z.string()]) }).loose()),
    model: z.string().optional(),
    usage: z.object({ prompt_tokens: z.number(), total_tokens: z.number().optional() }).loose().optional(),
  })
  .loose();

function openAIEmbeddings(flavor: OpenAIFlavor): EmbeddingsAdapter {
  return {
    buildRequest(req: EmbeddingRequest, target: UpstreamTarget): HttpRequestSpec {
      const body: Record<string, unknown> = { model: target.model, input: req.input };
      if (req.dimensions !== undefined) body.dimensions = req.dimensions;
      if (req.encoding_format !== undefined) body.encoding_format = req.encoding_format;
      if (req.user !== undefined) body.user = req.user;
      return {
        url: operationUrl(flavor, target, "embeddings"),
        method: "POST",
        headers: buildHeaders(target, flavor.auth),
        body: JSON.stringify(body),
      };
    },
    parseResponse(json: unknown, target: UpstreamTarget): EmbeddingResponse {
      const parsed = embeddingResponseSchema.safeParse(json);
      if (!parsed.success) throw malformedResponse("embeddings response");
      const { data, model, usage } = parsed.data;
      const response: EmbeddingResponse = {
        object: "list",
        data: data.map((item) => ({ object: "embedding", index: item.index, embedding: item.embedding })),
        model: model ?? target.model,
      };
      if (usage) {
        response.usage = { prompt_tokens: usage.prompt_tokens, total_tokens: usage.total_tokens ?? usage.prompt_tokens };
      }
      return response;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------

/** The adapter for OpenAI or one member of the OpenAI-compatible family. */
export function createOpenAIAdapter(flavor: OpenAIFlavor = OPENAI_FLAVOR): ProviderAdapter {
  const table = openAIParamTable(flavor);
  const adapter: ProviderAdapter = {
    protocol: "openai",
    buildRequest: (req, target, options) => buildChatRequest(flavor, table, req, target, options),
    parseResponse: (json, target) => parseChatResponse(flavor, json, target),
    createStreamParser: (target) => new OpenAIStreamParser(flavor, target),
    classifyError: classifyOpenAIError,
  };
  if (flavor.embeddings) adapter.embeddings = openAIEmbeddings(flavor);
  return adapter;
}
