/**
 * The OpenAI surface: POST /v1/chat/completions (JSON and SSE), POST /v1/embeddings, GET /v1/models[/id].
 * Automatic prompt caching is simulated like OpenAI's: prompts of 1024+ tokens are cached by prefix in
 * 128-token steps and reported as usage.prompt_tokens_details.cached_tokens on a later identical prefix.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import {
  DEFAULT_REASONING_TOKENS,
  fnv1a,
  jsonContent,
  parseDirectives,
  planText,
  planToolCalls,
  quoteOf,
  replyText,
  type ToolMode,
} from "./compose";
import { embedText, toBase64Float32 } from "./embeddings";
import { contextLengthReply, contextWindow, openaiError, type Reply } from "./errors";
import { PrefixCache, playStream, sendGenerated, sendReply, sseFrame, type Exchange, type Frame, type Route, type Surface } from "./exchange";
import { countTokens, decode, encode, textPieces, tokenPieces } from "./tokens";

const CACHE_MIN_TOKENS = 1024;
const CACHE_STEP_TOKENS = 128;
const CACHE_TTL_MS = 5 * 60_000;
/** Tokens an image input costs: 85 at detail "low", one 1024x1024 high-detail image otherwise. */
const IMAGE_TOKENS = { low: 85, high: 765 };

const REASONING_EFFORT_TOKENS: Record<string, number> = { none: 0, minimal: 0, low: 16, medium: DEFAULT_REASONING_TOKENS, high: 256 };

const MODELS = ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5", "gpt-5-mini", "o3", "o4-mini", "text-embedding-3-small", "text-embedding-3-large"];

/** o-series and gpt-5 (not the chat variants) reason before answering and reject some sampling parameters. */
export function isOpenAIReasoningModel(model: string): boolean {
  return /^(o\d|gpt-5)/.test(model) && !model.includes("chat");
}

const message = z.looseObject({ role: z.string(), content: z.unknown().optional(), name: z.string().optional(), tool_calls: z.array(z.unknown()).optional() });

const chatSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  tools: z
    .array(z.looseObject({ type: z.string(), function: z.looseObject({ name: z.string(), parameters: z.unknown().optional() }).optional() }))
    .nullish(),
  tool_choice: z
    .union([z.enum(["none", "auto", "required"]), z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) })])
    .nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: z
    .looseObject({
      type: z.enum(["text", "json_object", "json_schema"]),
      json_schema: z.looseObject({ name: z.string(), schema: z.unknown().optional() }).optional(),
    })
    .nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  reasoning_effort: z.string().nullish(),
  temperature: z.number().nullish(),
});
type ChatBody = z.infer<typeof chatSchema>;
type ChatMessage = z.infer<typeof message>;

const embeddingsSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number().int()).min(1), z.array(z.array(z.number().int()).min(1)).min(1)]),
  dimensions: z.number().int().min(1).max(3072).optional(),
  encoding_format: z.enum(["float", "base64"]).optional(),
});

function validationError(error: z.ZodError, required: readonly string[]): Reply {
  const issue = error.issues[0]!;
  const param = issue.path.join(".");
  if (issue.path.length === 1 && required.includes(param) && issue.code === "invalid_type" && /undefined/.test(issue.message)) {
    if (param === "model") return openaiError(400, "you must provide a model parameter");
    return openaiError(400, `Missing required parameter: '${param}'.`, { param, code: "missing_required_parameter" });
  }
  if (issue.code === "too_small" && issue.path.length === 1 && "origin" in issue && issue.origin === "array") {
    return openaiError(400, `Invalid '${param}': empty array. Expected an array with minimum length 1, but got an empty array instead.`, { param, code: "empty_array" });
  }
  return openaiError(400, `Invalid '${param}': ${issue.message}.`, { param, code: issue.code === "invalid_type" ? "invalid_type" : "invalid_value" });
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => (part && typeof part === "object" && (part as { type?: unknown }).type === "text" ? String((part as { text?: unknown }).text ?? "") : ""))
    .filter(Boolean)
    .join(" ");
}

