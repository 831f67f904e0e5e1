/**
 * The OpenAI Responses surface (`POST /v1/responses`) as a pure translator to and from the canonical Chat
 * Completions form (server/providers/types.ts), so Responses API clients can be routed to any provider. Field names
 * follow openai-node 6.x `resources/responses` and its `ResponseStream` / `accumulateResponse` helpers.
 *
 * Request rules (`responsesToChat`):
 * - `instructions` → a leading system message. With `previous_response_id` the caller passes the stored previous
 *   exchange, whose input and output items are replayed before `input`; like OpenAI, the previous `instructions`
 *   are not carried over;
 * - message items: user/system/developer → the same roles (`input_text` → text, `input_image` → image_url,
 *   `input_file` → file); consecutive assistant-side items (assistant messages, `function_call`s, `reasoning`)
 *   form one assistant message: text/refusal content, `tool_calls` (call_id → id), reasoning text →
 *   `reasoning_content` (never sent upstream by any adapter); `function_call_output` → a `tool` message;
 * - tools: function tools only; built-in tools (web_search, file_search, computer_use, code_interpreter, mcp …)
 *   are rejected. `strict` is forwarded when given; when omitted the upstream's default applies (Chat Completions:
 *   non-strict), whereas OpenAI's Responses API defaults to strict;
 * - `text.format` → `response_format`, `text.verbosity` → `verbosity`, `max_output_tokens` →
 *   `max_completion_tokens`, `reasoning.effort` → `reasoning_effort`; `reasoning.summary` is accepted and not
 *   produced (reasoning comes back as `reasoning_text` content, never as summaries);
 * - `store` and `previous_response_id` concern Switchyard's own response store and are not forwarded upstream;
 *   `include` is accepted and dropped (no encrypted reasoning or logprobs are produced).
 *
 * Response rules (`chatToResponse`, `createResponsesStreamEncoder`): output items in the order reasoning, message
 * (output_text / refusal), function_call; finish reason length → status `incomplete` with reason
 * `max_output_tokens`, content_filter → `incomplete` with reason `content_filter`; `output_text` is left out (the
 * SDK computes it from the output items); usage follows OpenAI's convention (input includes cached tokens).
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
  RefusalPart,
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
const name = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -");
const callId = z.string().min(1).max(256);
const itemStatus = z.enum(["in_progress", "completed", "incomplete"]);
const jsonObject = z.record(z.string(), z.unknown());

const inputText = z.strictObject({ type: z.literal("input_text"), text });
const inputImage = z.strictObject({
  type: z.literal("input_image"),
  detail: z.enum(["auto", "low", "high"]).optional(),
  image_url: safeString().regex(/^(https?:\/\/|data:)/i, "must be an http(s) or data: URL").nullable().optional(),
  file_id: z.string().max(256).nullable().optional(),
});
const inputFile = z.strictObject({
  type: z.literal("input_file"),
  file_data: z.string().optional(),
  file_id: z.string().max(256).nullable().optional(),
  filename: safeString(1_024).optional(),
});
const inputContent = z.array(z.discriminatedUnion("type", [inputText, inputImage, inputFile]));
const outputText = z.strictObject({
  type: z.literal("output_text"),
  text,
  annotations: z.array(z.unknown()).optional(),
  logprobs: z.array(z.unknown()).optional(),
});
const refusal = z.strictObject({ type: z.literal("refusal"), refusal: text });

const inputMessage = z.strictObject({
  type: z.literal("message").optional(),
  role: z.enum(["user", "system", "developer"]),
  content: stringOrArray(text, inputContent.min(1)),
  id: z.string().max(256).optional(),
  status: itemStatus.optional(),
});
const assistantMessage = z.strictObject({
  type: z.literal("message").optional(),
  role: z.literal("assistant"),
  content: stringOrArray(text, z.array(z.discriminatedUnion("type", [outputText, refusal, inputText]))),
  id: z.string().max(256).optional(),
  status: itemStatus.optional(),
  phase: z.enum(["commentary", "final_answer"]).nullable().optional(),
});
const functionCall = z.strictObject({
  type: z.literal("function_call"),
  call_id: callId,
  name,
  arguments: text,
  id: z.string().max(256).optional(),
  status: itemStatus.optional(),
});
const functionCallOutput = z.strictObject({
  type: z.literal("function_call_output"),
  call_id: callId,
  output: stringOrArray(text, inputContent),
  id: z.string().max(256).nullable().optional(),
  status: itemStatus.nullable().optional(),
});
const reasoning = z.strictObject({
  type: z.literal("reasoning"),
  id: z.string().max(256),
  summary: z.array(z.strictObject({ type: z.literal("summary_text"), text })),
  content: z.array(z.strictObject({ type: z.literal("reasoning_text"), text })).optional(),
  encrypted_content: z.string().nullable().optional(),
  status: itemStatus.optional(),
});

/** One item of `input` (also the shape stored items are replayed in, see `StoredExchange`). */
export const responsesInputItem = z.discriminatedUnion("type", [
  z.discriminatedUnion("role", [inputMessage, assistantMessage]),
  functionCall,
  functionCallOutput,
  reasoning,
]);
export type ResponsesInputItem = z.infer<typeof responsesInputItem>;

