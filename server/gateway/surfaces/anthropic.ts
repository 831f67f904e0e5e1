/**
 * The Anthropic Messages surface (`POST /v1/messages`) as a pure translator to and from the canonical Chat
 * Completions form (server/providers/types.ts), so the official `@anthropic-ai/sdk` can call Switchyard and be
 * routed to any provider. Field names follow @anthropic-ai/sdk `resources/messages` and its `MessageStream` helper.
 *
 * Request rules (`anthropicToChat`):
 * - `system` (string or text blocks) → a leading system message; `role: "system"` turns stay in place;
 * - user turns: `tool_result` blocks → `tool` messages (first, as Anthropic requires them first in the turn), the
 *   remaining text/image blocks → one user message; base64 images → `data:` URLs, URL images stay URLs;
 * - assistant turns: text → content, `tool_use` → `tool_calls` (input as JSON text), `thinking` → `reasoning_content`
 *   (never sent upstream by any adapter); `redacted_thinking` is dropped: it is opaque to every other provider;
 * - `cache_control` is kept on text, image and tool_result content (canonical parts carry it); on `tool_use` blocks
 *   and tool definitions the canonical form has no place for it, so it is dropped there;
 * - `citations` on text blocks (replayed earlier output) and `is_error` on tool results are dropped: the canonical
 *   form has no field for them (the tool output text itself still tells the model what went wrong);
 * - `max_tokens` → `max_completion_tokens`; `stop_sequences` → `stop`; `metadata.user_id` → `user`;
 *   `tool_choice` auto/any/tool/none → auto/required/function/none, `disable_parallel_tool_use` →
 *   `parallel_tool_calls: false`;
 * - `thinking` → `reasoning_effort`: budgets up to 1024 → low, up to 2048 → medium, larger → high (the inverse of
 *   the Anthropic adapter's budgets, so a budget of 1024/2048/4096 round-trips exactly; larger budgets are capped at
 *   the high budget when routed back to Anthropic); `adaptive` → medium (the model picks its own depth);
 *   `output_config.effort` wins over `thinking` when both are given;
 * - `output_config.format` (json_schema) → `response_format` json_schema named `output`;
 * - `top_k` is rejected: the canonical form has no top-k sampling and no other parameter approximates it soundly.
 *
 * Response rules (`chatToAnthropic`, `createAnthropicStreamEncoder`): content blocks in the order thinking, text,
 * tool_use; finish reasons stop→end_turn, length→max_tokens, tool_calls→tool_use, content_filter→refusal (the
 * canonical form does not say which stop sequence matched, so `stop_sequence` is always null); usage is split back
 * into Anthropic's convention, where `input_tokens` excludes cache reads and writes. Thinking blocks carry an empty
 * `signature`: no upstream signature survives translation.
 */
import { z } from "zod";
import type {
  AssistantMessage,
  ChatChunk,
  ChatMessage,
  ChatRequest,
  ChatResponse,
  FinishReason,
  NormalizedUsage,
  ReasoningEffort,
  TextPart,
  ToolCall,
  UserContentPart,
} from "../../providers/types";
import { normalizeUsage } from "../../providers/types";
import { AppError } from "../errors";
import { safeString } from "../schemas/common";
import { sseFrame, stringOrArray } from "./common";

// ---------------------------------------------------------------------------------------------------------------
// Request schema

const text = safeString();
const toolName = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -");
const toolUseId = z.string().min(1).max(256);
const jsonObject = z.record(z.string(), z.unknown());
const cacheControl = z.strictObject({ type: z.literal("ephemeral"), ttl: z.enum(["5m", "1h"]).optional() }).nullable().optional();

const textBlock = z.strictObject({
  type: z.literal("text"),
  text,
  cache_control: cacheControl,
  citations: z.array(jsonObject).nullable().optional(),
});

const imageBlock = z.strictObject({
  type: z.literal("image"),
  source: z.discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("base64"),
      media_type: z.enum(["image/jpeg", "image/png", "image/gif", "image/webp"]),
      data: z.string().min(1).regex(/^[A-Za-z0-9+/\r\n]+={0,2}$/, "must be base64"),
    }),
    z.strictObject({ type: z.literal("url"), url: safeString(8_192).regex(/^https?:\/\//i, "must be an http(s) URL") }),
  ]),
  cache_control: cacheControl,
});