/** Deterministic stand-in tokens for an image (never decoded): a fixed count, varying with the image. */
function imageTokens(url: string, detail: unknown): number[] {
  const count = detail === "low" ? IMAGE_TOKENS.low : IMAGE_TOKENS.high;
  const id = 1_000_000 + (fnv1a(url) % 1_000_000);
  return new Array<number>(count).fill(id);
}

function messageTokens(m: ChatMessage): number[] {
  const out = encode(`\n${m.role}${m.name ? `:${m.name}` : ""}:\n`);
  if (typeof m.content === "string") out.push(...encode(m.content));
  else if (Array.isArray(m.content)) {
    for (const part of m.content as Array<Record<string, unknown>>) {
      if (part?.type === "text") out.push(...encode(String(part.text ?? "")));
      else if (part?.type === "image_url") {
        const image = (part.image_url ?? {}) as { url?: unknown; detail?: unknown };
        out.push(...imageTokens(String(image.url ?? ""), image.detail));
      } else if (part) out.push(...encode(JSON.stringify(part)));
    }
  }
  if (m.tool_calls) out.push(...encode(JSON.stringify(m.tool_calls)));
  return out;
}

/** The prompt as one token sequence (tools and schema first, as they precede messages in the real prompt). */
function promptTokens(body: ChatBody): number[] {
  const out: number[] = [];
  if (body.tools?.length) out.push(...encode(JSON.stringify(body.tools)));
  if (body.response_format?.type === "json_schema") out.push(...encode(JSON.stringify(body.response_format.json_schema ?? {})));
  for (const m of body.messages) out.push(...messageTokens(m));
  out.push(...encode("\nassistant:\n"));
  return out;
}

/** Longest previously seen prefix (128-token steps from 1024), then remembers every prefix of this prompt. */
function cachedPrefix(cache: PrefixCache, model: string, tokens: readonly number[]): number {
  if (tokens.length < CACHE_MIN_TOKENS) return 0;
  const hash = createHash("sha256").update(model);
  const keys: Array<{ length: number; key: string }> = [];
  let done = 0;
  for (let end = CACHE_MIN_TOKENS; end <= tokens.length; end += CACHE_STEP_TOKENS) {
    hash.update(new Uint8Array(Uint32Array.from(tokens.slice(done, end)).buffer));
    done = end;
    keys.push({ length: end, key: `openai:${hash.copy().digest("hex")}` });
  }
  let cached = 0;
  for (let i = keys.length - 1; i >= 0; i -= 1) {
    if (cache.hit(keys[i]!.key)) {
      cached = keys[i]!.length;
      break;
    }
  }
  for (const { key } of keys) cache.put(key, CACHE_TTL_MS);
  return cached;
}

/** Runner-up tokens offered in top_logprobs after the chosen one. */
const ALTERNATIVES = [" the", " a", " and", " of", " to", " in", " is", " it", " for", " that", " on", " with", " as", " at", " by", " this", " be", " or", " an", " not"];

function logprobEntry(token: number, top: number) {
  const text = decode([token]);
  const logprob = -Math.round(((fnv1a(String(token)) % 1000) / 1000) * 0.5 * 1e6) / 1e6;
  const alternatives = Array.from({ length: top }, (_, k) => {
    const altText = k === 0 ? text : ALTERNATIVES[(k - 1) % ALTERNATIVES.length]!;
    return { token: altText, logprob: k === 0 ? logprob : logprob - k * 0.75, bytes: [...Buffer.from(altText)] };
  });
  return { token: text, logprob, bytes: [...Buffer.from(text)], top_logprobs: alternatives };
}

interface ChoicePlan {
  index: number;
  content: string | null;
  tokens: number[];
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  finish: "stop" | "length" | "tool_calls" | "content_filter";
  reasoningTokens: number;
  outputTokens: number;
}