const functionTool = z.strictObject({
  type: z.literal("function"),
  name,
  description: safeString(100_000).nullable().optional(),
  parameters: jsonObject.nullable().optional(),
  strict: z.boolean().nullable().optional(),
});
const tool = jsonObject
  .superRefine((value, ctx) => {
    if (value.type !== "function") {
      ctx.addIssue({ code: "custom", path: ["type"], message: `built-in tool '${String(value.type)}' is not supported; only function tools are` });
    }
  })
  .pipe(functionTool);

const toolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("function"), name }),
    z.strictObject({
      type: z.literal("allowed_tools"),
      mode: z.enum(["auto", "required"]),
      tools: z.array(z.strictObject({ type: z.literal("function"), name })).min(1).max(128),
    }),
  ]),
]);

const textFormat = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text") }),
  z.strictObject({ type: z.literal("json_object") }),
  z.strictObject({
    type: z.literal("json_schema"),
    name,
    schema: jsonObject,
    description: safeString(100_000).optional(),
    strict: z.boolean().nullable().optional(),
  }),
]);

const summaryMode = z.enum(["auto", "concise", "detailed"]).nullable().optional();

/** The inbound Responses create request, validated strictly (an unknown parameter fails). */
export const responsesCreateRequest = z.strictObject({
  model: z.string().min(1).max(256),
  input: stringOrArray(text, z.array(responsesInputItem).min(1).max(10_000)),
  instructions: text.nullable().optional(),
  tools: z.array(tool).max(128).optional(),
  tool_choice: toolChoice.optional(),
  text: z.strictObject({ format: textFormat.optional(), verbosity: z.enum(["low", "medium", "high"]).nullable().optional() }).optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  max_output_tokens: z.number().int().min(1).nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  metadata: z
    .record(z.string().max(64), safeString(512))
    .refine((m) => Object.keys(m).length <= 16, "at most 16 keys")
    .nullable()
    .optional(),
  user: safeString(256).optional(),
  stream: z.boolean().nullable().optional(),
  store: z.boolean().nullable().optional(),
  previous_response_id: z.string().min(1).max(256).nullable().optional(),
  reasoning: z
    .strictObject({
      effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh", "max"]).nullable().optional(),
      summary: summaryMode,
      generate_summary: summaryMode,
    })
    .nullable()
    .optional(),
  include: z.array(z.string().max(256)).max(16).nullable().optional(),
  truncation: z.literal("disabled", { error: "only 'disabled' is supported (inputs are never truncated)" }).nullable().optional(),
  prompt_cache_key: safeString(1_024).nullable().optional(),
  safety_identifier: safeString(256).nullable().optional(),
  service_tier: z.enum(["auto", "default", "flex", "scale", "priority"]).nullable().optional(),
});

export type ResponsesCreateRequest = z.infer<typeof responsesCreateRequest>;

