/**
 * Gemini API adapter (generateContent and streamGenerateContent?alt=sse; key in the `x-goog-api-key` header).
 * Field names follow the Gemini REST reference (GenerateContentRequest, GenerationConfig, UsageMetadata) as
 * used by googleapis/js-genai. Translation choices:
 * - system and developer messages → `systemInstruction`; assistant → role `model`; tool results → user-turn
 *   `functionResponse` parts named after the matching call (Gemini matches responses by name); consecutive
 *   turns of one role are merged; `messages[].name` is dropped (Gemini has no participant names);
 * - tools → `functionDeclarations` with `parametersJsonSchema`, and `response_format` json_schema →
 *   `responseMimeType: application/json` + `responseJsonSchema`: the JSON-Schema fields take OpenAI schemas
 *   as they are, where the older `parameters` / `responseSchema` (an OpenAPI subset) would need lossy rewriting;
 * - `reasoning_effort` → `thinkingConfig.thinkingBudget` with the budgets Google's own OpenAI compatibility layer
 *   uses (none 0, low 1024, medium 8192, high 24576); thought parts come back as `reasoning_content`;
 * - Gemini function calls have no stable id: ids are synthesized from the response id, and a part's
 *   `thoughtSignature` (which Gemini needs back on the next turn) is carried inside the id after `__thought__`.
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
  parseDurationMs,
  parseJsonOrUndefined,
  parseStreamJson,
  type ErrorInfo,
} from "./classify";
import { contentText, isHttpUrl, parseDataUrl, parseToolArguments, toolNameFor } from "./content";
import { buildHeaders, joinUrl } from "./openai";
import { applyParams, createParamContext, unsupportedParameter, type ParamTable } from "./params";
import {
  toChatUsage,
  type ChatChunk,
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
  type ChoiceLogprobs,
  type ChunkDelta,
  type FinishReason,
  type NormalizedUsage,
  type ReasoningEffort,
  type ResponseMessage,
  type ToolCall,
  type UpstreamError,
  type UpstreamTarget,
  type UserContentPart,
} from "./types";

const LABEL = "Gemini";
/** Separates a synthesized tool-call id from the thought signature it carries. */
export const THOUGHT_SIGNATURE_SEPARATOR = "__thought__";

const THINKING_BUDGETS: Partial<Record<ReasoningEffort, number>> = { none: 0, low: 1024, medium: 8192, high: 24576 };
const IMAGE_EXTENSIONS: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
  heic: "image/heic",
  heif: "image/heif",
};

type Part = Record<string, unknown>;
interface Content {
  role: "user" | "model";
  parts: Part[];
}

function modelPath(model: string): string {
  const id = model.startsWith("models/") ? model.slice("models/".length) : model;
  return `/models/${id.split("/").map(encodeURIComponent).join("/")}`;
}

