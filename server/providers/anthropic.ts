/**
 * Anthropic Messages API adapter (POST {baseUrl}/messages, headers `x-api-key` and `anthropic-version`).
 * Field names follow @anthropic-ai/sdk `resources/messages`. Translation choices:
 * - system and developer messages → top-level `system` text blocks (in order; `cache_control` kept);
 * - tool messages → `tool_result` blocks in a user turn; assistant `tool_calls` ↔ `tool_use` blocks;
 *   consecutive turns of one role are merged, as Anthropic requires all tool results in one user turn;
 * - images: base64 data URLs → `base64` sources, http(s) URLs → `url` sources; PDF data URLs → `document`;
 * - `response_format` json_object / json_schema → one forced tool (`switchyard_json_response`) whose input
 *   schema is the requested schema; its input becomes the message content. A tool (rather than a prompt rule)
 *   has the API enforce the JSON shape on every Claude model with tool use; the cost is that it cannot be
 *   combined with client tools or extended thinking, so those combinations are rejected;
 * - `reasoning_effort` → extended thinking with a token budget (minimal/low 1024, medium 2048, high 4096);
 *   thinking blocks come back as `reasoning_content`. Their signatures are not carried to clients, so later
 *   turns cannot replay them (Anthropic then treats the earlier thinking as absent);
 * - `max_tokens` is required: when the client sets none it defaults to the model's max output from the catalog
 *   (`UpstreamTarget.maxOutputTokens`), or to 4096 (plus the thinking budget) when that is unknown.
 */
import { z } from "zod";
import type { BuildOptions, HttpRequestSpec, ProviderAdapter, SseEvent, StreamParser } from "./adapter";
import {
  asString,
  classifyHttpError,
  isRecord,
  malformedResponse,
  parseJsonOrUndefined,
  parseStreamJson,
  type ErrorInfo,
} from "./classify";
import { contentText, isHttpUrl, parseDataUrl, parseToolArguments } from "./content";
import { buildHeaders, joinUrl } from "./openai";
import { applyParams, createParamContext, unsupportedParameter, type ParamContext, type ParamTable } from "./params";
import {
  toChatUsage,
  UpstreamError,
  type ChatChunk,
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
  type ChatUsage,
  type ChunkDelta,
  type FinishReason,
  type NormalizedUsage,
  type ReasoningEffort,
  type ToolCall,
  type UpstreamTarget,
  type UserContentPart,
} from "./types";

export const ANTHROPIC_VERSION = "2023-06-01";
/** Reserved tool name carrying `response_format`; client tools may not use it. */
export const JSON_RESPONSE_TOOL = "switchyard_json_response";
const DEFAULT_MAX_TOKENS = 4096;
const LABEL = "Anthropic";

/** Thinking budgets per effort; `none` disables thinking. Efforts above `high` have no agreed budget: rejected. */
const THINKING_BUDGETS: Partial<Record<ReasoningEffort, number>> = { minimal: 1024, low: 1024, medium: 2048, high: 4096 };
const IMAGE_MEDIA_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);

type Block = Record<string, unknown>;
interface AnthropicMessage {
  role: "user" | "assistant";
  content: Block[];
}

// ---------------------------------------------------------------------------------------------------------------
// Request

function textBlock(text: string, cacheControl?: unknown): Block {
  return cacheControl ? { type: "text", text, cache_control: cacheControl } : { type: "text", text };
}

function userBlocks(content: string | UserContentPart[], index: number): Block[] {
  if (typeof content === "string") return content === "" ? [] : [textBlock(content)];
  return content.map((part, j) => {
    const param = `messages[${index}].content[${j}]`;
    switch (part.type) {
      case "text":
        return textBlock(part.text, part.cache_control);
      case "image_url": {
        const block = imageBlock(part.image_url.url, param);
        if (part.cache_control) block.cache_control = part.cache_control;
        return block;
      }
      case "file": {
        const data = part.file.file_data ? parseDataUrl(part.file.file_data) : null;
        if (data?.mediaType === "application/pdf") {
          return { type: "document", source: { type: "base64", media_type: data.mediaType, data: data.data } };
        }
        throw unsupportedParameter(param, LABEL, "only PDF files given as base64 data URLs can be sent");
      }
      case "input_audio":
        throw unsupportedParameter(param, LABEL, "audio input is not available");
    }
  });
}

