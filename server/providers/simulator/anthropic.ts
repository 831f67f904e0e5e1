/**
 * The Anthropic surface: POST /v1/messages (JSON and SSE), POST /v1/messages/count_tokens, GET /v1/models[/id].
 *
 * Prompt caching follows the documented rules: the prompt is tools → system → messages, split into content
 * blocks; a block with `cache_control` ends a cacheable prefix. Prefixes shorter than the model's minimum
 * (1024 tokens; 2048 for Haiku) are not cached. A request reads the longest live prefix found at a breakpoint
 * or up to 20 blocks before one, and writes every longer breakpoint. input_tokens counts only what is neither
 * read nor written. Entries live 5 minutes (or 1 hour with `ttl: "1h"`), refreshed on every hit.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { DEFAULT_REASONING_TOKENS, fnv1a, parseDirectives, planText, planToolCalls, quoteOf, replyText, thinkingText, type ToolMode } from "./compose";
import { anthropicError, contextLengthReply, contextWindow, type Reply } from "./errors";
import { PrefixCache, playStream, sendGenerated, sendReply, sseFrame, type Exchange, type Frame, type Surface } from "./exchange";
import { countTokens, decode, textPieces } from "./tokens";

/** Tokens an image costs (about one 1092x1092 image); the simulator does not decode images. */
const IMAGE_TOKENS = 1600;
/** Tokens a PDF document costs. */
const DOCUMENT_TOKENS = 1500;
const LOOKBACK_BLOCKS = 20;
const TTL_MS = { "5m": 5 * 60_000, "1h": 60 * 60_000 } as const;

const MODELS = [
  { id: "claude-opus-4-6", display_name: "Claude Opus 4.6" },
  { id: "claude-sonnet-4-6", display_name: "Claude Sonnet 4.6" },
  { id: "claude-sonnet-4-5", display_name: "Claude Sonnet 4.5" },
  { id: "claude-haiku-4-5", display_name: "Claude Haiku 4.5" },
];

const block = z.looseObject({ type: z.string() });
const cacheControl = z.looseObject({ type: z.literal("ephemeral"), ttl: z.enum(["5m", "1h"]).optional() });

const countSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.looseObject({ role: z.enum(["user", "assistant"]), content: z.union([z.string(), z.array(block)]) })).min(1),
  system: z.union([z.string(), z.array(z.looseObject({ type: z.literal("text"), text: z.string() }))]).optional(),
  tools: z.array(z.looseObject({ name: z.string() })).optional(),
  tool_choice: z
    .looseObject({ type: z.enum(["auto", "any", "tool", "none"]), name: z.string().optional(), disable_parallel_tool_use: z.boolean().optional() })
    .optional(),
  thinking: z.looseObject({ type: z.enum(["enabled", "disabled", "adaptive"]), budget_tokens: z.number().int().optional() }).optional(),
});
const messagesSchema = countSchema.extend({
  max_tokens: z.number().int().min(1),
  stream: z.boolean().optional(),
  stop_sequences: z.array(z.string()).optional(),
});
type MessagesBody = z.infer<typeof messagesSchema>;
type CountBody = z.infer<typeof countSchema>;

function validationError(error: z.ZodError, requestId: string): Reply {
  const issue = error.issues[0]!;
  const path = issue.path.join(".");
  const text = issue.code === "invalid_type" && /undefined/.test(issue.message) ? "Field required" : issue.message;
  return anthropicError(400, "invalid_request_error", `${path}: ${text}`, requestId);
}

interface PromptBlock {
  /** What the block is and its content, without cache_control: the unit of prefix fingerprints. */
  canonical: string;
  tokens: number;
  ttl?: keyof typeof TTL_MS;
}

function ttlOf(value: unknown): keyof typeof TTL_MS | undefined {
  const parsed = cacheControl.safeParse(value);
  return parsed.success ? (parsed.data.ttl ?? "5m") : undefined;
}