function planChoices(x: Exchange, body: ChatBody): ChoicePlan[] {
  const lastUser = [...body.messages].reverse().find((m) => m.role === "user");
  const { directives } = parseDirectives(contentText(lastUser?.content));
  const quoteSource = [...body.messages].reverse().find((m) => m.role === "user" || m.role === "tool");
  const quoted = parseDirectives(contentText(quoteSource?.content)).clean;
  const quote = quoteOf(quoted);
  const hint = quoteOf(quoted, 4);
  const reasoningModel = isOpenAIReasoningModel(body.model);
  const reasoningWanted = reasoningModel ? (directives.reasoning ?? REASONING_EFFORT_TOKENS[body.reasoning_effort ?? "medium"] ?? DEFAULT_REASONING_TOKENS) : 0;
  const limit = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  const stop = typeof body.stop === "string" ? [body.stop] : (body.stop ?? []);
  const tools = (body.tools ?? []).filter((t) => t.type === "function" && t.function).map((t) => ({ name: t.function!.name, schema: t.function!.parameters }));
  const choice = body.tool_choice;
  const mode: ToolMode = choice === undefined || choice === null ? "auto" : typeof choice === "string" ? choice : { name: choice.function.name };
  const lastRole = body.messages.at(-1)?.role;
  const format = body.response_format?.type;
  const filtered = x.fault?.fault === "content_filter";

  const calls = planToolCalls(tools, mode, { parallel: body.parallel_tool_calls !== false, afterToolResult: lastRole === "tool", noTools: directives.noTools, hint });
  // Ids derive from the conversation, so the JSON and streamed answers to one request agree.
  const conversation = fnv1a(JSON.stringify(body.messages)).toString(36);

  return Array.from({ length: body.n ?? 1 }, (_, index): ChoicePlan => {
    let reasoningTokens = limit !== undefined ? Math.min(reasoningWanted, limit) : reasoningWanted;
    if (calls.length > 0 && !filtered) {
      const toolCalls = calls.map((c, k) => ({ id: `call_sim${conversation}${fnv1a(`${index}:${k}:${c.name}`).toString(36)}`, name: c.name, arguments: c.argsJson }));
      const outputTokens = toolCalls.reduce((sum, c) => sum + countTokens(c.name) + countTokens(c.arguments), 0);
      return { index, content: null, tokens: [], toolCalls, finish: "tool_calls", reasoningTokens, outputTokens };
    }
    const reply = replyText(body.model, quote, index, directives.tokens);
    const full =
      format === "json_object" ? jsonContent(undefined, reply, hint) : format === "json_schema" ? jsonContent(body.response_format?.json_schema?.schema ?? {}, reply, hint) : reply;
    const budget = limit !== undefined ? Math.max(0, limit - reasoningTokens) : undefined;
    const plan = planText(full, { stop, maxTokens: budget });
    if (limit !== undefined && reasoningWanted >= limit) reasoningTokens = limit;
    let tokens = plan.tokens;
    let finish: ChoicePlan["finish"] = plan.finish === "length" ? "length" : "stop";
    if (filtered) {
      tokens = tokens.slice(0, Math.floor(tokens.length / 2));
      finish = "content_filter";
    }
    const content = filtered ? decode(tokens) : plan.text;
    return { index, content, tokens, toolCalls: [], finish, reasoningTokens, outputTokens: tokens.length };
  });
}