function imageBlock(url: string, param: string): Block {
  const data = parseDataUrl(url);
  if (data) {
    if (!IMAGE_MEDIA_TYPES.has(data.mediaType)) {
      throw unsupportedParameter(param, LABEL, `image type ${data.mediaType} is not accepted (jpeg, png, gif, webp are)`);
    }
    return { type: "image", source: { type: "base64", media_type: data.mediaType, data: data.data } };
  }
  if (isHttpUrl(url)) return { type: "image", source: { type: "url", url } };
  throw unsupportedParameter(param, LABEL, "an image must be an http(s) URL or a base64 data URL");
}

/** Canonical messages → Anthropic `system` blocks and alternating turns. `name` fields are dropped (no equivalent). */
function convertMessages(messages: ChatMessage[]): { system: Block[]; turns: AnthropicMessage[] } {
  const system: Block[] = [];
  const turns: AnthropicMessage[] = [];
  const push = (role: "user" | "assistant", content: Block[]) => {
    const last = turns.at(-1);
    if (last?.role === role) last.content.push(...content);
    else turns.push({ role, content });
  };
  messages.forEach((message, i) => {
    switch (message.role) {
      case "system":
      case "developer":
        if (typeof message.content === "string") system.push(textBlock(message.content));
        else for (const part of message.content) system.push(textBlock(part.text, part.cache_control));
        return;
      case "user":
        return push("user", userBlocks(message.content, i));
      case "assistant": {
        const blocks: Block[] = [];
        const text = contentText(message.content);
        if (text !== "") blocks.push(textBlock(text));
        message.tool_calls?.forEach((call, j) => {
          const input = parseToolArguments(call, `messages[${i}].tool_calls[${j}].function.arguments`);
          blocks.push({ type: "tool_use", id: call.id, name: call.function.name, input });
        });
        return push("assistant", blocks);
      }
      case "tool": {
        const content =
          typeof message.content === "string"
            ? message.content
            : message.content.map((part) => textBlock(part.text, part.cache_control));
        return push("user", [{ type: "tool_result", tool_use_id: message.tool_call_id, content }]);
      }
      case "function":
        throw unsupportedParameter(`messages[${i}]`, LABEL, "the deprecated function role is not available; use tools");
    }
  });
  return { system, turns };
}

/** Merges a `tool_choice` field, keeping what another rule already set (parallel tool use). */
function setToolChoice(body: Record<string, unknown>, choice: Record<string, unknown>): void {
  const current = isRecord(body.tool_choice) ? body.tool_choice : {};
  const merged = { ...current, ...choice };
  if (merged.type === "none") delete merged.disable_parallel_tool_use;
  body.tool_choice = merged;
}

function allowedToolNames(req: ChatRequest): Set<string> | null {
  const choice = req.tool_choice;
  if (typeof choice !== "object" || choice.type !== "allowed_tools") return null;
  const names = choice.allowed_tools.tools.map((tool) => {
    const fn = isRecord(tool.function) ? asString(tool.function.name) : undefined;
    return fn ?? asString(tool.name) ?? "";
  });
  return new Set(names);
}

function thinkingRequested(req: ChatRequest): boolean {
  return req.reasoning_effort !== undefined && req.reasoning_effort !== null && req.reasoning_effort !== "none";
}