function generationConfig(body: Record<string, unknown>): Record<string, unknown> {
  if (!isRecord(body.generationConfig)) body.generationConfig = {};
  return body.generationConfig as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------------------
// Request

function imagePart(url: string, param: string): Part {
  const data = parseDataUrl(url);
  if (data) return { inlineData: { mimeType: data.mediaType, data: data.data } };
  if (isHttpUrl(url)) {
    const extension = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(new URL(url).pathname)?.[1]?.toLowerCase() ?? "";
    const mimeType = IMAGE_EXTENSIONS[extension];
    if (!mimeType) {
      throw unsupportedParameter(param, LABEL, "an image URL must end in a known image extension, or be a data URL");
    }
    return { fileData: { mimeType, fileUri: url } };
  }
  throw unsupportedParameter(param, LABEL, "an image must be an http(s) URL or a base64 data URL");
}

function userParts(content: string | UserContentPart[], index: number): Part[] {
  if (typeof content === "string") return [{ text: content }];
  return content.map((part, j) => {
    const param = `messages[${index}].content[${j}]`;
    switch (part.type) {
      case "text":
        return { text: part.text };
      case "image_url":
        return imagePart(part.image_url.url, param);
      case "input_audio":
        return { inlineData: { mimeType: `audio/${part.input_audio.format}`, data: part.input_audio.data } };
      case "file": {
        const data = part.file.file_data ? parseDataUrl(part.file.file_data) : null;
        if (data) return { inlineData: { mimeType: data.mediaType, data: data.data } };
        throw unsupportedParameter(param, LABEL, "files must be given as base64 data URLs (file_id is OpenAI-only)");
      }
    }
  });
}

/** The `response` of a functionResponse must be an object: JSON object results pass, anything else is wrapped. */
function functionResponseBody(text: string): Record<string, unknown> {
  const parsed = parseJsonOrUndefined(text);
  return isRecord(parsed) ? parsed : { content: text };
}

function convertMessages(messages: ChatMessage[]): { system: Part[]; contents: Content[] } {
  const system: Part[] = [];
  const contents: Content[] = [];
  const push = (role: "user" | "model", parts: Part[]) => {
    const last = contents.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  messages.forEach((message, i) => {
    switch (message.role) {
      case "system":
      case "developer":
        system.push({ text: typeof message.content === "string" ? message.content : contentText(message.content) });
        return;
      case "user":
        return push("user", userParts(message.content, i));
      case "assistant": {
        const parts: Part[] = [];
        const text = contentText(message.content);
        if (text !== "") parts.push({ text });
        message.tool_calls?.forEach((call, j) => {
          const args = parseToolArguments(call, `messages[${i}].tool_calls[${j}].function.arguments`);
          const part: Part = { functionCall: { name: call.function.name, args } };
          const signature = call.id.split(THOUGHT_SIGNATURE_SEPARATOR)[1];
          if (signature) part.thoughtSignature = signature;
          parts.push(part);
        });
        return push("model", parts);
      }
      case "tool": {
        const name = toolNameFor(messages, i, message.tool_call_id);
        const text = typeof message.content === "string" ? message.content : contentText(message.content);
        return push("user", [{ functionResponse: { name, response: functionResponseBody(text) } }]);
      }
      case "function":
        throw unsupportedParameter(`messages[${i}]`, LABEL, "the deprecated function role is not available; use tools");
    }
  });
  return { system, contents };
}

function allowedToolNames(req: ChatRequest): Set<string> | null {
  const choice = req.tool_choice;
  if (typeof choice !== "object" || choice.type !== "allowed_tools") return null;
  return new Set(
    choice.allowed_tools.tools.map((tool) =>
      isRecord(tool.function) ? (asString(tool.function.name) ?? "") : (asString(tool.name) ?? ""),
    ),
  );
}

function setCallingConfig(body: Record<string, unknown>, config: Record<string, unknown>): void {
  body.toolConfig = { functionCallingConfig: config };
}

const GEMINI_PARAMS: ParamTable = {
  model: { action: "drop", reason: "the target model goes in the URL path" },
  messages: {
    action: "map",
    apply(value, body) {
      const { system, contents } = convertMessages(value);
      if (system.length > 0) body.systemInstruction = { parts: system };
      body.contents = contents;
    },
  },
  tools: {
    action: "map",
    apply(value, body, ctx) {
      const allowed = allowedToolNames(ctx.req);
      const declarations = value.flatMap((tool) => {
        if (tool.type !== "function") {
          throw unsupportedParameter("tools", LABEL, "only function tools are available (custom tools are not)");
        }
        if (allowed && !allowed.has(tool.function.name)) return [];
        const declaration: Record<string, unknown> = { name: tool.function.name };
        if (tool.function.description !== undefined) declaration.description = tool.function.description;
        if (tool.function.parameters !== undefined) declaration.parametersJsonSchema = tool.function.parameters;
        return [declaration];
      });
      if (declarations.length > 0) body.tools = [{ functionDeclarations: declarations }];
    },
  },
  tool_choice: {
    action: "map",
    apply(value, body, ctx) {
      if (value === "auto") return setCallingConfig(body, { mode: "AUTO" });
      if (value === "none") return setCallingConfig(body, { mode: "NONE" });
      if (value === "required") return setCallingConfig(body, { mode: "ANY" });
      if (value.type === "function") {
        return setCallingConfig(body, { mode: "ANY", allowedFunctionNames: [value.function.name] });
      }
      if (value.type === "allowed_tools") {
        // The tools rule declares only the allowed functions; the mode maps like auto / required.
        return setCallingConfig(body, { mode: value.allowed_tools.mode === "required" ? "ANY" : "AUTO" });
      }
      ctx.reject("tool_choice", "custom tools are not available");
    },
  },
  parallel_tool_calls: { action: "reject", reason: "parallel function calls cannot be turned off" },
  response_format: {
    action: "map",
    apply(value, body) {
      if (value.type === "text") return;
      const config = generationConfig(body);
      config.responseMimeType = "application/json";
      if (value.type === "json_schema" && value.json_schema.schema !== undefined) {
        config.responseJsonSchema = value.json_schema.schema;
      }
    },
  },
  temperature: { action: "map", apply: (value, body) => void (generationConfig(body).temperature = value) },
  top_p: { action: "map", apply: (value, body) => void (generationConfig(body).topP = value) },
  stop: {
    action: "map",
    apply: (value, body) => void (generationConfig(body).stopSequences = typeof value === "string" ? [value] : value),
  },
  seed: { action: "map", apply: (value, body) => void (generationConfig(body).seed = value) },
  max_tokens: {
    action: "map",
    apply(value, body, ctx) {
      if (ctx.req.max_completion_tokens === undefined || ctx.req.max_completion_tokens === null) {
        generationConfig(body).maxOutputTokens = value;
      }
    },
  },
  max_completion_tokens: { action: "map", apply: (value, body) => void (generationConfig(body).maxOutputTokens = value) },
  n: { action: "map", apply: (value, body) => void (generationConfig(body).candidateCount = value) },
  user: { action: "drop", reason: "Gemini has no end-user field" },
  safety_identifier: { action: "drop", reason: "Gemini has no end-user field" },
  metadata: { action: "drop", reason: "OpenAI stored-completion tags have no Gemini equivalent" },
  logprobs: { action: "map", apply: (value, body) => void (generationConfig(body).responseLogprobs = value) },
  top_logprobs: { action: "map", apply: (value, body) => void (generationConfig(body).logprobs = value) },
  stream: { action: "drop", reason: "selects the :streamGenerateContent endpoint instead of a body field" },
  stream_options: { action: "drop", reason: "Gemini streams always report usage" },
  presence_penalty: { action: "map", apply: (value, body) => void (generationConfig(body).presencePenalty = value) },
  frequency_penalty: { action: "map", apply: (value, body) => void (generationConfig(body).frequencyPenalty = value) },
  logit_bias: { action: "reject", reason: "logit bias is not available" },
  reasoning_effort: {
    action: "map",
    apply(value, body, ctx) {
      const budget = THINKING_BUDGETS[value];
      if (budget === undefined) return ctx.reject("reasoning_effort", `effort '${value}' has no thinking budget here`);
      generationConfig(body).thinkingConfig = { thinkingBudget: budget };
    },
  },
  prompt_cache_key: { action: "drop", reason: "Gemini caches implicitly or through cachedContents, not by key" },
  prompt_cache_retention: { action: "drop", reason: "Gemini implicit caching has no retention setting" },
  store: { action: "drop", reason: "OpenAI stored completions have no Gemini equivalent" },
  service_tier: { action: "drop", reason: "OpenAI processing tiers have no Gemini equivalent" },
  verbosity: { action: "reject", reason: "verbosity control is not available" },
  modalities: { action: "reject", reason: "only text output is translated" },
  audio: { action: "reject", reason: "audio output is not translated" },
  prediction: { action: "reject", reason: "predicted outputs are not available" },
  web_search_options: { action: "reject", reason: "the OpenAI web search options are not available" },
  functions: { action: "reject", reason: "the deprecated functions parameter is not available; use tools" },
  function_call: { action: "reject", reason: "the deprecated function_call parameter is not available; use tool_choice" },
};

/** The request fields an explicit context cache (cachedContents) holds; a request naming the cache must omit them. */
const CACHED_FIELDS = ["systemInstruction", "tools", "toolConfig"] as const;

function buildBody(req: ChatRequest, target: UpstreamTarget, options?: BuildOptions): Record<string, unknown> {
  const ctx = createParamContext(req, target, LABEL, options);
  const body: Record<string, unknown> = {};
  applyParams(GEMINI_PARAMS, body, ctx, "reject");
  return body;
}

/**
 * The stable prefix of `req` as Gemini's `cachedContents.create` takes it: the system instruction, the tools and the
 * tool config, exactly as `buildRequest` would send them (so a request and its cache can never disagree); null when
 * the request has none of them. Throws what `buildRequest` throws.
 */
export function geminiCachedPrefix(req: ChatRequest, target: UpstreamTarget, options?: BuildOptions): Record<string, unknown> | null {
  const body = buildBody(req, target, options);
  const prefix: Record<string, unknown> = {};
  for (const field of CACHED_FIELDS) if (body[field] !== undefined) prefix[field] = body[field];
  return Object.keys(prefix).length > 0 ? prefix : null;
}

/** The `cachedContents` collection of a Gemini API base URL (`…/v1beta`). */
export function geminiCachedContentsUrl(target: UpstreamTarget): string {
  return joinUrl(target.baseUrl, "/cachedContents");
}

/** The `model` field of a cachedContents resource (`models/{id}`). */
export function geminiModelName(model: string): string {
  return modelPath(model).slice(1);
}

function buildRequest(req: ChatRequest, target: UpstreamTarget, options?: BuildOptions): HttpRequestSpec {
  const body = buildBody(req, target, options);
  if (options?.cachedContent) {
    // The cache holds the system instruction, tools and tool config; Gemini refuses a request that repeats them.
    for (const field of CACHED_FIELDS) delete body[field];
    body.cachedContent = options.cachedContent;
  }
  const operation = req.stream ? ":streamGenerateContent?alt=sse" : ":generateContent";
  return {
    url: joinUrl(target.baseUrl, modelPath(target.model) + operation),
    method: "POST",
    headers: buildHeaders(target, "x-goog-api-key"),
    body: JSON.stringify(body),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Response

const usageSchema = z
  .object({
    promptTokenCount: z.number().optional(),
    cachedContentTokenCount: z.number().optional(),
    candidatesTokenCount: z.number().optional(),
    thoughtsTokenCount: z.number().optional(),
    toolUsePromptTokenCount: z.number().optional(),
    totalTokenCount: z.number().optional(),
  })
  .loose();
type GeminiUsage = z.infer<typeof usageSchema>;

const logprobCandidate = z.object({ token: z.string().optional(), logProbability: z.number().optional() }).loose();
const candidateSchema = z
  .object({
    content: z.object({ parts: z.array(z.record(z.string(), z.unknown())).optional() }).loose().optional(),
    finishReason: z.string().optional(),
    index: z.number().optional(),
    logprobsResult: z
      .object({
        topCandidates: z.array(z.object({ candidates: z.array(logprobCandidate).optional() }).loose()).optional(),
        chosenCandidates: z.array(logprobCandidate).optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
type Candidate = z.infer<typeof candidateSchema>;

const responseSchema = z
  .object({
    candidates: z.array(candidateSchema).optional(),
    promptFeedback: z.object({ blockReason: z.string().optional() }).loose().optional(),
    usageMetadata: usageSchema.optional(),
    modelVersion: z.string().optional(),
    responseId: z.string().optional(),
  })
  .loose();
type GeminiResponse = z.infer<typeof responseSchema>;

/** Gemini usage → normalized (thoughts are reported outside candidates; see NormalizedUsage). */
export function geminiUsage(usage: GeminiUsage): NormalizedUsage {
  const reasoning = usage.thoughtsTokenCount ?? 0;
  return {
    input: (usage.promptTokenCount ?? 0) + (usage.toolUsePromptTokenCount ?? 0),
    cachedInput: usage.cachedContentTokenCount ?? 0,
    cacheWrite: 0,
    output: (usage.candidatesTokenCount ?? 0) + reasoning,
    reasoning,
  };
}

const FILTER_REASONS = new Set([
  "SAFETY",
  "RECITATION",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
]);

function finishReason(reason: string | undefined, hasToolCalls: boolean): FinishReason {
  if (reason === "MAX_TOKENS") return "length";
  if (reason !== undefined && FILTER_REASONS.has(reason)) return "content_filter";
  return hasToolCalls ? "tool_calls" : "stop";
}

function logprobs(candidate: Candidate): ChoiceLogprobs | null {
  const result = candidate.logprobsResult;
  if (!result?.chosenCandidates) return null;
  const top = result.topCandidates ?? [];
  return {
    content: result.chosenCandidates.map((chosen, i) => ({
      token: chosen.token ?? "",
      logprob: chosen.logProbability ?? 0,
      bytes: null,
      top_logprobs: (top[i]?.candidates ?? []).map((c) => ({
        token: c.token ?? "",
        logprob: c.logProbability ?? 0,
        bytes: null,
      })),
    })),
    refusal: null,
  };
}

/** Reads one candidate's parts; `nextToolId` numbers function calls across the whole response. */
function readParts(candidate: Candidate, toolId: () => string): { text: string; reasoning: string; calls: ToolCall[] } {
  let text = "";
  let reasoning = "";
  const calls: ToolCall[] = [];
  for (const part of candidate.content?.parts ?? []) {
    if (typeof part.text === "string") {
      if (part.thought === true) reasoning += part.text;
      else text += part.text;
    } else if (isRecord(part.functionCall)) {
      const call = part.functionCall;
      const base = asString(call.id) ?? toolId();
      const signature = asString(part.thoughtSignature);
      calls.push({
        id: signature ? `${base}${THOUGHT_SIGNATURE_SEPARATOR}${signature}` : base,
        type: "function",
        function: { name: asString(call.name) ?? "", arguments: JSON.stringify(call.args ?? {}) },
      });
    }
  }
  return { text, reasoning, calls };
}

function toolIdFactory(responseId: string): () => string {
  let next = 0;
  return () => `call_${responseId}_${next++}`;
}

function parseResponse(json: unknown, target: UpstreamTarget): ChatResponse {
  const parsed = responseSchema.safeParse(json);
  if (!parsed.success) throw malformedResponse("Gemini response");
  const raw: GeminiResponse = parsed.data;
  const id = raw.responseId ?? crypto.randomUUID();
  const toolId = toolIdFactory(id);
  const candidates = raw.candidates ?? [];
  const blocked: ChatResponse["choices"][number] = {
    index: 0,
    message: { role: "assistant", content: null, refusal: null },
    finish_reason: "content_filter",
    logprobs: null,
  };
  const choices: ChatResponse["choices"] =
    candidates.length === 0 && raw.promptFeedback?.blockReason
      ? [blocked]
      : candidates.map((candidate, position) => {
          const { text, reasoning, calls } = readParts(candidate, toolId);
          const message: ResponseMessage = {
            role: "assistant",
            content: text !== "" || calls.length === 0 ? text : null,
            refusal: null,
          };
          if (calls.length > 0) message.tool_calls = calls;
          if (reasoning !== "") message.reasoning_content = reasoning;
          return {
            index: candidate.index ?? position,
            message,
            finish_reason: finishReason(candidate.finishReason, calls.length > 0),
            logprobs: logprobs(candidate),
          };
        });
  const response: ChatResponse = {
    id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: raw.modelVersion ?? target.model,
    choices,
  };
  if (raw.usageMetadata) response.usage = toChatUsage(geminiUsage(raw.usageMetadata));
  return response;
}

// ---------------------------------------------------------------------------------------------------------------
// Streaming

class GeminiStreamParser implements StreamParser {
  private id: string | undefined;
  private toolId: (() => string) | undefined;
  private model: string;
  private readonly created = Math.floor(Date.now() / 1000);
  /** Per candidate index: tool calls emitted so far, and whether it finished. */
  private readonly candidates = new Map<number, { tools: number; finished: boolean }>();
  private lastUsage: GeminiUsage | null = null;
  private done = false;
  private usageEmitted = false;

  constructor(target: UpstreamTarget) {
    this.model = target.model;
  }

  push(event: SseEvent): ChatChunk[] {
    if (event.data.trim() === "") return [];
    const json = parseStreamJson(event.data);
    if (isRecord(json) && json.error !== undefined) throw geminiStreamError(json);
    const parsed = responseSchema.safeParse(json);
    if (!parsed.success) throw malformedResponse("Gemini stream chunk");
    const raw = parsed.data;
    if (this.id === undefined) {
      this.id = raw.responseId ?? crypto.randomUUID();
      this.toolId = toolIdFactory(this.id);
    }
    if (raw.modelVersion) this.model = raw.modelVersion;
    if (raw.usageMetadata) this.lastUsage = raw.usageMetadata;

    const out: ChatChunk[] = [];
    const candidates = raw.candidates ?? [];
    if (candidates.length === 0 && raw.promptFeedback?.blockReason) {
      out.push(this.chunk(0, { role: "assistant", content: "" }), this.chunk(0, {}, "content_filter"));
      this.done = true;
      return out;
    }
    candidates.forEach((candidate, position) => {
      const index = candidate.index ?? position;
      let state = this.candidates.get(index);
      if (!state) {
        state = { tools: 0, finished: false };
        this.candidates.set(index, state);
        out.push(this.chunk(index, { role: "assistant", content: "" }));
      }
      const { text, reasoning, calls } = readParts(candidate, this.toolId!);
      if (reasoning !== "") out.push(this.chunk(index, { reasoning_content: reasoning }));
      if (text !== "") out.push(this.chunk(index, { content: text }, null, logprobs(candidate)));
      if (calls.length > 0) {
        const deltas = calls.map((call) => ({ index: state.tools++, id: call.id, type: "function" as const, function: call.function }));
        out.push(this.chunk(index, { tool_calls: deltas }));
      }
      if (candidate.finishReason) {
        state.finished = true;
        out.push(this.chunk(index, {}, finishReason(candidate.finishReason, state.tools > 0)));
      }
    });
    this.done = this.candidates.size > 0 && [...this.candidates.values()].every((c) => c.finished);
    return out;
  }

  /** Gemini has no terminator event: the usage chunk goes out when the stream closes. */
  end(): ChatChunk[] {
    if (this.usageEmitted || !this.lastUsage) return [];
    this.usageEmitted = true;
    return [
      {
        id: this.id ?? crypto.randomUUID(),
        object: "chat.completion.chunk",
        created: this.created,
        model: this.model,
        choices: [],
        usage: toChatUsage(geminiUsage(this.lastUsage)),
      },
    ];
  }

  usage(): NormalizedUsage | null {
    return this.lastUsage ? geminiUsage(this.lastUsage) : null;
  }

  /** Gemini's chunks carry the prompt count throughout and candidatesTokenCount only once it counts the answer. */
  outputCounted(): boolean {
    return this.lastUsage?.candidatesTokenCount !== undefined;
  }

  finished(): boolean {
    return this.done;
  }

  private chunk(index: number, delta: ChunkDelta, finish: FinishReason | null = null, lp?: ChoiceLogprobs | null): ChatChunk {
    const choice: ChatChunk["choices"][number] = { index, delta, finish_reason: finish };
    if (lp) choice.logprobs = lp;
    return { id: this.id ?? "", object: "chat.completion.chunk", created: this.created, model: this.model, choices: [choice] };
  }
}

function geminiStreamError(json: Record<string, unknown>): UpstreamError {
  const info = geminiErrorInfo(json);
  const code = isRecord(json.error) && typeof json.error.code === "number" ? json.error.code : 500;
  return classifyHttpError(code, info, new Headers());
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

/**
 * `{"error":{"code":429,"message":"…","status":"RESOURCE_EXHAUSTED","details":[{"@type":
 * "type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}, {"@type":"…ErrorInfo","reason":"…"}]}}`,
 * sometimes wrapped in an array.
 */
function geminiErrorInfo(json: unknown): ErrorInfo {
  const root = Array.isArray(json) ? json[0] : json;
  if (!isRecord(root) || !isRecord(root.error)) return { message: "", codes: [] };
  const error = root.error;
  const codes: string[] = [];
  const status = asString(error.status);
  if (status) codes.push(status);
  let retryAfterMs: number | undefined;
  for (const detail of Array.isArray(error.details) ? error.details : []) {
    if (!isRecord(detail)) continue;
    const reason = asString(detail.reason);
    if (reason) codes.push(reason);
    retryAfterMs ??= parseDurationMs(detail.retryDelay);
  }
  return { message: asString(error.message) ?? "", codes, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
}

function classifyError(status: number, body: string, headers: Headers): UpstreamError {
  return classifyHttpError(status, geminiErrorInfo(parseJsonOrUndefined(body)), headers);
}

// ---------------------------------------------------------------------------------------------------------------
// Embeddings

const embedSchema = z.object({ embedding: z.object({ values: z.array(z.number()) }).loose() }).loose();
const batchEmbedSchema = z.object({ embeddings: z.array(z.object({ values: z.array(z.number()) }).loose()) }).loose();

/** Float32 little-endian, base64 — what OpenAI returns for `encoding_format: "base64"`. */
function toBase64(values: number[]): string {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => buffer.writeFloatLE(value, i * 4));
  return buffer.toString("base64");
}

const geminiEmbeddings: EmbeddingsAdapter = {
  buildRequest(req: EmbeddingRequest, target: UpstreamTarget): HttpRequestSpec {
    const texts = typeof req.input === "string" ? [req.input] : req.input;
    if (!texts.every((item): item is string => typeof item === "string")) {
      throw unsupportedParameter("input", LABEL, "token-array input is not available; send text");
    }
    const path = modelPath(target.model);
    const withDimensions = (request: Record<string, unknown>) =>
      req.dimensions !== undefined ? { ...request, outputDimensionality: req.dimensions } : request;
    // One text uses embedContent; a list uses batchEmbedContents (one round trip).
    const single = typeof req.input === "string";
    const body = single
      ? withDimensions({ content: { parts: [{ text: texts[0] }] } })
      : { requests: texts.map((text) => withDimensions({ model: path.slice(1), content: { parts: [{ text }] } })) };
    return {
      url: joinUrl(target.baseUrl, path + (single ? ":embedContent" : ":batchEmbedContents")),
      method: "POST",
      headers: buildHeaders(target, "x-goog-api-key"),
      body: JSON.stringify(body),
    };
  },
  parseResponse(json: unknown, target: UpstreamTarget, req: EmbeddingRequest): EmbeddingResponse {
    let vectors: number[][];
    if (typeof req.input === "string") {
      const parsed = embedSchema.safeParse(json);
      if (!parsed.success) throw malformedResponse("Gemini embedContent response");
      vectors = [parsed.data.embedding.values];
    } else {
      const parsed = batchEmbedSchema.safeParse(json);
      if (!parsed.success) throw malformedResponse("Gemini batchEmbedContents response");
      vectors = parsed.data.embeddings.map((e) => e.values);
    }
    return {
      object: "list",
      data: vectors.map((values, index) => ({
        object: "embedding",
        index,
        embedding: req.encoding_format === "base64" ? toBase64(values) : values,
      })),
      model: target.model,
    };
  },
};

export function createGeminiAdapter(): ProviderAdapter {
  return {
    protocol: "gemini",
    buildRequest,
    parseResponse,
    createStreamParser: (target) => new GeminiStreamParser(target),
    classifyError,
    embeddings: geminiEmbeddings,
  };
}