const toolResultBlock = z.strictObject({
  type: z.literal("tool_result"),
  tool_use_id: toolUseId,
  content: stringOrArray(text, z.array(z.discriminatedUnion("type", [textBlock, imageBlock]))).optional(),
  is_error: z.boolean().optional(),
  cache_control: cacheControl,
});

const toolUseBlock = z.strictObject({
  type: z.literal("tool_use"),
  id: toolUseId,
  name: toolName,
  input: jsonObject,
  cache_control: cacheControl,
  caller: z.strictObject({ type: z.literal("direct") }).optional(),
});

const thinkingBlock = z.strictObject({ type: z.literal("thinking"), thinking: text, signature: z.string() });
const redactedThinkingBlock = z.strictObject({ type: z.literal("redacted_thinking"), data: z.string() });

const userTurn = z.strictObject({
  role: z.literal("user"),
  content: stringOrArray(text, z.array(z.discriminatedUnion("type", [textBlock, imageBlock, toolResultBlock])).min(1)),
});
const assistantTurn = z.strictObject({
  role: z.literal("assistant"),
  content: stringOrArray(text, z.array(z.discriminatedUnion("type", [textBlock, toolUseBlock, thinkingBlock, redactedThinkingBlock]))),
});
const systemTurn = z.strictObject({ role: z.literal("system"), content: stringOrArray(text, z.array(textBlock).min(1)) });

const tool = z.strictObject({
  // First, so that a server tool (web_search_20250305 …) fails on its type rather than on a missing input_schema.
  type: z.literal("custom", { error: "only client tools (type 'custom' or absent) are supported; server tools are not" }).nullable().optional(),
  name: toolName,
  description: safeString(100_000).optional(),
  input_schema: jsonObject,
  cache_control: cacheControl,
  strict: z.boolean().optional(),
});

const toolChoice = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal("tool"), name: toolName, disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal("none") }),
]);

const thinkingDisplay = z.enum(["summarized", "omitted"]).nullable().optional();
const thinking = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("enabled"), budget_tokens: z.number().int().min(1024), display: thinkingDisplay }),
  z.strictObject({ type: z.literal("disabled") }),
  z.strictObject({ type: z.literal("adaptive"), display: thinkingDisplay }),
]);

/** The inbound Anthropic Messages create request, validated strictly (an unknown parameter fails). */
export const anthropicMessagesRequest = z.strictObject({
  model: z.string().min(1).max(256),
  messages: z.array(z.discriminatedUnion("role", [userTurn, assistantTurn, systemTurn])).min(1).max(10_000),
  max_tokens: z.number().int().min(1),
  system: stringOrArray(text, z.array(textBlock)).optional(),
  stop_sequences: z.array(safeString(1_000)).max(16).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  tools: z.array(tool).max(128).optional(),
  tool_choice: toolChoice.optional(),
  metadata: z.strictObject({ user_id: safeString(256).nullable().optional() }).optional(),
  stream: z.boolean().optional(),
  thinking: thinking.optional(),
  output_config: z
    .strictObject({
      effort: z.enum(["low", "medium", "high", "xhigh", "max"]).nullable().optional(),
      format: z.strictObject({ type: z.literal("json_schema"), schema: jsonObject }).nullable().optional(),
    })
    .optional(),
});

export type AnthropicMessagesRequest = z.infer<typeof anthropicMessagesRequest>;
type TextBlockInput = z.infer<typeof textBlock>;
type ImageBlockInput = z.infer<typeof imageBlock>;

// ---------------------------------------------------------------------------------------------------------------
// Request translation

function textPart(block: TextBlockInput): TextPart {
  return block.cache_control ? { type: "text", text: block.text, cache_control: block.cache_control } : { type: "text", text: block.text };
}

function imagePart(block: ImageBlockInput): UserContentPart {
  const url = block.source.type === "base64" ? `data:${block.source.media_type};base64,${block.source.data}` : block.source.url;
  return block.cache_control ? { type: "image_url", image_url: { url }, cache_control: block.cache_control } : { type: "image_url", image_url: { url } };
}

function systemContent(content: string | TextBlockInput[]): string | TextPart[] | null {
  if (typeof content === "string") return content === "" ? null : content;
  return content.length === 0 ? null : content.map(textPart);
}