// ---------------------------------------------------------------------------------------------------------------
// Response types

export type ItemStatus = "in_progress" | "completed" | "incomplete";

export interface ResponsesOutputText {
  type: "output_text";
  text: string;
  annotations: unknown[];
  logprobs: unknown[];
}

export interface ResponsesRefusal {
  type: "refusal";
  refusal: string;
}

export interface ResponsesMessageItem {
  id: string;
  type: "message";
  status: ItemStatus;
  role: "assistant";
  content: Array<ResponsesOutputText | ResponsesRefusal>;
}

export interface ResponsesFunctionCallItem {
  id: string;
  type: "function_call";
  status: ItemStatus;
  call_id: string;
  name: string;
  arguments: string;
}

export interface ResponsesReasoningItem {
  id: string;
  type: "reasoning";
  status: ItemStatus;
  summary: Array<{ type: "summary_text"; text: string }>;
  content: Array<{ type: "reasoning_text"; text: string }>;
}

export type ResponsesOutputItem = ResponsesMessageItem | ResponsesFunctionCallItem | ResponsesReasoningItem;

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

/** An OpenAI `Response` object (without `output_text`, which the SDK derives from `output`). */
export interface ResponsesResponse {
  id: string;
  object: "response";
  created_at: number;
  status: ResponseStatus;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: "max_output_tokens" | "content_filter" } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: ResponsesOutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: string | null; summary: string | null };
  store: boolean;
  temperature: number;
  text: { format: z.infer<typeof textFormat>; verbosity?: string };
  tool_choice: NonNullable<ResponsesCreateRequest["tool_choice"]>;
  tools: Array<{ type: "function"; name: string; description: string | null; parameters: Record<string, unknown> | null; strict: boolean | null }>;
  top_p: number;
  truncation: "disabled";
  usage: ResponsesUsage | null;
  metadata: Record<string, string>;
  user?: string;
}

/** Identity of one response: its id (`resp_…`, also the stem of its item ids) and creation time (unix seconds). */
export interface ResponseIds {
  responseId: string;
  createdAt: number;
}

/** Fresh ids for a response created at `now` (ms since the epoch). */
export function newResponseIds(now: number = Date.now()): ResponseIds {
  return { responseId: `resp_${crypto.randomUUID().replaceAll("-", "")}`, createdAt: Math.floor(now / 1000) };
}

/**
 * What the gateway stores for a response so that a later `previous_response_id` can replay it: the whole
 * conversation input that led to it (earlier exchanges included, so a chain resolves in one lookup) and its output.
 */
export interface StoredExchange {
  input: ResponsesInputItem[];
  output: ResponsesOutputItem[];
}

// ---------------------------------------------------------------------------------------------------------------
// Request translation

function unsupported(param: string, reason: string): AppError {
  return new AppError(400, "unsupported_parameter", `Parameter '${param}' is not supported: ${reason}`, { param });
}

/** `input` as items (a string is one user message). */
export function inputItems(input: ResponsesCreateRequest["input"]): ResponsesInputItem[] {
  return typeof input === "string" ? [{ type: "message", role: "user", content: input }] : input;
}

/** The exchange to store after `response` answered `req` (`previous` is what `req` continued, if anything). */
export function storedExchange(req: ResponsesCreateRequest, response: ResponsesResponse, previous?: StoredExchange): StoredExchange {
  const earlier: ResponsesInputItem[] = previous ? [...previous.input, ...previous.output] : [];
  return { input: [...earlier, ...inputItems(req.input)], output: response.output };
}

type InputPart = z.infer<typeof inputContent>[number];