function usageOf(prompt: number, cached: number, choices: readonly ChoicePlan[]) {
  const reasoning = choices.reduce((sum, c) => sum + c.reasoningTokens, 0);
  const completion = choices.reduce((sum, c) => sum + c.outputTokens, 0) + reasoning;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function reasoningModelErrors(body: ChatBody): Reply | null {
  if (!isOpenAIReasoningModel(body.model)) return null;
  if (body.max_tokens != null) {
    return openaiError(400, "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", {
      param: "max_tokens",
      code: "unsupported_parameter",
    });
  }
  if (body.stop != null) return openaiError(400, "Unsupported parameter: 'stop' is not supported with this model.", { param: "stop", code: "unsupported_parameter" });
  if (body.temperature != null && body.temperature !== 1) {
    return openaiError(400, "Unsupported value: 'temperature' does not support " + body.temperature + " with this model. Only the default (1) value is supported.", {
      param: "temperature",
      code: "unsupported_value",
    });
  }
  return null;
}

async function chatCompletions(x: Exchange, cache: PrefixCache, headers: Record<string, string>): Promise<void> {
  const parsed = chatSchema.safeParse(x.body);
  if (!parsed.success) return sendReply(x, validationError(parsed.error, ["model", "messages"]), headers);
  const body = parsed.data;
  const rejected = reasoningModelErrors(body);
  if (rejected) return sendReply(x, rejected, headers);
  if (x.fault?.fault === "content_filter" && x.fault.on === "prompt") {
    return sendReply(
      x,
      openaiError(400, "Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.", {
        code: "content_policy_violation",
      }),
      headers,
    );
  }
  const prompt = promptTokens(body);
  if (prompt.length > contextWindow("openai", body.model)) return sendReply(x, contextLengthReply("openai", body.model, prompt.length, x.requestId), headers);
  const cached = cachedPrefix(cache, body.model, prompt);
  const choices = planChoices(x, body);
  const usage = usageOf(prompt.length, cached, choices);
  const id = `chatcmpl-sim${x.seq}`;
  const created = Math.floor(x.now() / 1000);
  const base = { id, created, model: body.model, service_tier: "default", system_fingerprint: "fp_simulator" };
  const top = body.logprobs ? (body.top_logprobs ?? 0) : 0;

  if (!body.stream) {
    const reply = {
      ...base,
      object: "chat.completion",
      choices: choices.map((c) => ({
        index: c.index,
        message: {
          role: "assistant",
          content: c.content,
          refusal: null,
          annotations: [],
          ...(c.toolCalls.length ? { tool_calls: c.toolCalls.map((t) => ({ id: t.id, type: "function", function: { name: t.name, arguments: t.arguments } })) } : {}),
        },
        logprobs: body.logprobs ? { content: c.tokens.map((t) => logprobEntry(t, top)), refusal: null } : null,
        finish_reason: c.finish,
      })),
      usage,
    };
    return sendGenerated(x, { status: 200, body: reply }, usage.completion_tokens, headers);
  }

  const includeUsage = body.stream_options?.include_usage === true;
  const chunk = (choicesPart: unknown[], extra: Record<string, unknown> = {}) => ({
    ...base,
    object: "chat.completion.chunk",
    choices: choicesPart,
    ...(includeUsage ? { usage: null } : {}),
    ...extra,
  });
  const frames: Frame[] = [];
  choices.forEach((c, i) => {
    // The first choice's first frame waits for the hidden reasoning; choices are generated in parallel.
    const reasoningWait = i === 0 ? c.reasoningTokens : 0;
    if (c.toolCalls.length) {
      c.toolCalls.forEach((t, k) => {
        const delta = {
          ...(k === 0 ? { role: "assistant", content: null } : {}),
          tool_calls: [{ index: k, id: t.id, type: "function", function: { name: t.name, arguments: "" } }],
        };
        frames.push(sseFrame(chunk([{ index: c.index, delta, logprobs: null, finish_reason: null }]), undefined, k === 0 ? reasoningWait : 0));
        for (const piece of textPieces(t.arguments)) {
          const argDelta = { tool_calls: [{ index: k, function: { arguments: piece.text } }] };
          frames.push(sseFrame(chunk([{ index: c.index, delta: argDelta, logprobs: null, finish_reason: null }]), undefined, piece.tokens.length));
        }
      });
    } else {
      const role = { role: "assistant", content: "", refusal: null };
      frames.push(sseFrame(chunk([{ index: c.index, delta: role, logprobs: null, finish_reason: null }]), undefined, reasoningWait));
      for (const piece of tokenPieces(c.tokens)) {
        const logprobs = body.logprobs ? { content: piece.tokens.map((t) => logprobEntry(t, top)), refusal: null } : null;
        frames.push(sseFrame(chunk([{ index: c.index, delta: { content: piece.text }, logprobs, finish_reason: null }]), undefined, piece.tokens.length));
      }
    }
    frames.push(sseFrame(chunk([{ index: c.index, delta: {}, logprobs: null, finish_reason: c.finish }])));
  });
  if (includeUsage) frames.push(sseFrame(chunk([], { usage })));
  frames.push(sseFrame("[DONE]"));
  await playStream(x, frames, { headers, malformed: "data: {\"id\":\"chatcmpl-broken\",\"choices\":[{\n\n" });
}

function embeddings(x: Exchange, headers: Record<string, string>): Promise<void> | void {
  const parsed = embeddingsSchema.safeParse(x.body);
  if (!parsed.success) return sendReply(x, validationError(parsed.error, ["model", "input"]), headers);
  const body = parsed.data;
  if (body.dimensions !== undefined && body.model === "text-embedding-ada-002") {
    return sendReply(x, openaiError(400, "This model does not support specifying dimensions.", { param: "dimensions" }), headers);
  }
  const raw = body.input;
  const inputs: string[] =
    typeof raw === "string" ? [raw] : typeof raw[0] === "number" ? [decode(raw as number[])] : (raw as Array<string | number[]>).map((v) => (typeof v === "string" ? v : decode(v)));
  const dims = body.dimensions ?? (body.model === "text-embedding-3-large" ? 3072 : 1536);
  const tokens = inputs.reduce((sum, text) => sum + countTokens(text), 0);
  const data = inputs.map((text, index) => {
    const vector = embedText(text, dims);
    return { object: "embedding", index, embedding: body.encoding_format === "base64" ? toBase64Float32(vector) : vector };
  });
  return sendGenerated(x, { status: 200, body: { object: "list", data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } } }, 0, headers);
}