/** A tool_result's content as canonical tool-message content; the block's breakpoint goes on its last part. */
function toolContent(block: z.infer<typeof toolResultBlock>, param: string): string | TextPart[] {
  const content = block.content ?? "";
  const parts: TextPart[] =
    typeof content === "string"
      ? [{ type: "text", text: content }]
      : content.map((part, k) => {
          if (part.type === "image") {
            throw new AppError(400, "unsupported_parameter", `${param}.content[${k}]: images inside tool_result are not supported; tool output must be text`, {
              param: `${param}.content[${k}]`,
            });
          }
          return textPart(part);
        });
  const cache = block.cache_control;
  const last = parts.at(-1);
  if (cache && last && last.text !== "") last.cache_control = cache;
  if (typeof content === "string" && !last?.cache_control) return content;
  return parts;
}

function userMessages(content: z.infer<typeof userTurn>["content"], index: number): ChatMessage[] {
  if (typeof content === "string") return [{ role: "user", content }];
  const tools: ChatMessage[] = [];
  const parts: UserContentPart[] = [];
  content.forEach((block, j) => {
    if (block.type === "tool_result") {
      tools.push({ role: "tool", tool_call_id: block.tool_use_id, content: toolContent(block, `messages[${index}].content[${j}]`) });
    } else if (block.type === "image") parts.push(imagePart(block));
    else parts.push(textPart(block));
  });
  return parts.length > 0 ? [...tools, { role: "user", content: parts }] : tools;
}

function assistantMessage(content: z.infer<typeof assistantTurn>["content"]): AssistantMessage {
  if (typeof content === "string") return { role: "assistant", content };
  const texts: TextPart[] = [];
  const calls: ToolCall[] = [];
  let reasoning: string | null = null;
  for (const block of content) {
    if (block.type === "text") texts.push(textPart(block));
    else if (block.type === "tool_use") calls.push({ id: block.id, type: "function", function: { name: block.name, arguments: JSON.stringify(block.input) } });
    else if (block.type === "thinking") reasoning = (reasoning ?? "") + block.thinking;
  }
  const cached = texts.some((part) => part.cache_control);
  const message: AssistantMessage = {
    role: "assistant",
    content: cached ? texts : texts.length > 0 ? texts.map((part) => part.text).join("") : calls.length > 0 ? null : "",
  };
  if (calls.length > 0) message.tool_calls = calls;
  if (reasoning !== null) message.reasoning_content = reasoning;
  return message;
}

function effortFromThinking(config: AnthropicMessagesRequest["thinking"]): ReasoningEffort | undefined {
  if (!config || config.type === "disabled") return undefined;
  if (config.type === "adaptive") return "medium";
  if (config.budget_tokens <= 1024) return "low";
  return config.budget_tokens <= 2048 ? "medium" : "high";
}

/**
 * A validated Anthropic request → the canonical Chat Completions request (see the module comment for each rule).
 * Throws a 400 `AppError` naming the parameter for what has no canonical equivalent (`top_k`, images in tool
 * results). A streaming request asks for usage in the stream: the Anthropic surface always reports it.
 */