function userPart(part: InputPart, param: string): UserContentPart {
  switch (part.type) {
    case "input_text":
      return { type: "text", text: part.text };
    case "input_image":
      if (!part.image_url) throw unsupported(param, "images must be given by image_url (an http(s) or data: URL); file ids are not available");
      return { type: "image_url", image_url: part.detail ? { url: part.image_url, detail: part.detail } : { url: part.image_url } };
    case "input_file": {
      if (part.file_data === undefined && !part.file_id) throw unsupported(param, "a file needs file_data (a data: URL) or file_id");
      const file: { file_data?: string; file_id?: string; filename?: string } = {};
      if (part.file_data !== undefined) file.file_data = part.file_data;
      if (part.file_id) file.file_id = part.file_id;
      if (part.filename !== undefined) file.filename = part.filename;
      return { type: "file", file };
    }
  }
}

function textOnly(content: string | InputPart[], param: string, what: string): string | TextPart[] {
  if (typeof content === "string") return content;
  return content.map((part, k) => {
    if (part.type !== "input_text") throw unsupported(`${param}[${k}]`, `${what} can only hold input_text`);
    return { type: "text", text: part.text };
  });
}

interface AssistantTurn {
  parts: Array<TextPart | RefusalPart>;
  calls: ToolCall[];
  reasoning: string | null;
}

/** Plain text collapses to a string; refusals keep the parts form; a turn of only tool calls has null content. */
function assistantContent(turn: AssistantTurn): AssistantMessage["content"] {
  if (turn.parts.length === 0) return turn.calls.length > 0 ? null : "";
  const texts = turn.parts.flatMap((part) => (part.type === "text" ? [part.text] : []));
  return texts.length === turn.parts.length ? texts.join("") : turn.parts;
}

function assistantFromTurn(turn: AssistantTurn): AssistantMessage {
  const message: AssistantMessage = { role: "assistant", content: assistantContent(turn) };
  if (turn.calls.length > 0) message.tool_calls = turn.calls;
  if (turn.reasoning !== null) message.reasoning_content = turn.reasoning;
  return message;
}

/** Items → canonical messages; `param(i)` names item i in errors. */
function itemsToMessages(items: ResponsesInputItem[], param: (i: number) => string): ChatMessage[] {
  const out: ChatMessage[] = [];
  let turn: AssistantTurn | null = null;
  const assistant = (): AssistantTurn => (turn ??= { parts: [], calls: [], reasoning: null });
  const flush = () => {
    if (turn) out.push(assistantFromTurn(turn));
    turn = null;
  };
  items.forEach((item, i) => {
    if (item.type === "function_call") {
      assistant().calls.push({ id: item.call_id, type: "function", function: { name: item.name, arguments: item.arguments } });
    } else if (item.type === "reasoning") {
      const text = (item.content && item.content.length > 0 ? item.content : item.summary).map((part) => part.text).join("\n");
      const current = assistant();
      current.reasoning = current.reasoning === null ? text : `${current.reasoning}\n${text}`;
    } else if (item.type === "function_call_output") {
      flush();
      out.push({ role: "tool", tool_call_id: item.call_id, content: textOnly(item.output, `${param(i)}.output`, "function_call_output") });
    } else if (item.role === "assistant") {
      const parts = assistant().parts;
      if (typeof item.content === "string") parts.push({ type: "text", text: item.content });
      else for (const part of item.content) parts.push(part.type === "refusal" ? { type: "refusal", refusal: part.refusal } : { type: "text", text: part.text });
    } else {
      flush();
      const content = `${param(i)}.content`;
      if (item.role === "user") {
        out.push({ role: "user", content: typeof item.content === "string" ? item.content : item.content.map((part, k) => userPart(part, `${content}[${k}]`)) });
      } else {
        out.push({ role: item.role, content: textOnly(item.content, content, `a ${item.role} message`) });
      }
    }
  });
  flush();
  return out;
}

/**
 * A validated Responses request → the canonical Chat Completions request (see the module comment for each rule).
 * `previous` is the stored exchange `previous_response_id` names; when the id is set and nothing was found, the
 * caller passes none and this throws OpenAI's 400 `previous_response_not_found`.
 */