function withoutCacheControl(value: Record<string, unknown>): Record<string, unknown> {
  const { cache_control: _ignored, ...rest } = value;
  return rest;
}

function blockTokens(b: Record<string, unknown>): number {
  switch (b.type) {
    case "text":
      return countTokens(String(b.text ?? ""));
    case "image":
      return IMAGE_TOKENS;
    case "document": {
      const source = (b.source ?? {}) as Record<string, unknown>;
      return source.type === "text" ? countTokens(String(source.data ?? "")) : DOCUMENT_TOKENS;
    }
    case "tool_use":
      return countTokens(`${String(b.name ?? "")}${JSON.stringify(b.input ?? {})}`);
    case "tool_result": {
      const content = b.content;
      if (typeof content === "string") return countTokens(content);
      if (Array.isArray(content)) return content.reduce((sum: number, c) => sum + blockTokens(c as Record<string, unknown>), 0);
      return 0;
    }
    case "thinking":
      return countTokens(String(b.thinking ?? ""));
    default:
      return countTokens(JSON.stringify(b));
  }
}

/** The prompt as cacheable blocks, in Anthropic's prefix order: tools, system, messages. */
function promptBlocks(body: CountBody): PromptBlock[] {
  const out: PromptBlock[] = [];
  for (const tool of body.tools ?? []) {
    const rest = withoutCacheControl(tool);
    const text = JSON.stringify(rest);
    out.push({ canonical: `tool:${text}`, tokens: countTokens(text), ttl: ttlOf(tool.cache_control) });
  }
  if (typeof body.system === "string") out.push({ canonical: `system:${body.system}`, tokens: countTokens(body.system) });
  else for (const b of body.system ?? []) out.push({ canonical: `system:${b.text}`, tokens: countTokens(b.text), ttl: ttlOf(b.cache_control) });
  for (const m of body.messages) {
    const roleTokens = countTokens(`\n${m.role}:\n`);
    const blocks = typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content;
    blocks.forEach((b, i) => {
      out.push({
        canonical: `${m.role}:${JSON.stringify(withoutCacheControl(b))}`,
        tokens: blockTokens(b) + (i === 0 ? roleTokens : 0),
        ttl: ttlOf(b.cache_control),
      });
    });
  }
  return out;
}

const PRIMING_TOKENS = countTokens("\nassistant:\n");

function inputTotal(blocks: readonly PromptBlock[]): number {
  return blocks.reduce((sum, b) => sum + b.tokens, 0) + PRIMING_TOKENS;
}

interface CacheUsage {
  read: number;
  created5m: number;
  created1h: number;
}

function cacheMinimum(model: string): number {
  return /haiku/.test(model) ? 2048 : 1024;
}

function applyPromptCache(cache: PrefixCache, model: string, blocks: readonly PromptBlock[]): CacheUsage {
  const usage: CacheUsage = { read: 0, created5m: 0, created1h: 0 };
  const min = cacheMinimum(model);
  const cumulative: number[] = [];
  const keys: string[] = [];
  let total = 0;
  let fingerprint = createHash("sha256").update(model).digest("hex");
  for (const b of blocks) {
    total += b.tokens;
    cumulative.push(total);
    fingerprint = createHash("sha256").update(fingerprint).update(b.canonical).digest("hex");
    keys.push(`anthropic:${model}:${fingerprint}`);
  }
  const breakpoints = blocks.map((b, i) => (b.ttl && cumulative[i]! >= min ? i : -1)).filter((i) => i >= 0);
  if (breakpoints.length === 0) return usage;
  let readAt = -1;
  for (const b of breakpoints) {
    for (let p = b; p >= Math.max(0, b - LOOKBACK_BLOCKS) && p > readAt; p -= 1) {
      if (cumulative[p]! >= min && cache.hit(keys[p]!)) {
        readAt = p;
        break;
      }
    }
  }
  usage.read = readAt >= 0 ? cumulative[readAt]! : 0;
  let previous = usage.read;
  for (const b of breakpoints) {
    if (b <= readAt) continue;
    const ttl = blocks[b]!.ttl!;
    const written = cumulative[b]! - previous;
    if (ttl === "1h") usage.created1h += written;
    else usage.created5m += written;
    previous = cumulative[b]!;
    cache.put(keys[b]!, TTL_MS[ttl]);
  }
  return usage;
}