export function anthropicToChat(req: AnthropicMessagesRequest): ChatRequest {
  if (req.top_k !== undefined) {
    throw new AppError(
      400,
      "unsupported_parameter",
      "Parameter 'top_k' is not supported: requests are routed through a provider-neutral form that has no top-k sampling. Remove it (temperature and top_p are supported).",
      { param: "top_k" },
    );
  }
  const messages: ChatMessage[] = [];
  const system = req.system === undefined ? null : systemContent(req.system);
  if (system !== null) messages.push({ role: "system", content: system });
  req.messages.forEach((turn, i) => {
    if (turn.role === "user") messages.push(...userMessages(turn.content, i));
    else if (turn.role === "assistant") messages.push(assistantMessage(turn.content));
    else {
      const content = systemContent(turn.content);
      if (content !== null) messages.push({ role: "system", content });
    }
  });

  const out: ChatRequest = { model: req.model, messages, max_completion_tokens: req.max_tokens };
  if (req.stop_sequences !== undefined && req.stop_sequences.length > 0) out.stop = req.stop_sequences;
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (req.tools !== undefined && req.tools.length > 0) {
    out.tools = req.tools.map((t) => ({
      type: "function",
      function: {
        name: t.name,
        parameters: t.input_schema,
        ...(t.description !== undefined ? { description: t.description } : {}),
        ...(t.strict !== undefined ? { strict: t.strict } : {}),
      },
    }));
  }
  const choice = req.tool_choice;
  if (choice) {
    if (choice.type === "auto") out.tool_choice = "auto";
    else if (choice.type === "any") out.tool_choice = "required";
    else if (choice.type === "none") out.tool_choice = "none";
    else out.tool_choice = { type: "function", function: { name: choice.name } };
    if (choice.type !== "none" && choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
  }
  if (req.metadata?.user_id) out.user = req.metadata.user_id;
  const effort = req.output_config?.effort ?? effortFromThinking(req.thinking);
  if (effort !== undefined) out.reasoning_effort = effort;
  const format = req.output_config?.format;
  if (format) out.response_format = { type: "json_schema", json_schema: { name: "output", schema: format.schema, strict: true } };
  if (req.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Response

/** The stop reasons this surface produces (a matched stop sequence reports end_turn, see the module comment). */
export type AnthropicStopReason = "end_turn" | "max_tokens" | "tool_use" | "refusal";

export type AnthropicContentBlock =
  | { type: "text"; text: string }
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** An Anthropic `Message` (the non-streaming response body). */
export interface AnthropicMessage {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: AnthropicContentBlock[];
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

const STOP_REASONS: Record<FinishReason, AnthropicStopReason> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  function_call: "tool_use",
  content_filter: "refusal",
};

/** Normalized usage → Anthropic usage (`input_tokens` excludes the cache reads and writes it reports apart). */
export function anthropicUsage(usage: NormalizedUsage | null): AnthropicUsage {
  if (!usage) return { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  return {
    input_tokens: Math.max(0, usage.input - usage.cachedInput - usage.cacheWrite),
    output_tokens: usage.output,
    cache_creation_input_tokens: usage.cacheWrite,
    cache_read_input_tokens: usage.cachedInput,
  };
}

/** Anthropic message ids start with `msg_`; upstream ids of other providers get the prefix. */
function messageId(id: string): string {
  return id.startsWith("msg_") ? id : `msg_${id}`;
}

/** Tool-call arguments → a `tool_use` input object; anything else is a malformed upstream answer. */
function toolInput(call: ToolCall): Record<string, unknown> {
  const raw = call.function.arguments.trim() === "" ? "{}" : call.function.arguments;
  try {
    const value = JSON.parse(raw) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new AppError(502, "upstream_malformed_response", `The upstream model returned arguments for tool '${call.function.name}' that are not a JSON object`);
}

/**
 * A canonical response → an Anthropic `Message`. `model` is the name the client asked for (a policy or model name);
 * `usage` defaults to the response's own and may be passed when the gateway estimated or adjusted it.
 */
export function chatToAnthropic(res: ChatResponse, requestedModel: string, usage: NormalizedUsage | null = normalizeUsage(res.usage)): AnthropicMessage {
  const choice = res.choices[0];
  const content: AnthropicContentBlock[] = [];
  if (choice) {
    const { message } = choice;
    if (message.reasoning_content) content.push({ type: "thinking", thinking: message.reasoning_content, signature: "" });
    const said = (message.content ?? "") + (message.refusal ?? "");
    if (said !== "") content.push({ type: "text", text: said });
    for (const call of message.tool_calls ?? []) content.push({ type: "tool_use", id: call.id, name: call.function.name, input: toolInput(call) });
  }
  return {
    id: messageId(res.id),
    type: "message",
    role: "assistant",
    model: requestedModel,
    content,
    stop_reason: STOP_REASONS[choice?.finish_reason ?? "stop"],
    stop_sequence: null,
    usage: anthropicUsage(usage),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Streaming

/** The error types Anthropic sends (in error bodies and stream `error` events). */
export type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "billing_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "timeout_error"
  | "overloaded_error";

/** Turns canonical stream chunks into Anthropic SSE frames; see `createAnthropicStreamEncoder`. */
export interface AnthropicStreamEncoder {
  /** Frames for one canonical chunk (the first call also emits `message_start`). */
  push(chunk: ChatChunk): string[];
  /**
   * Frames that finish a stream that ended normally: closes the open block, then `message_delta` (stop_reason and
   * cumulative usage) and `message_stop`. `usage` null falls back to the last usage chunk seen, else zeros.
   */
  end(usage: NormalizedUsage | null): string[];
  /**
   * The frame for a failure after the stream began: `event: error` with `{type:"error",error:{type,message}}`,
   * which the SDK raises as an APIError. `type` is an Anthropic error type (`overloaded_error`, `api_error` …).
   */
  error(message: string, type: AnthropicErrorType): string;
}

type OpenBlock = { kind: "text" | "thinking" } | { kind: "tool"; toolIndex: number };

/**
 * Encoder for one streamed response, producing exactly: `message_start`, then per content block
 * `content_block_start` / `content_block_delta`* (text_delta, thinking_delta, input_json_delta) /
 * `content_block_stop`, then `message_delta` and `message_stop`. Blocks never overlap: a new kind of delta closes
 * the open block. After `end` or `error`, further calls return nothing.
 */
export function createAnthropicStreamEncoder(requestedModel: string): AnthropicStreamEncoder {
  let started = false;
  let done = false;
  let blockCount = 0;
  let open: (OpenBlock & { index: number }) | null = null;
  const toolBlocks = new Map<number, number>();
  let finish: FinishReason | null = null;
  let lastUsage: NormalizedUsage | null = null;

  const start = (frames: string[], id: string) => {
    if (started) return;
    started = true;
    frames.push(
      sseFrame("message_start", {
        type: "message_start",
        message: {
          id: messageId(id),
          type: "message",
          role: "assistant",
          model: requestedModel,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: anthropicUsage(null),
        },
      }),
    );
  };
  const close = (frames: string[]) => {
    if (!open) return;
    frames.push(sseFrame("content_block_stop", { type: "content_block_stop", index: open.index }));
    open = null;
  };
  const openBlock = (frames: string[], block: OpenBlock, contentBlock: Record<string, unknown>) => {
    close(frames);
    open = { ...block, index: blockCount++ };
    frames.push(sseFrame("content_block_start", { type: "content_block_start", index: open.index, content_block: contentBlock }));
    return open.index;
  };
  const delta = (frames: string[], index: number, value: Record<string, unknown>) => {
    frames.push(sseFrame("content_block_delta", { type: "content_block_delta", index, delta: value }));
  };
  const textDelta = (frames: string[], value: string) => {
    const index = open?.kind === "text" ? open.index : openBlock(frames, { kind: "text" }, { type: "text", text: "" });
    delta(frames, index, { type: "text_delta", text: value });
  };

  return {
    push(chunk) {
      if (done) return [];
      const frames: string[] = [];
      start(frames, chunk.id);
      if (chunk.usage) lastUsage = normalizeUsage(chunk.usage);
      // The Anthropic surface asks for one choice; any other index cannot be expressed in one Message.
      const choice = chunk.choices.find((c) => c.index === 0);
      if (!choice) return frames;
      const d = choice.delta;
      if (d.reasoning_content) {
        const index = open?.kind === "thinking" ? open.index : openBlock(frames, { kind: "thinking" }, { type: "thinking", thinking: "", signature: "" });
        delta(frames, index, { type: "thinking_delta", thinking: d.reasoning_content });
      }
      if (d.content) textDelta(frames, d.content);
      if (d.refusal) textDelta(frames, d.refusal);
      for (const call of d.tool_calls ?? []) {
        let index = toolBlocks.get(call.index);
        if (index === undefined) {
          index = openBlock(
            frames,
            { kind: "tool", toolIndex: call.index },
            { type: "tool_use", id: call.id ?? `toolu_${crypto.randomUUID().replaceAll("-", "")}`, name: call.function?.name ?? "", input: {} },
          );
          toolBlocks.set(call.index, index);
        }
        // Upstreams stream one tool call after another; a late fragment of an earlier call still carries its own
        // block index, which is how the SDK accumulates input.
        const args = call.function?.arguments;
        if (args) delta(frames, index, { type: "input_json_delta", partial_json: args });
      }
      if (choice.finish_reason) {
        finish = choice.finish_reason;
        close(frames);
      }
      return frames;
    },

    end(usage) {
      if (done) return [];
      done = true;
      const frames: string[] = [];
      start(frames, crypto.randomUUID().replaceAll("-", ""));
      close(frames);
      frames.push(
        sseFrame("message_delta", {
          type: "message_delta",
          delta: { stop_reason: STOP_REASONS[finish ?? "stop"], stop_sequence: null },
          usage: anthropicUsage(usage ?? lastUsage),
        }),
        sseFrame("message_stop", { type: "message_stop" }),
      );
      return frames;
    },

    error(message, type) {
      if (done) return "";
      done = true;
      return sseFrame("error", { type: "error", error: { type, message } });
    },
  };
}