export function responsesToChat(req: ResponsesCreateRequest, previous?: StoredExchange): ChatRequest {
  if (req.previous_response_id && !previous) {
    throw new AppError(400, "previous_response_not_found", `Previous response with id '${req.previous_response_id}' not found.`, {
      param: "previous_response_id",
    });
  }
  const earlier: ResponsesInputItem[] = previous ? [...previous.input, ...previous.output] : [];
  const items = [...earlier, ...inputItems(req.input)];
  const offset = earlier.length;
  const messages: ChatMessage[] = [];
  if (req.instructions) messages.push({ role: "system", content: req.instructions });
  messages.push(...itemsToMessages(items, (i) => (i < offset ? "previous_response_id" : typeof req.input === "string" ? "input" : `input[${i - offset}]`)));

  const out: ChatRequest = { model: req.model, messages };
  if (req.tools !== undefined && req.tools.length > 0) {
    out.tools = req.tools.map((t) => ({
      type: "function",
      function: {
        name: t.name,
        ...(t.description !== undefined && t.description !== null ? { description: t.description } : {}),
        ...(t.parameters !== undefined && t.parameters !== null ? { parameters: t.parameters } : {}),
        ...(t.strict !== undefined && t.strict !== null ? { strict: t.strict } : {}),
      },
    }));
  }
  const choice = req.tool_choice;
  if (choice !== undefined) {
    if (typeof choice === "string") out.tool_choice = choice;
    else if (choice.type === "function") out.tool_choice = { type: "function", function: { name: choice.name } };
    else {
      out.tool_choice = {
        type: "allowed_tools",
        allowed_tools: { mode: choice.mode, tools: choice.tools.map((t) => ({ type: "function", function: { name: t.name } })) },
      };
    }
  }
  const format = req.text?.format;
  if (format?.type === "json_schema") {
    const { type: _type, ...schema } = format;
    out.response_format = { type: "json_schema", json_schema: schema };
  } else if (format) out.response_format = format;
  if (req.text?.verbosity) out.verbosity = req.text.verbosity;
  if (req.temperature !== undefined && req.temperature !== null) out.temperature = req.temperature;
  if (req.top_p !== undefined && req.top_p !== null) out.top_p = req.top_p;
  if (req.max_output_tokens) out.max_completion_tokens = req.max_output_tokens;
  if (req.parallel_tool_calls !== undefined && req.parallel_tool_calls !== null) out.parallel_tool_calls = req.parallel_tool_calls;
  if (req.metadata) out.metadata = req.metadata;
  if (req.user !== undefined) out.user = req.user;
  if (req.reasoning?.effort) out.reasoning_effort = req.reasoning.effort;
  if (req.prompt_cache_key) out.prompt_cache_key = req.prompt_cache_key;
  if (req.safety_identifier) out.safety_identifier = req.safety_identifier;
  if (req.service_tier) out.service_tier = req.service_tier;
  if (req.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Response translation

/** Normalized usage → Responses usage (OpenAI convention: input and output include their cached/reasoning parts). */
export function responsesUsage(usage: NormalizedUsage | null): ResponsesUsage {
  const u = usage ?? { input: 0, cachedInput: 0, cacheWrite: 0, output: 0, reasoning: 0 };
  return {
    input_tokens: u.input,
    input_tokens_details: { cached_tokens: u.cachedInput, cache_write_tokens: u.cacheWrite },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: u.reasoning },
    total_tokens: u.input + u.output,
  };
}

function itemId(ids: ResponseIds, prefix: "msg" | "fc" | "rs", outputIndex: number): string {
  return `${prefix}_${ids.responseId.replace(/^resp_/, "")}_${outputIndex}`;
}

function incompleteReason(finish: FinishReason | null): "max_output_tokens" | "content_filter" | null {
  if (finish === "length") return "max_output_tokens";
  return finish === "content_filter" ? "content_filter" : null;
}

interface Outcome {
  status: ResponseStatus;
  output: ResponsesOutputItem[];
  usage: ResponsesUsage | null;
  incomplete?: "max_output_tokens" | "content_filter" | null;
  error?: { code: string; message: string };
}

/** The response object around `output`, echoing the request's settings the way OpenAI does. */
function envelope(req: ResponsesCreateRequest, ids: ResponseIds, outcome: Outcome): ResponsesResponse {
  const response: ResponsesResponse = {
    id: ids.responseId,
    object: "response",
    created_at: ids.createdAt,
    status: outcome.status,
    error: outcome.error ?? null,
    incomplete_details: outcome.incomplete ? { reason: outcome.incomplete } : null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    model: req.model,
    output: outcome.output,
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: req.previous_response_id ?? null,
    reasoning: { effort: req.reasoning?.effort ?? null, summary: req.reasoning?.summary ?? null },
    store: req.store ?? true,
    temperature: req.temperature ?? 1,
    text: { format: req.text?.format ?? { type: "text" }, ...(req.text?.verbosity ? { verbosity: req.text.verbosity } : {}) },
    tool_choice: req.tool_choice ?? "auto",
    tools: (req.tools ?? []).map((t) => ({
      type: "function",
      name: t.name,
      description: t.description ?? null,
      parameters: t.parameters ?? null,
      strict: t.strict ?? null,
    })),
    top_p: req.top_p ?? 1,
    truncation: "disabled",
    usage: outcome.usage,
    metadata: req.metadata ?? {},
  };
  if (req.user !== undefined) response.user = req.user;
  return response;
}

/**
 * A canonical response → a Responses `Response` (status `completed`, or `incomplete` when the output was cut).
 * `usage` defaults to the response's own and may be passed when the gateway estimated or adjusted it.
 */
export function chatToResponse(
  res: ChatResponse,
  req: ResponsesCreateRequest,
  ids: ResponseIds,
  usage: NormalizedUsage | null = normalizeUsage(res.usage),
): ResponsesResponse {
  const choice = res.choices[0];
  const output: ResponsesOutputItem[] = [];
  const finish = choice?.finish_reason ?? "stop";
  if (choice) {
    const { message } = choice;
    if (message.reasoning_content) {
      output.push({
        id: itemId(ids, "rs", output.length),
        type: "reasoning",
        status: "completed",
        summary: [],
        content: [{ type: "reasoning_text", text: message.reasoning_content }],
      });
    }
    const content: Array<ResponsesOutputText | ResponsesRefusal> = [];
    if (message.content) content.push({ type: "output_text", text: message.content, annotations: [], logprobs: [] });
    if (message.refusal) content.push({ type: "refusal", refusal: message.refusal });
    // Like a stream that never produced text, an answer without text or refusal has no message item.
    if (content.length > 0) output.push({ id: itemId(ids, "msg", output.length), type: "message", status: "completed", role: "assistant", content });
    for (const call of message.tool_calls ?? []) {
      output.push({
        id: itemId(ids, "fc", output.length),
        type: "function_call",
        status: "completed",
        call_id: call.id,
        name: call.function.name,
        arguments: call.function.arguments,
      });
    }
  }
  const incomplete = incompleteReason(finish);
  const last = output.at(-1);
  if (incomplete && last) last.status = "incomplete";
  return envelope(req, ids, { status: incomplete ? "incomplete" : "completed", output, usage: responsesUsage(usage), incomplete });
}

// ---------------------------------------------------------------------------------------------------------------
// Streaming

/** Turns canonical stream chunks into Responses semantic events; see `createResponsesStreamEncoder`. */
export interface ResponsesStreamEncoder {
  /** Frames for one canonical chunk (the first call also emits `response.created` and `response.in_progress`). */
  push(chunk: ChatChunk): string[];
  /**
   * Frames that finish a stream that ended normally: the open item's done events, then `response.completed` (or
   * `response.incomplete` when the output was cut). `usage` null falls back to the last usage chunk seen.
   */
  end(usage: NormalizedUsage | null): string[];
  /**
   * The frames (one string, two events) for a failure after the stream began: `error` ({code, message, param}),
   * then the terminal `response.failed` whose `response.error` is `{code, message}` and whose output holds what
   * was streamed (the open item marked `incomplete`). openai-node's `responses.stream()` helper rejects on the
   * `error` event; raw-stream consumers see both. OpenAI's codes include `server_error` and `rate_limit_exceeded`.
   */
  error(message: string, code: string): string;
  /** The response as of the last event: what to store for `previous_response_id` once the stream is over. */
  response(): ResponsesResponse;
}

type OpenItem =
  | { kind: "reasoning"; item: ResponsesReasoningItem; index: number }
  | { kind: "message"; item: ResponsesMessageItem; index: number }
  | { kind: "function"; item: ResponsesFunctionCallItem; index: number };

/**
 * Encoder for one streamed response. Every event carries `sequence_number` (from 0). Per output item:
 * `response.output_item.added`, then for messages `response.content_part.added` / `response.output_text.delta`*
 * (or `response.refusal.delta`*) / `response.output_text.done` / `response.content_part.done`, for reasoning the
 * same with `reasoning_text`, for function calls `response.function_call_arguments.delta`* / `.done`; then
 * `response.output_item.done`. Items never overlap. There is no `[DONE]`: the terminal response event ends it.
 */
export function createResponsesStreamEncoder(req: ResponsesCreateRequest, ids: ResponseIds): ResponsesStreamEncoder {
  let sequence = 0;
  let started = false;
  let done = false;
  const output: ResponsesOutputItem[] = [];
  let open: OpenItem | null = null;
  const callItems = new Map<number, { item: ResponsesFunctionCallItem; index: number }>();
  let finish: FinishReason | null = null;
  let lastUsage: NormalizedUsage | null = null;
  let current = envelope(req, ids, { status: "in_progress", output: [], usage: null });

  const emit = (frames: string[], type: string, data: Record<string, unknown>) => {
    frames.push(sseFrame(type, { type, sequence_number: sequence++, ...data }));
  };
  const start = (frames: string[]) => {
    if (started) return;
    started = true;
    emit(frames, "response.created", { response: current });
    emit(frames, "response.in_progress", { response: current });
  };
  const addItem = <T extends ResponsesOutputItem>(frames: string[], item: T): number => {
    const index = output.length;
    output.push(item);
    emit(frames, "response.output_item.added", { output_index: index, item });
    return index;
  };
  const ref = (at: OpenItem) => ({ item_id: at.item.id, output_index: at.index });

  /** Finishes the open message part (text or refusal). */
  const closePart = (frames: string[], at: OpenItem & { kind: "message" }) => {
    const content_index = at.item.content.length - 1;
    const part = at.item.content[content_index];
    if (!part) return;
    if (part.type === "output_text") emit(frames, "response.output_text.done", { ...ref(at), content_index, text: part.text, logprobs: [] });
    else emit(frames, "response.refusal.done", { ...ref(at), content_index, refusal: part.refusal });
    emit(frames, "response.content_part.done", { ...ref(at), content_index, part });
  };
  const close = (frames: string[], status: ItemStatus = "completed") => {
    const at = open;
    if (!at) return;
    open = null;
    if (at.kind === "message") closePart(frames, at);
    else if (at.kind === "reasoning") {
      const part = at.item.content[0]!;
      emit(frames, "response.reasoning_text.done", { ...ref(at), content_index: 0, text: part.text });
      emit(frames, "response.content_part.done", { ...ref(at), content_index: 0, part });
    } else {
      emit(frames, "response.function_call_arguments.done", { ...ref(at), name: at.item.name, arguments: at.item.arguments });
    }
    at.item.status = status;
    emit(frames, "response.output_item.done", { output_index: at.index, item: at.item });
  };

  const reasoningDelta = (frames: string[], delta: string) => {
    if (open?.kind !== "reasoning") {
      close(frames);
      const item: ResponsesReasoningItem = { id: itemId(ids, "rs", output.length), type: "reasoning", status: "in_progress", summary: [], content: [] };
      open = { kind: "reasoning", item, index: addItem(frames, item) };
      const part = { type: "reasoning_text" as const, text: "" };
      emit(frames, "response.content_part.added", { ...ref(open), content_index: 0, part });
      item.content.push(part);
    }
    open.item.content[0]!.text += delta;
    emit(frames, "response.reasoning_text.delta", { ...ref(open), content_index: 0, delta });
  };
  const messageDelta = (frames: string[], kind: "output_text" | "refusal", delta: string) => {
    if (open?.kind !== "message") {
      close(frames);
      const item: ResponsesMessageItem = { id: itemId(ids, "msg", output.length), type: "message", status: "in_progress", role: "assistant", content: [] };
      open = { kind: "message", item, index: addItem(frames, item) };
    }
    const at = open;
    let part = at.item.content.at(-1);
    if (part?.type !== kind) {
      closePart(frames, at);
      part = kind === "output_text" ? { type: "output_text", text: "", annotations: [], logprobs: [] } : { type: "refusal", refusal: "" };
      emit(frames, "response.content_part.added", { ...ref(at), content_index: at.item.content.length, part });
      at.item.content.push(part);
    }
    const content_index = at.item.content.length - 1;
    if (part.type === "output_text") {
      part.text += delta;
      emit(frames, "response.output_text.delta", { ...ref(at), content_index, delta, logprobs: [] });
    } else {
      part.refusal += delta;
      emit(frames, "response.refusal.delta", { ...ref(at), content_index, delta });
    }
  };
  const callDelta = (frames: string[], call: NonNullable<ChatChunk["choices"][number]["delta"]["tool_calls"]>[number]) => {
    let entry = callItems.get(call.index);
    if (!entry) {
      close(frames);
      const item: ResponsesFunctionCallItem = {
        id: itemId(ids, "fc", output.length),
        type: "function_call",
        status: "in_progress",
        call_id: call.id ?? `call_${crypto.randomUUID().replaceAll("-", "")}`,
        name: call.function?.name ?? "",
        arguments: "",
      };
      entry = { item, index: addItem(frames, item) };
      open = { kind: "function", ...entry };
      callItems.set(call.index, entry);
    }
    const args = call.function?.arguments;
    if (!args) return;
    // Upstreams stream one call after another; a late fragment of an earlier call keeps its own output index.
    entry.item.arguments += args;
    emit(frames, "response.function_call_arguments.delta", { item_id: entry.item.id, output_index: entry.index, delta: args });
  };

  return {
    push(chunk) {
      if (done) return [];
      const frames: string[] = [];
      start(frames);
      if (chunk.usage) lastUsage = normalizeUsage(chunk.usage);
      // The Responses surface asks for one choice; any other index cannot be expressed in one response.
      const choice = chunk.choices.find((c) => c.index === 0);
      if (!choice) return frames;
      const d = choice.delta;
      if (d.reasoning_content) reasoningDelta(frames, d.reasoning_content);
      if (d.content) messageDelta(frames, "output_text", d.content);
      if (d.refusal) messageDelta(frames, "refusal", d.refusal);
      for (const call of d.tool_calls ?? []) callDelta(frames, call);
      if (choice.finish_reason) {
        finish = choice.finish_reason;
        close(frames, incompleteReason(finish) ? "incomplete" : "completed");
      }
      return frames;
    },

    end(usage) {
      if (done) return [];
      done = true;
      const frames: string[] = [];
      start(frames);
      const incomplete = incompleteReason(finish);
      close(frames, incomplete ? "incomplete" : "completed");
      current = envelope(req, ids, {
        status: incomplete ? "incomplete" : "completed",
        output: [...output],
        usage: responsesUsage(usage ?? lastUsage),
        incomplete,
      });
      emit(frames, incomplete ? "response.incomplete" : "response.completed", { response: current });
      return frames;
    },

    error(message, code) {
      if (done) return "";
      done = true;
      const frames: string[] = [];
      start(frames);
      if (open) open.item.status = "incomplete";
      open = null;
      emit(frames, "error", { code, message, param: null });
      current = envelope(req, ids, {
        status: "failed",
        output: [...output],
        usage: lastUsage ? responsesUsage(lastUsage) : null,
        error: { code, message },
      });
      emit(frames, "response.failed", { response: current });
      return frames.join("");
    },

    response: () => current,
  };
}