function textOfBlocks(content: string | Array<Record<string, unknown>>, includeToolResults: boolean): string {
  if (typeof content === "string") return content;
  const parts: string[] = [];
  for (const b of content) {
    if (b.type === "text") parts.push(String(b.text ?? ""));
    else if (includeToolResults && b.type === "tool_result") {
      const c = b.content;
      parts.push(typeof c === "string" ? c : Array.isArray(c) ? textOfBlocks(c as Array<Record<string, unknown>>, false) : "");
    }
  }
  return parts.filter(Boolean).join(" ");
}

type ContentBlock =
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown; inputJson: string };

interface MessagePlan {
  content: ContentBlock[];
  stopReason: "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";
  stopSequence: string | null;
  outputTokens: number;
}

function planMessage(x: Exchange, body: MessagesBody): MessagePlan {
  const last = [...body.messages].reverse().find((m) => m.role === "user");
  const lastContent = last?.content ?? "";
  const { directives } = parseDirectives(textOfBlocks(lastContent, false));
  const quoteText = parseDirectives(textOfBlocks(lastContent, false) || textOfBlocks(lastContent, true)).clean;
  const quote = quoteOf(quoteText);
  const hint = quoteOf(quoteText, 4);
  const afterToolResult = Array.isArray(lastContent) && lastContent.some((b) => b.type === "tool_result");
  const content: ContentBlock[] = [];
  let outputTokens = 0;

  const thinkingOn = body.thinking?.type === "enabled" || body.thinking?.type === "adaptive";
  if (thinkingOn) {
    const wanted = directives.reasoning ?? DEFAULT_REASONING_TOKENS;
    const capped = Math.min(wanted, body.thinking?.budget_tokens ?? wanted, body.max_tokens - 1);
    if (capped > 0) {
      const thinking = thinkingText(quote, capped);
      const signature = createHash("sha256").update(thinking).digest("base64");
      content.push({ type: "thinking", thinking, signature });
      outputTokens += capped;
    }
  }

  if (x.fault?.fault === "content_filter") {
    const plan = planText(replyText(body.model, quote, 0, directives.tokens), { maxTokens: body.max_tokens - outputTokens });
    const kept = plan.tokens.slice(0, Math.floor(plan.tokens.length / 2));
    content.push({ type: "text", text: decode(kept) });
    return { content, stopReason: "refusal", stopSequence: null, outputTokens: outputTokens + kept.length };
  }

  const tools = (body.tools ?? []).filter((t) => t.input_schema !== undefined).map((t) => ({ name: t.name, schema: t.input_schema }));
  const choice = body.tool_choice;
  const mode: ToolMode = !choice || choice.type === "auto" ? "auto" : choice.type === "any" ? "required" : choice.type === "none" ? "none" : { name: choice.name ?? "" };
  const calls = planToolCalls(tools, mode, { parallel: choice?.disable_parallel_tool_use !== true, afterToolResult, noTools: directives.noTools, hint });
  if (calls.length > 0) {
    // Ids derive from the conversation, so the JSON and streamed answers to one request agree.
    const conversation = JSON.stringify(body.messages);
    calls.forEach((c, k) => {
      const id = `toolu_sim${fnv1a(conversation).toString(36)}${fnv1a(`${k}:${c.name}`).toString(36)}`;
      content.push({ type: "tool_use", id, name: c.name, input: c.args, inputJson: c.argsJson });
      outputTokens += countTokens(c.name) + countTokens(c.argsJson);
    });
    return { content, stopReason: "tool_use", stopSequence: null, outputTokens };
  }

  const plan = planText(replyText(body.model, quote, 0, directives.tokens), {
    stop: body.stop_sequences,
    maxTokens: Math.max(0, body.max_tokens - outputTokens),
  });
  content.push({ type: "text", text: plan.text });
  outputTokens += plan.tokens.length;
  const stopReason = plan.finish === "length" ? "max_tokens" : plan.finish === "stop_sequence" ? "stop_sequence" : "end_turn";
  return { content, stopReason, stopSequence: plan.stopSequence, outputTokens };
}