const ANTHROPIC_PARAMS: ParamTable = {
  model: { action: "map", apply: (_value, body, ctx) => void (body.model = ctx.target.model) },
  messages: {
    action: "map",
    apply(value, body) {
      const { system, turns } = convertMessages(value);
      if (system.length > 0) body.system = system;
      body.messages = turns;
    },
  },
  tools: {
    action: "map",
    apply(value, body, ctx) {
      const allowed = allowedToolNames(ctx.req);
      const tools = value.flatMap((tool) => {
        if (tool.type !== "function") {
          throw unsupportedParameter("tools", LABEL, "only function tools are available (custom tools are not)");
        }
        if (tool.function.name === JSON_RESPONSE_TOOL) {
          throw unsupportedParameter("tools", LABEL, `the tool name ${JSON_RESPONSE_TOOL} is reserved`);
        }
        if (allowed && !allowed.has(tool.function.name)) return [];
        const out: Record<string, unknown> = {
          name: tool.function.name,
          input_schema: tool.function.parameters ?? { type: "object", properties: {} },
        };
        if (tool.function.description !== undefined) out.description = tool.function.description;
        if (tool.function.strict === true) out.strict = true;
        return [out];
      });
      body.tools = [...(Array.isArray(body.tools) ? body.tools : []), ...tools];
    },
  },
  tool_choice: {
    action: "map",
    apply(value, body, ctx) {
      if (value === "auto") return setToolChoice(body, { type: "auto" });
      if (value === "none") return setToolChoice(body, { type: "none" });
      if (value === "required") return setToolChoice(body, { type: "any" });
      if (value.type === "function") return setToolChoice(body, { type: "tool", name: value.function.name });
      if (value.type === "allowed_tools") {
        // The tools rule sends only the allowed tools; the mode maps like auto / required.
        return setToolChoice(body, { type: value.allowed_tools.mode === "required" ? "any" : "auto" });
      }
      ctx.reject("tool_choice", "custom tools are not available");
    },
  },
  parallel_tool_calls: {
    action: "map",
    apply(value, body, ctx) {
      // Anthropic expresses it on tool_choice, which is only valid alongside tools.
      if (value !== false || (ctx.req.tools?.length ?? 0) === 0) return;
      const choice = isRecord(body.tool_choice) ? {} : { type: "auto" };
      setToolChoice(body, { ...choice, disable_parallel_tool_use: true });
    },
  },
  response_format: {
    action: "map",
    apply(value, body, ctx) {
      if (value.type === "text") return;
      if ((ctx.req.tools?.length ?? 0) > 0 || ctx.req.tool_choice !== undefined) {
        return ctx.reject("response_format", "JSON output uses a forced tool, which cannot be combined with client tools");
      }
      if (thinkingRequested(ctx.req)) {
        return ctx.reject("response_format", "JSON output uses a forced tool, which extended thinking does not allow");
      }
      const schema = value.type === "json_schema" ? value.json_schema.schema : undefined;
      if (schema !== undefined && schema.type !== "object") {
        return ctx.reject("response_format", "the JSON schema's root must be an object");
      }
      const tool: Record<string, unknown> = {
        name: JSON_RESPONSE_TOOL,
        description:
          value.type === "json_schema"
            ? (value.json_schema.description ?? `Respond with the ${value.json_schema.name} object.`)
            : "Respond with a JSON object.",
        input_schema: schema ?? { type: "object" },
      };
      if (value.type === "json_schema" && value.json_schema.strict === true) tool.strict = true;
      body.tools = [...(Array.isArray(body.tools) ? body.tools : []), tool];
      setToolChoice(body, { type: "tool", name: JSON_RESPONSE_TOOL });
    },
  },
  temperature: {
    action: "map",
    apply(value, body, ctx) {
      if (value > 1) return ctx.reject("temperature", `the range is 0 to 1 (got ${value})`);
      body.temperature = value;
    },
  },
  top_p: { action: "pass" },
  stop: { action: "map", apply: (value, body) => void (body.stop_sequences = typeof value === "string" ? [value] : value) },
  seed: { action: "reject", reason: "deterministic sampling is not available" },
  max_tokens: {
    action: "map",
    apply(value, body, ctx) {
      if (ctx.req.max_completion_tokens === undefined || ctx.req.max_completion_tokens === null) body.max_tokens = value;
    },
  },
  max_completion_tokens: { action: "rename", to: "max_tokens" },
  n: { action: "reject", reason: "only one choice can be generated per request" },
  user: { action: "map", apply: (value, body) => void (body.metadata = { user_id: value }) },
  safety_identifier: {
    action: "map",
    apply(value, body, ctx) {
      if (ctx.req.user === undefined) body.metadata = { user_id: value };
    },
  },
  metadata: { action: "drop", reason: "OpenAI stored-completion tags have no Anthropic equivalent" },
  logprobs: { action: "reject", reason: "log probabilities are not available" },
  top_logprobs: { action: "reject", reason: "log probabilities are not available" },
  stream: { action: "pass" },
  stream_options: { action: "drop", reason: "Anthropic streams always report usage" },
  presence_penalty: { action: "reject", reason: "presence penalties are not available" },
  frequency_penalty: { action: "reject", reason: "frequency penalties are not available" },
  logit_bias: { action: "reject", reason: "logit bias is not available" },
  reasoning_effort: {
    action: "map",
    apply(value, body, ctx) {
      if (value === "none") return;
      const budget = THINKING_BUDGETS[value];
      if (budget === undefined) return ctx.reject("reasoning_effort", `effort '${value}' has no thinking budget here`);
      body.thinking = { type: "enabled", budget_tokens: budget };
    },
  },
  prompt_cache_key: { action: "drop", reason: "Anthropic caches by cache_control breakpoints, not by key" },
  prompt_cache_retention: { action: "drop", reason: "Anthropic cache lifetime is set per breakpoint" },
  store: { action: "drop", reason: "OpenAI stored completions have no Anthropic equivalent" },
  service_tier: { action: "drop", reason: "OpenAI processing tiers have no Anthropic equivalent" },
  verbosity: { action: "reject", reason: "verbosity control is not available" },
  modalities: { action: "reject", reason: "only text output is available" },
  audio: { action: "reject", reason: "audio output is not available" },
  prediction: { action: "reject", reason: "predicted outputs are not available" },
  web_search_options: { action: "reject", reason: "the OpenAI web search options are not available" },
  functions: { action: "reject", reason: "the deprecated functions parameter is not available; use tools" },
  function_call: { action: "reject", reason: "the deprecated function_call parameter is not available; use tool_choice" },
};