const modelObject = (id: string) => ({ id, object: "model", created: 1_700_000_000, owned_by: "simulator" });

/** The OpenAI surface, with its own prompt cache. */
export function createOpenAISurface(now: () => number): Surface {
  const cache = new PrefixCache(now);
  const headers = (requestId: string) => ({ "x-request-id": requestId, "openai-version": "2020-10-01", "openai-processing-ms": "1" });
  return {
    protocol: "openai",
    authenticate(req, _query, apiKey) {
      const header = req.headers.authorization;
      if (!header) {
        return openaiError(
          401,
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
        );
      }
      const key = header.replace(/^Bearer\s+/i, "");
      if (key === apiKey) return null;
      const masked = key.length > 8 ? `${key.slice(0, 3)}${"*".repeat(Math.min(20, key.length - 7))}${key.slice(-4)}` : "*".repeat(key.length);
      return openaiError(401, `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`, {
        code: "invalid_api_key",
      });
    },
    route(method, path, _query, body) {
      const model = typeof (body as { model?: unknown })?.model === "string" ? (body as { model: string }).model : undefined;
      if (method === "POST" && path === "/v1/chat/completions") {
        const stream = (body as { stream?: unknown })?.stream === true;
        return { operation: "chat", model, stream, run: (x) => chatCompletions(x, cache, headers(x.requestId)) } satisfies Route;
      }
      if (method === "POST" && path === "/v1/embeddings") return { operation: "embeddings", model, stream: false, run: (x) => embeddings(x, headers(x.requestId)) };
      if (method === "GET" && path === "/v1/models") {
        return { operation: "models", stream: false, run: (x) => sendReply(x, { status: 200, body: { object: "list", data: MODELS.map(modelObject) } }, headers(x.requestId)) };
      }
      const one = method === "GET" ? /^\/v1\/models\/([^/]+)$/.exec(path) : null;
      if (one) {
        const id = decodeURIComponent(one[1]!);
        return { operation: "models", model: id, stream: false, run: (x) => sendReply(x, { status: 200, body: modelObject(id) }, headers(x.requestId)) };
      }
      return openaiError(404, `Invalid URL (${method} ${path})`);
    },
    badRequest(message) {
      return openaiError(400, message);
    },
    headers,
    reset() {
      cache.clear();
    },
  };
}