function publicBlock(b: ContentBlock): Record<string, unknown> {
  if (b.type === "tool_use") return { type: "tool_use", id: b.id, name: b.name, input: b.input };
  return b;
}

function thinkingChecks(body: MessagesBody, requestId: string): Reply | null {
  if (body.thinking?.type !== "enabled") return null;
  const budget = body.thinking.budget_tokens;
  if (budget === undefined) return anthropicError(400, "invalid_request_error", "thinking.enabled.budget_tokens: Field required", requestId);
  if (budget < 1024) return anthropicError(400, "invalid_request_error", "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024", requestId);
  if (body.max_tokens <= budget) {
    return anthropicError(400, "invalid_request_error", "`max_tokens` must be greater than `thinking.budget_tokens`.", requestId);
  }
  return null;
}

async function messages(x: Exchange, cache: PrefixCache, headers: Record<string, string>): Promise<void> {
  const parsed = messagesSchema.safeParse(x.body);
  if (!parsed.success) return sendReply(x, validationError(parsed.error, x.requestId), headers);
  const body = parsed.data;
  const rejected = thinkingChecks(body, x.requestId);
  if (rejected) return sendReply(x, rejected, headers);
  const blocks = promptBlocks(body);
  const total = inputTotal(blocks);
  if (total > contextWindow("anthropic", body.model)) return sendReply(x, contextLengthReply("anthropic", body.model, total, x.requestId), headers);
  const cached = applyPromptCache(cache, body.model, blocks);
  const plan = planMessage(x, body);
  const created = cached.created5m + cached.created1h;
  const usage = {
    input_tokens: total - cached.read - created,
    cache_creation_input_tokens: created,
    cache_read_input_tokens: cached.read,
    cache_creation: { ephemeral_5m_input_tokens: cached.created5m, ephemeral_1h_input_tokens: cached.created1h },
    output_tokens: plan.outputTokens,
    service_tier: "standard",
  };
  const stopDetails = plan.stopReason === "refusal" ? { type: "refusal", category: null, explanation: null } : null;
  const message = {
    id: `msg_sim${x.seq}`,
    type: "message",
    role: "assistant",
    model: body.model,
    content: plan.content.map(publicBlock),
    stop_reason: plan.stopReason,
    stop_sequence: plan.stopSequence,
    stop_details: stopDetails,
    usage,
  };
  if (!body.stream) return sendGenerated(x, { status: 200, body: message }, plan.outputTokens, headers);

  const frames: Frame[] = [];
  const event = (type: string, data: Record<string, unknown>, tokens = 0) => frames.push(sseFrame({ type, ...data }, type, tokens));
  event("message_start", {
    message: { ...message, content: [], stop_reason: null, stop_sequence: null, stop_details: null, usage: { ...usage, output_tokens: Math.min(1, plan.outputTokens) } },
  });
  plan.content.forEach((b, index) => {
    const start =
      b.type === "thinking"
        ? { type: "thinking", thinking: "", signature: "" }
        : b.type === "text"
          ? { type: "text", text: "" }
          : { type: "tool_use", id: b.id, name: b.name, input: {} };
    event("content_block_start", { index, content_block: start });
    // Like the real API: one ping once the first block has started.
    if (index === 0) event("ping", {});
    if (b.type === "thinking") {
      for (const piece of textPieces(b.thinking)) event("content_block_delta", { index, delta: { type: "thinking_delta", thinking: piece.text } }, piece.tokens.length);
      event("content_block_delta", { index, delta: { type: "signature_delta", signature: b.signature } });
    } else if (b.type === "text") {
      for (const piece of textPieces(b.text)) event("content_block_delta", { index, delta: { type: "text_delta", text: piece.text } }, piece.tokens.length);
    } else {
      event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: "" } });
      for (const piece of textPieces(b.inputJson)) {
        event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: piece.text } }, piece.tokens.length);
      }
    }
    event("content_block_stop", { index });
  });
  event("message_delta", {
    delta: { stop_reason: plan.stopReason, stop_sequence: plan.stopSequence, stop_details: stopDetails },
    usage: {
      input_tokens: usage.input_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
      output_tokens: usage.output_tokens,
    },
  });
  event("message_stop", {});
  await playStream(x, frames, { headers, malformed: "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\n\n" });
}