/** Rules that span parameters: the max_tokens default and what extended thinking forbids. */
function finalize(body: Record<string, unknown>, ctx: ParamContext): void {
  const thinking = isRecord(body.thinking) ? body.thinking : undefined;
  const budget = typeof thinking?.budget_tokens === "number" ? thinking.budget_tokens : 0;
  if (body.max_tokens === undefined) {
    body.max_tokens = ctx.target.maxOutputTokens ?? DEFAULT_MAX_TOKENS + budget;
  }
  if (!thinking) return;
  const dropThinking = () => void delete body.thinking;
  if (typeof body.max_tokens === "number" && body.max_tokens <= budget) {
    ctx.reject("reasoning_effort", `its thinking budget (${budget} tokens) must be below max_tokens (${body.max_tokens})`);
    return dropThinking();
  }
  // Extended thinking accepts no temperature but 1, top_p only from 0.95, and no forced tool use.
  if (typeof body.temperature === "number" && body.temperature !== 1) {
    ctx.reject("temperature", "extended thinking (reasoning_effort) requires temperature 1");
    delete body.temperature;
  }
  if (typeof body.top_p === "number" && body.top_p < 0.95) {
    ctx.reject("top_p", "extended thinking (reasoning_effort) requires top_p of at least 0.95");
    delete body.top_p;
  }
  const choice = isRecord(body.tool_choice) ? body.tool_choice.type : undefined;
  if (choice === "any" || choice === "tool") {
    ctx.reject("tool_choice", "extended thinking (reasoning_effort) does not allow forcing tool use");
    delete body.tool_choice;
  }
}

function buildRequest(req: ChatRequest, target: UpstreamTarget, options?: BuildOptions): HttpRequestSpec {
  const ctx = createParamContext(req, target, LABEL, options);
  const body: Record<string, unknown> = {};
  applyParams(ANTHROPIC_PARAMS, body, ctx, "reject");
  finalize(body, ctx);
  return {
    url: joinUrl(target.baseUrl, "/messages"),
    method: "POST",
    headers: buildHeaders(target, "x-api-key", { "anthropic-version": ANTHROPIC_VERSION }),
    body: JSON.stringify(body),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Response

const usageSchema = z
  .object({
    input_tokens: z.number().nullable().optional(),
    output_tokens: z.number().nullable().optional(),
    cache_creation_input_tokens: z.number().nullable().optional(),
    cache_read_input_tokens: z.number().nullable().optional(),
    output_tokens_details: z.object({ thinking_tokens: z.number().optional() }).loose().nullable().optional(),
  })
  .loose();
type AnthropicUsage = z.infer<typeof usageSchema>;

const messageSchema = z
  .object({
    id: z.string(),
    model: z.string().optional(),
    content: z.array(z.object({ type: z.string() }).loose()),
    stop_reason: z.string().nullable().optional(),
    usage: usageSchema,
  })
  .loose();

/** Anthropic usage → normalized (its `input_tokens` excludes cache reads and writes; see NormalizedUsage). */
export function anthropicUsage(usage: AnthropicUsage): NormalizedUsage {
  const cachedInput = usage.cache_read_input_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  return {
    input: (usage.input_tokens ?? 0) + cachedInput + cacheWrite,
    cachedInput,
    cacheWrite,
    output: usage.output_tokens ?? 0,
    reasoning: usage.output_tokens_details?.thinking_tokens ?? 0,
  };
}

function finishReason(stopReason: unknown, jsonResponse: boolean): FinishReason {
  switch (stopReason) {
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return jsonResponse ? "stop" : "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      // end_turn, stop_sequence, pause_turn
      return "stop";
  }
}

function parseResponse(json: unknown, target: UpstreamTarget): ChatResponse {
  const parsed = messageSchema.safeParse(json);
  if (!parsed.success) throw malformedResponse("Anthropic message");
  const message = parsed.data;
  let text = "";
  let reasoning: string | undefined;
  let jsonResponse = false;
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block.type === "text" && typeof block.text === "string") text += block.text;
    else if (block.type === "thinking" && typeof block.thinking === "string") reasoning = (reasoning ?? "") + block.thinking;
    else if (block.type === "tool_use") {
      const input = JSON.stringify(block.input ?? {});
      if (block.name === JSON_RESPONSE_TOOL) {
        jsonResponse = true;
        text += input;
      } else {
        toolCalls.push({ id: String(block.id), type: "function", function: { name: String(block.name), arguments: input } });
      }
    }
  }
  const hasText = text !== "" || toolCalls.length === 0;
  return {
    id: message.id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: message.model ?? target.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: hasText ? text : null,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          ...(reasoning !== undefined ? { reasoning_content: reasoning } : {}),
        },
        finish_reason: finishReason(message.stop_reason, jsonResponse),
        logprobs: null,
      },
    ],
    usage: toChatUsage(anthropicUsage(message.usage)),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Streaming

type BlockKind = "text" | "thinking" | "tool" | "json" | "other";

/**
 * Anthropic error types → the HTTP status they are sent with: for errors that arrive inside a stream, and for a
 * Message Batches result that errored (it carries the type only).
 */
export const ERROR_TYPE_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

class AnthropicStreamParser implements StreamParser {
  private id = `msg_${crypto.randomUUID()}`;
  private model: string;
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly blocks = new Map<number, { kind: BlockKind; toolIndex: number }>();
  private toolCount = 0;
  private jsonResponse = false;
  private usageSoFar: AnthropicUsage | null = null;
  /** A message_delta reported usage: output_tokens is then the count of the answer, not message_start's placeholder. */
  private outputUsageSeen = false;
  private usageEmitted = false;
  private done = false;

  constructor(target: UpstreamTarget) {
    this.model = target.model;
  }

  push(event: SseEvent): ChatChunk[] {
    if (event.data.trim() === "") return [];
    const json = parseStreamJson(event.data);
    if (!isRecord(json)) throw malformedResponse("Anthropic stream event");
    const type = asString(json.type) ?? event.event;
    switch (type) {
      case "message_start":
        return this.onMessageStart(json);
      case "content_block_start":
        return this.onBlockStart(json);
      case "content_block_delta":
        return this.onBlockDelta(json);
      case "message_delta":
        return this.onMessageDelta(json);
      case "message_stop":
        this.done = true;
        return this.usageChunk();
      case "error":
        throw anthropicStreamError(json);
      default:
        // ping, content_block_stop and event types added later carry nothing to forward.
        return [];
    }
  }

  /** Flushes the usage chunk if the stream closed before `message_stop` (finished() stays false). */
  end(): ChatChunk[] {
    return this.usageChunk();
  }

  usage(): NormalizedUsage | null {
    return this.usageSoFar ? anthropicUsage(this.usageSoFar) : null;
  }

  outputCounted(): boolean {
    return this.outputUsageSeen;
  }

  finished(): boolean {
    return this.done;
  }

  private chunk(delta: ChunkDelta, finish: FinishReason | null = null): ChatChunk {
    return {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    };
  }

  private onMessageStart(json: Record<string, unknown>): ChatChunk[] {
    const message = isRecord(json.message) ? json.message : {};
    if (typeof message.id === "string") this.id = message.id;
    if (typeof message.model === "string") this.model = message.model;
    const usage = usageSchema.safeParse(message.usage);
    if (usage.success) this.usageSoFar = usage.data;
    return [this.chunk({ role: "assistant", content: "" })];
  }