function countTokensEndpoint(x: Exchange, headers: Record<string, string>): void {
  const parsed = countSchema.safeParse(x.body);
  if (!parsed.success) return sendReply(x, validationError(parsed.error, x.requestId), headers);
  sendReply(x, { status: 200, body: { input_tokens: inputTotal(promptBlocks(parsed.data)) } }, headers);
}

const modelObject = (m: { id: string; display_name: string }) => ({ type: "model", id: m.id, display_name: m.display_name, created_at: "2025-01-01T00:00:00Z" });

/** The Anthropic surface, with its own prompt cache. */
export function createAnthropicSurface(now: () => number): Surface {
  const cache = new PrefixCache(now);
  const headers = (requestId: string) => ({ "request-id": requestId });
  return {
    protocol: "anthropic",
    authenticate(req, _query, apiKey, requestId) {
      const key = req.headers["x-api-key"];
      const bearer = req.headers.authorization?.replace(/^Bearer\s+/i, "");
      if (key === undefined && bearer === undefined) return anthropicError(401, "authentication_error", "x-api-key header is required", requestId);
      if (key === apiKey || bearer === apiKey) return null;
      return anthropicError(401, "authentication_error", "invalid x-api-key", requestId);
    },
    precheck(req, requestId) {
      const version = req.headers["anthropic-version"];
      if (version === undefined) return anthropicError(400, "invalid_request_error", "anthropic-version: header is required", requestId);
      if (typeof version !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(version)) {
        return anthropicError(400, "invalid_request_error", `anthropic-version: "${String(version)}" is not a valid version`, requestId);
      }
      return null;
    },
    route(method, path, _query, body, requestId) {
      const model = typeof (body as { model?: unknown })?.model === "string" ? (body as { model: string }).model : undefined;
      if (method === "POST" && path === "/v1/messages") {
        return { operation: "chat", model, stream: (body as { stream?: unknown })?.stream === true, run: (x) => messages(x, cache, headers(x.requestId)) };
      }
      if (method === "POST" && path === "/v1/messages/count_tokens") {
        return { operation: "count_tokens", model, stream: false, run: (x) => countTokensEndpoint(x, headers(x.requestId)) };
      }
      if (method === "GET" && path === "/v1/models") {
        const data = MODELS.map(modelObject);
        const list = { data, has_more: false, first_id: data[0]!.id, last_id: data.at(-1)!.id };
        return { operation: "models", stream: false, run: (x) => sendReply(x, { status: 200, body: list }, headers(x.requestId)) };
      }
      const one = method === "GET" ? /^\/v1\/models\/([^/]+)$/.exec(path) : null;
      if (one) {
        const id = decodeURIComponent(one[1]!);
        const known = MODELS.find((m) => m.id === id) ?? { id, display_name: id };
        return { operation: "models", model: id, stream: false, run: (x) => sendReply(x, { status: 200, body: modelObject(known) }, headers(x.requestId)) };
      }
      return anthropicError(404, "not_found_error", "Not Found", requestId);
    },
    badRequest(message, requestId) {
      return anthropicError(400, "invalid_request_error", message, requestId);
    },
    headers,
    reset() {
      cache.clear();
    },
  };
}