  private onBlockStart(json: Record<string, unknown>): ChatChunk[] {
    const index = typeof json.index === "number" ? json.index : -1;
    const block = isRecord(json.content_block) ? json.content_block : {};
    switch (block.type) {
      case "text": {
        this.blocks.set(index, { kind: "text", toolIndex: -1 });
        const text = asString(block.text) ?? "";
        return text === "" ? [] : [this.chunk({ content: text })];
      }
      case "thinking": {
        this.blocks.set(index, { kind: "thinking", toolIndex: -1 });
        const thinking = asString(block.thinking) ?? "";
        return thinking === "" ? [] : [this.chunk({ reasoning_content: thinking })];
      }
      case "tool_use": {
        if (block.name === JSON_RESPONSE_TOOL) {
          this.jsonResponse = true;
          this.blocks.set(index, { kind: "json", toolIndex: -1 });
          return [];
        }
        const toolIndex = this.toolCount++;
        this.blocks.set(index, { kind: "tool", toolIndex });
        return [
          this.chunk({
            tool_calls: [
              { index: toolIndex, id: String(block.id), type: "function", function: { name: String(block.name), arguments: "" } },
            ],
          }),
        ];
      }
      default:
        this.blocks.set(index, { kind: "other", toolIndex: -1 });
        return [];
    }
  }

  private onBlockDelta(json: Record<string, unknown>): ChatChunk[] {
    const block = this.blocks.get(typeof json.index === "number" ? json.index : -1);
    const delta = isRecord(json.delta) ? json.delta : {};
    switch (delta.type) {
      case "text_delta":
        return [this.chunk({ content: asString(delta.text) ?? "" })];
      case "thinking_delta":
        return [this.chunk({ reasoning_content: asString(delta.thinking) ?? "" })];
      case "input_json_delta": {
        const partial = asString(delta.partial_json) ?? "";
        if (block?.kind === "json") return partial === "" ? [] : [this.chunk({ content: partial })];
        if (block?.kind !== "tool") throw malformedResponse("Anthropic stream (input_json_delta outside a tool_use block)");
        return [this.chunk({ tool_calls: [{ index: block.toolIndex, function: { arguments: partial } }] })];
      }
      default:
        // signature_delta and citations_delta have no OpenAI equivalent.
        return [];
    }
  }

  private onMessageDelta(json: Record<string, unknown>): ChatChunk[] {
    const usage = usageSchema.safeParse(json.usage);
    if (usage.success) {
      // message_delta usage is cumulative; null fields mean "unchanged since message_start".
      const next: Record<string, unknown> = { ...this.usageSoFar };
      for (const [key, value] of Object.entries(usage.data)) {
        if (value !== null && value !== undefined) next[key] = value;
      }
      this.usageSoFar = next as AnthropicUsage;
      if (usage.data.output_tokens !== null && usage.data.output_tokens !== undefined) this.outputUsageSeen = true;
    }
    const delta = isRecord(json.delta) ? json.delta : {};
    if (delta.stop_reason === undefined || delta.stop_reason === null) return [];
    return [this.chunk({}, finishReason(delta.stop_reason, this.jsonResponse && this.toolCount === 0))];
  }

  private usageChunk(): ChatChunk[] {
    const usage = this.usage();
    if (!usage || this.usageEmitted) return [];
    this.usageEmitted = true;
    const out: ChatUsage = toChatUsage(usage);
    return [{ id: this.id, object: "chat.completion.chunk", created: this.created, model: this.model, choices: [], usage: out }];
  }
}

function anthropicStreamError(json: Record<string, unknown>): UpstreamError {
  const info = anthropicErrorInfo(json);
  const status = ERROR_TYPE_STATUS[info.codes[0] ?? ""] ?? 500;
  return classifyHttpError(status, info, new Headers());
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

/** `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}` */
function anthropicErrorInfo(json: unknown): ErrorInfo {
  if (isRecord(json) && isRecord(json.error)) {
    const type = asString(json.error.type);
    return { message: asString(json.error.message) ?? "", codes: type ? [type] : [] };
  }
  return { message: "", codes: [] };
}

function classifyError(status: number, body: string, headers: Headers): UpstreamError {
  return classifyHttpError(status, anthropicErrorInfo(parseJsonOrUndefined(body)), headers);
}

export function createAnthropicAdapter(): ProviderAdapter {
  return {
    protocol: "anthropic",
    buildRequest,
    parseResponse,
    createStreamParser: (target) => new AnthropicStreamParser(target),
    classifyError,
  };
}
