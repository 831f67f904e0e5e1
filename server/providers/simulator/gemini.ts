/**
 * The Gemini surface (v1beta, also answering on v1): models/{model}:generateContent, :streamGenerateContent
 * (SSE with `?alt=sse`, otherwise a streamed JSON array), :countTokens, :embedContent, :batchEmbedContents,
 * GET models, and explicit context caching (cachedContents create/get/list/patch/delete; a generateContent
 * naming `cachedContent` reports the cache's tokens as usageMetadata.cachedContentTokenCount).
 * Request fields are accepted in camelCase or snake_case, as the real REST API does.
 */
import { z } from "zod";
import { DEFAULT_REASONING_TOKENS, jsonContent, parseDirectives, planText, planToolCalls, quoteOf, replyText, thinkingText, type ToolMode } from "./compose";
import { embedText } from "./embeddings";
import { contextLengthReply, contextWindow, geminiError, type Reply } from "./errors";
import { playStream, sendGenerated, sendReply, sseFrame, type Exchange, type Frame, type Route, type Surface } from "./exchange";
import { countTokens, decode, tokenPieces } from "./tokens";

/** Tokens per image or file part (Gemini's rate for an image up to 384x384 px). */
const MEDIA_TOKENS = 258;
const DEFAULT_CACHE_TTL_MS = 60 * 60_000;

const MODELS = [
  { id: "gemini-2.5-pro", input: 1_048_576, output: 65_536, methods: ["generateContent", "countTokens", "createCachedContent"] },
  { id: "gemini-2.5-flash", input: 1_048_576, output: 65_536, methods: ["generateContent", "countTokens", "createCachedContent"] },
  { id: "gemini-2.5-flash-lite", input: 1_048_576, output: 65_536, methods: ["generateContent", "countTokens", "createCachedContent"] },
  { id: "gemini-2.0-flash", input: 1_048_576, output: 8_192, methods: ["generateContent", "countTokens", "createCachedContent"] },
  { id: "gemini-embedding-001", input: 2_048, output: 1, methods: ["embedContent", "countTokens"] },
];

// Keys whose values are user data (function arguments, schemas): their own keys are never renamed.
const OPAQUE = new Set(["args", "response", "responseSchema", "responseJsonSchema", "parameters", "parametersJsonSchema"]);

/** snake_case → camelCase keys, as protobuf JSON accepts both. */
function camelize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelize);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const k = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    out[k] = OPAQUE.has(k) ? v : camelize(v);
  }
  return out;
}

const part = z.looseObject({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  inlineData: z.looseObject({ mimeType: z.string().optional(), data: z.string() }).optional(),
  fileData: z.looseObject({ fileUri: z.string() }).optional(),
  functionCall: z.looseObject({ name: z.string(), args: z.unknown().optional() }).optional(),
  functionResponse: z.looseObject({ name: z.string(), response: z.unknown().optional() }).optional(),
});
const content = z.looseObject({ role: z.string().optional(), parts: z.array(part) });
const tool = z.looseObject({
  functionDeclarations: z.array(z.looseObject({ name: z.string(), parameters: z.unknown().optional(), parametersJsonSchema: z.unknown().optional() })).optional(),
});
const toolConfig = z.looseObject({
  functionCallingConfig: z.looseObject({ mode: z.string().optional(), allowedFunctionNames: z.array(z.string()).optional() }).optional(),
});
const generateSchema = z.looseObject({
  contents: z.array(content).min(1),
  systemInstruction: content.optional(),
  tools: z.array(tool).optional(),
  toolConfig: toolConfig.optional(),
  cachedContent: z.string().optional(),
  generationConfig: z
    .looseObject({
      maxOutputTokens: z.number().int().min(1).optional(),
      stopSequences: z.array(z.string()).max(5).optional(),
      candidateCount: z.number().int().min(1).max(8).optional(),
      responseMimeType: z.string().optional(),
      responseSchema: z.unknown().optional(),
      responseJsonSchema: z.unknown().optional(),
      thinkingConfig: z.looseObject({ thinkingBudget: z.number().int().optional(), includeThoughts: z.boolean().optional() }).optional(),
    })
    .optional(),
});
type GenerateBody = z.infer<typeof generateSchema>;
type Content = z.infer<typeof content>;

const cacheCreateSchema = z.looseObject({
  model: z.string().min(1),
  contents: z.array(content).optional(),
  systemInstruction: content.optional(),
  tools: z.array(tool).optional(),
  toolConfig: toolConfig.optional(),
  ttl: z.string().optional(),
  expireTime: z.string().optional(),
  displayName: z.string().optional(),
});

const embedSchema = z.looseObject({
  model: z.string().optional(),
  content: z.looseObject({ parts: z.array(part).min(1) }),
  outputDimensionality: z.number().int().min(1).max(3072).optional(),
});
const batchEmbedSchema = z.looseObject({ requests: z.array(embedSchema).min(1) });

function validationError(error: z.ZodError, request: string): Reply {
  const issue = error.issues[0]!;
  const field = issue.path.join(".");
  const text = issue.code === "invalid_type" && /undefined/.test(issue.message) ? `${field.split(".").at(-1)} is not specified` : issue.message;
  return geminiError(400, "INVALID_ARGUMENT", `* ${request}.${field}: ${text}\n`);
}

function partsTokens(parts: readonly z.infer<typeof part>[]): number {
  let total = 0;
  for (const p of parts) {
    if (p.text !== undefined) total += countTokens(p.text);
    if (p.inlineData || p.fileData) total += MEDIA_TOKENS;
    if (p.functionCall) total += countTokens(`${p.functionCall.name}${JSON.stringify(p.functionCall.args ?? {})}`);
    if (p.functionResponse) total += countTokens(`${p.functionResponse.name}${JSON.stringify(p.functionResponse.response ?? {})}`);
  }
  return total;
}

/** Tokens of a prompt's pieces (contents, system instruction, tool declarations). */
function promptTokens(input: { contents?: Content[]; systemInstruction?: Content; tools?: z.infer<typeof tool>[] }): number {
  let total = 0;
  if (input.systemInstruction) total += partsTokens(input.systemInstruction.parts);
  for (const t of input.tools ?? []) if (t.functionDeclarations?.length) total += countTokens(JSON.stringify(t.functionDeclarations));
  for (const c of input.contents ?? []) total += countTokens(`\n${c.role ?? "user"}:\n`) + partsTokens(c.parts);
  return total;
}

function textOf(c: Content | undefined): string {
  return (c?.parts ?? [])
    .map((p) => p.text ?? "")
    .filter(Boolean)
    .join(" ");
}

function isThinkingModel(model: string): boolean {
  return /^gemini-(2\.5|3)/.test(model);
}

function modelName(model: string): string {
  return model.startsWith("models/") ? model : `models/${model}`;
}

interface CachedContent {
  name: string;
  model: string;
  displayName?: string;
  contents: Content[];
  systemInstruction?: Content;
  tools?: z.infer<typeof tool>[];
  toolConfig?: z.infer<typeof toolConfig>;
  tokens: number;
  createTime: number;
  updateTime: number;
  expireTime: number;
}

function parseTtl(ttl: string | undefined, expireTime: string | undefined, now: number): number | null {
  if (expireTime !== undefined) {
    const at = Date.parse(expireTime);
    return Number.isNaN(at) ? null : at;
  }
  if (ttl === undefined) return now + DEFAULT_CACHE_TTL_MS;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(ttl);
  return match ? now + Math.round(Number(match[1]) * 1000) : null;
}

const iso = (ms: number) => new Date(ms).toISOString();

function publicCache(c: CachedContent) {
  return {
    name: c.name,
    model: c.model,
    ...(c.displayName ? { displayName: c.displayName } : {}),
    usageMetadata: { totalTokenCount: c.tokens },
    createTime: iso(c.createTime),
    updateTime: iso(c.updateTime),
    expireTime: iso(c.expireTime),
  };
}

const CACHE_NOT_FOUND = () => geminiError(403, "PERMISSION_DENIED", "CachedContent not found (or permission denied)");

const SAFETY_BLOCKED = [{ category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "HIGH", blocked: true }];

interface CandidatePlan {
  index: number;
  parts: Array<Record<string, unknown>>;
  /** Token runs of the visible text part (for streaming); empty for function calls. */
  textTokens: number[];
  thoughtText?: string;
  finishReason: "STOP" | "MAX_TOKENS" | "SAFETY";
  outputTokens: number;
  thoughtsTokens: number;
}

function planCandidates(x: Exchange, model: string, body: GenerateBody, cached: CachedContent | undefined): CandidatePlan[] {
  const contents = [...(cached?.contents ?? []), ...body.contents];
  const lastUser = [...contents].reverse().find((c) => (c.role ?? "user") === "user");
  const parsed = parseDirectives(textOf(lastUser));
  const quote = quoteOf(parsed.clean);
  const hint = quoteOf(parsed.clean, 4);
  const config = body.generationConfig ?? {};
  const thinking = config.thinkingConfig;
  let thoughtsWanted = 0;
  if (isThinkingModel(model) && thinking?.thinkingBudget !== 0) {
    thoughtsWanted = parsed.directives.reasoning ?? DEFAULT_REASONING_TOKENS;
    if (thinking?.thinkingBudget !== undefined && thinking.thinkingBudget > 0) thoughtsWanted = Math.min(thoughtsWanted, thinking.thinkingBudget);
  }
  const limit = config.maxOutputTokens;
  const declarations = [...(cached?.tools ?? []), ...(body.tools ?? [])].flatMap((t) => t.functionDeclarations ?? []);
  const callingConfig = (cached?.toolConfig ?? body.toolConfig)?.functionCallingConfig;
  const allowed = callingConfig?.allowedFunctionNames;
  const tools = declarations
    .filter((d) => !allowed || allowed.includes(d.name))
    .map((d) => ({ name: d.name, schema: d.parametersJsonSchema ?? d.parameters ?? { type: "object", properties: {} } }));
  const rawMode = (callingConfig?.mode ?? "AUTO").toUpperCase();
  const mode: ToolMode = rawMode === "NONE" ? "none" : rawMode === "ANY" ? "required" : "auto";
  const afterToolResult = (contents.at(-1)?.parts ?? []).some((p) => p.functionResponse);
  const json = config.responseMimeType === "application/json";
  const enumMode = config.responseMimeType === "text/x.enum";

  return Array.from({ length: config.candidateCount ?? 1 }, (_, index): CandidatePlan => {
    const thoughtsTokens = limit !== undefined ? Math.min(thoughtsWanted, limit) : thoughtsWanted;
    const thoughtPart = thinking?.includeThoughts && thoughtsTokens > 0 ? thinkingText(quote, thoughtsTokens) : undefined;
    const lead = thoughtPart ? [{ text: thoughtPart, thought: true }] : [];
    const calls = x.fault?.fault === "content_filter" ? [] : planToolCalls(tools, mode, { parallel: true, afterToolResult, noTools: parsed.directives.noTools, hint });
    if (calls.length > 0) {
      const parts = calls.map((c) => ({ functionCall: { name: c.name, args: c.args } }));
      const outputTokens = calls.reduce((sum, c) => sum + countTokens(c.name) + countTokens(c.argsJson), 0);
      return { index, parts: [...lead, ...parts], textTokens: [], thoughtText: thoughtPart, finishReason: "STOP", outputTokens, thoughtsTokens };
    }
    const reply = replyText(model, quote, index, parsed.directives.tokens);
    const schema = config.responseJsonSchema ?? config.responseSchema;
    const enumValues = (schema as { enum?: unknown[] } | undefined)?.enum;
    const full = enumMode && Array.isArray(enumValues) ? String(enumValues[0]) : json ? jsonContent(schema, reply, hint) : reply;
    const plan = planText(full, { stop: config.stopSequences, maxTokens: limit !== undefined ? Math.max(0, limit - thoughtsTokens) : undefined });
    let tokens = plan.tokens;
    let finishReason: CandidatePlan["finishReason"] = plan.finish === "length" || (limit !== undefined && thoughtsWanted >= limit) ? "MAX_TOKENS" : "STOP";
    if (x.fault?.fault === "content_filter") {
      tokens = tokens.slice(0, Math.floor(tokens.length / 2));
      finishReason = "SAFETY";
    }
    const text = x.fault?.fault === "content_filter" ? decode(tokens) : plan.text;
    const parts = tokens.length > 0 ? [...lead, { text }] : lead;
    return { index, parts, textTokens: tokens, thoughtText: thoughtPart, finishReason, outputTokens: tokens.length, thoughtsTokens };
  });
}

function usageMetadata(prompt: number, cachedTokens: number, candidates: number, thoughts: number) {
  return {
    promptTokenCount: prompt,
    candidatesTokenCount: candidates,
    totalTokenCount: prompt + candidates + thoughts,
    ...(cachedTokens > 0 ? { cachedContentTokenCount: cachedTokens } : {}),
    ...(thoughts > 0 ? { thoughtsTokenCount: thoughts } : {}),
    promptTokensDetails: [{ modality: "TEXT", tokenCount: prompt }],
    ...(cachedTokens > 0 ? { cacheTokensDetails: [{ modality: "TEXT", tokenCount: cachedTokens }] } : {}),
  };
}

function candidateJson(c: CandidatePlan, parts: Array<Record<string, unknown>>, finish: boolean) {
  return {
    content: { parts, role: "model" },
    ...(finish ? { finishReason: c.finishReason } : {}),
    index: c.index,
    ...(finish && c.finishReason === "SAFETY" ? { safetyRatings: SAFETY_BLOCKED } : {}),
  };
}

function createGenerate(caches: Map<string, CachedContent>) {
  return async function generate(x: Exchange, model: string, stream: boolean): Promise<void> {
    const parsed = generateSchema.safeParse(camelize(x.body));
    if (!parsed.success) return sendReply(x, validationError(parsed.error, "GenerateContentRequest"));
    const body = parsed.data;
    if (isThinkingModel(model) && /pro/.test(model) && body.generationConfig?.thinkingConfig?.thinkingBudget === 0) {
      return sendReply(x, geminiError(400, "INVALID_ARGUMENT", "Budget 0 is invalid. This model only works in thinking mode."));
    }
    let cached: CachedContent | undefined;
    if (body.cachedContent !== undefined) {
      cached = caches.get(body.cachedContent);
      if (!cached || cached.expireTime <= x.now()) return sendReply(x, CACHE_NOT_FOUND());
      if (cached.model !== modelName(model)) {
        return sendReply(
          x,
          geminiError(400, "INVALID_ARGUMENT", `Model used by GenerateContent request (${modelName(model)}) and CachedContent (${cached.model}) has to be the same.`),
        );
      }
      if (body.systemInstruction || body.tools || body.toolConfig) {
        return sendReply(
          x,
          geminiError(
            400,
            "INVALID_ARGUMENT",
            "CachedContent can not be used with GenerateContent request setting system_instruction, tools or tool_config.\n\nProposed fix: move those values to CachedContent from GenerateContent request.",
          ),
        );
      }
    }
    const cachedTokens = cached?.tokens ?? 0;
    const prompt = cachedTokens + promptTokens(body);
    if (prompt > contextWindow("gemini", model)) return sendReply(x, contextLengthReply("gemini", model, prompt, x.requestId));
    const base = { modelVersion: model, responseId: `sim${x.seq}` };

    if (x.fault?.fault === "content_filter" && x.fault.on === "prompt") {
      const blocked = { promptFeedback: { blockReason: "SAFETY", safetyRatings: SAFETY_BLOCKED }, usageMetadata: usageMetadata(prompt, cachedTokens, 0, 0), ...base };
      if (!stream) return sendGenerated(x, { status: 200, body: blocked }, 0);
      const sse = x.query.get("alt") === "sse";
      const frame = sse ? sseFrame(blocked, undefined, 0, "\r\n") : { data: `[${JSON.stringify(blocked)}]`, tokens: 0 };
      return playStream(x, [frame], { headers: sse ? {} : { "content-type": "application/json; charset=UTF-8" }, malformed: "" });
    }

    const candidates = planCandidates(x, model, body, cached);
    const output = candidates.reduce((sum, c) => sum + c.outputTokens, 0);
    const thoughts = candidates.reduce((sum, c) => sum + c.thoughtsTokens, 0);
    const usage = usageMetadata(prompt, cachedTokens, output, thoughts);
    if (!stream) {
      const response = { candidates: candidates.map((c) => candidateJson(c, c.parts, true)), usageMetadata: usage, ...base };
      return sendGenerated(x, { status: 200, body: response }, output + thoughts);
    }

    const sse = x.query.get("alt") === "sse";
    const chunks: Array<{ body: unknown; tokens: number }> = [];
    const partial = { promptTokenCount: prompt, totalTokenCount: prompt, ...(cachedTokens > 0 ? { cachedContentTokenCount: cachedTokens } : {}) };
    candidates.forEach((c, ci) => {
      const lastCandidate = ci === candidates.length - 1;
      const push = (parts: Array<Record<string, unknown>>, tokens: number, finish: boolean) =>
        chunks.push({ body: { candidates: [candidateJson(c, parts, finish)], usageMetadata: finish && lastCandidate ? usage : partial, ...base }, tokens });
      const thoughtWait = ci === 0 ? c.thoughtsTokens : 0;
      if (c.thoughtText) push([{ text: c.thoughtText, thought: true }], thoughtWait, false);
      const waitFirst = c.thoughtText ? 0 : thoughtWait;
      const calls = c.parts.filter((p) => p.functionCall);
      if (calls.length) {
        push(calls, waitFirst + c.outputTokens, true);
        return;
      }
      const pieces = tokenPieces(c.textTokens);
      if (pieces.length === 0) push([], waitFirst, true);
      pieces.forEach((piece, i) => push([{ text: piece.text }], piece.tokens.length + (i === 0 ? waitFirst : 0), i === pieces.length - 1));
    });
    const frames: Frame[] = sse
      ? chunks.map((ch) => sseFrame(ch.body, undefined, ch.tokens, "\r\n"))
      : chunks.map((ch, i) => ({ data: `${i === 0 ? "[" : "\n,\r\n"}${JSON.stringify(ch.body)}${i === chunks.length - 1 ? "]" : ""}`, tokens: ch.tokens }));
    await playStream(x, frames, {
      headers: sse ? {} : { "content-type": "application/json; charset=UTF-8" },
      malformed: sse ? 'data: {"candidates": [{"content": \r\n\r\n' : "\n,\r\n{\"candidates\": [",
    });
  };
}

function embedding(model: string, request: z.infer<typeof embedSchema>) {
  const text = request.content.parts.map((p) => p.text ?? "").join(" ");
  const dims = request.outputDimensionality ?? (/gemini-embedding/.test(model) ? 3072 : 768);
  return { values: embedText(text, dims) };
}

/** The Gemini surface, with its own store of cached contents. */
export function createGeminiSurface(now: () => number): Surface {
  const caches = new Map<string, CachedContent>();
  let cacheSeq = 0;
  const generate = createGenerate(caches);
  const live = (name: string) => {
    const c = caches.get(name);
    if (c && c.expireTime <= now()) caches.delete(name);
    return caches.get(name);
  };

  function createCache(x: Exchange): void {
    const parsed = cacheCreateSchema.safeParse(camelize(x.body));
    if (!parsed.success) return sendReply(x, validationError(parsed.error, "CachedContent"));
    const body = parsed.data;
    const model = modelName(body.model);
    const tokens = promptTokens(body);
    const min = /pro/.test(model) ? 4096 : 1024;
    if (tokens < min) return sendReply(x, geminiError(400, "INVALID_ARGUMENT", `Cached content is too small. total_token_count=${tokens}, min_total_token_count=${min}`));
    const at = now();
    const expireTime = parseTtl(body.ttl, body.expireTime, at);
    if (expireTime === null) return sendReply(x, geminiError(400, "INVALID_ARGUMENT", "Invalid value at 'cached_content.ttl'"));
    cacheSeq += 1;
    const entry: CachedContent = {
      name: `cachedContents/sim${cacheSeq.toString(36)}${(at % 1e6).toString(36)}`,
      model,
      displayName: body.displayName,
      contents: body.contents ?? [],
      systemInstruction: body.systemInstruction,
      tools: body.tools,
      toolConfig: body.toolConfig,
      tokens,
      createTime: at,
      updateTime: at,
      expireTime,
    };
    caches.set(entry.name, entry);
    sendReply(x, { status: 200, body: publicCache(entry) });
  }

  function updateCache(x: Exchange, name: string): void {
    const entry = live(name);
    if (!entry) return sendReply(x, CACHE_NOT_FOUND());
    const body = camelize(x.body ?? {}) as { ttl?: string; expireTime?: string };
    const at = now();
    const expireTime = parseTtl(body.ttl, body.expireTime, at);
    if (expireTime === null || (body.ttl === undefined && body.expireTime === undefined)) {
      return sendReply(x, geminiError(400, "INVALID_ARGUMENT", "Only ttl or expire_time can be updated"));
    }
    entry.expireTime = expireTime;
    entry.updateTime = at;
    sendReply(x, { status: 200, body: publicCache(entry) });
  }

  function countTokensEndpoint(x: Exchange): void {
    const raw = camelize(x.body ?? {}) as { generateContentRequest?: unknown; contents?: unknown };
    const request = raw.generateContentRequest ?? { contents: raw.contents };
    const parsed = generateSchema.safeParse(request);
    if (!parsed.success) return sendReply(x, validationError(parsed.error, "CountTokensRequest"));
    const cached = parsed.data.cachedContent !== undefined ? live(parsed.data.cachedContent) : undefined;
    if (parsed.data.cachedContent !== undefined && !cached) return sendReply(x, CACHE_NOT_FOUND());
    const own = promptTokens(parsed.data);
    const total = own + (cached?.tokens ?? 0);
    const body = {
      totalTokens: total,
      ...(cached ? { cachedContentTokenCount: cached.tokens } : {}),
      promptTokensDetails: [{ modality: "TEXT", tokenCount: total }],
    };
    sendReply(x, { status: 200, body });
  }

  function embed(x: Exchange, model: string): Promise<void> | void {
    const parsed = embedSchema.safeParse(camelize(x.body));
    if (!parsed.success) return sendReply(x, validationError(parsed.error, "EmbedContentRequest"));
    return sendGenerated(x, { status: 200, body: { embedding: embedding(model, parsed.data) } }, 0);
  }

  function batchEmbed(x: Exchange, model: string): Promise<void> | void {
    const parsed = batchEmbedSchema.safeParse(camelize(x.body));
    if (!parsed.success) return sendReply(x, validationError(parsed.error, "BatchEmbedContentsRequest"));
    const mismatch = parsed.data.requests.find((r) => r.model !== undefined && modelName(r.model) !== modelName(model));
    if (mismatch) {
      return sendReply(x, geminiError(400, "INVALID_ARGUMENT", `Model names in requests (${mismatch.model}) must match the model in the URL (${modelName(model)}).`));
    }
    return sendGenerated(x, { status: 200, body: { embeddings: parsed.data.requests.map((r) => embedding(model, r)) } }, 0);
  }

  const modelJson = (m: (typeof MODELS)[number] | { id: string }) => {
    const known = MODELS.find((k) => k.id === m.id);
    return {
      name: `models/${m.id}`,
      version: "001",
      displayName: m.id,
      inputTokenLimit: known?.input ?? 1_048_576,
      outputTokenLimit: known?.output ?? 65_536,
      supportedGenerationMethods: known?.methods ?? ["generateContent", "countTokens"],
    };
  };

  return {
    protocol: "gemini",
    authenticate(req, query, apiKey) {
      const header = req.headers["x-goog-api-key"];
      const key = typeof header === "string" ? header : (query.get("key") ?? undefined);
      if (key === undefined) {
        return geminiError(
          403,
          "PERMISSION_DENIED",
          "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        );
      }
      if (key === apiKey) return null;
      return geminiError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
        { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID", domain: "googleapis.com", metadata: { service: "generativelanguage.googleapis.com" } },
      ]);
    },
    route(method, path, _query, body) {
      const match = /^\/v1(?:beta)?\/(.*)$/.exec(path);
      const rest = match?.[1] ?? "";
      const action = /^models\/([^/:]+):([A-Za-z]+)$/.exec(rest);
      if (action && method === "POST") {
        const model = decodeURIComponent(action[1]!);
        const run = (fn: (x: Exchange) => Promise<void> | void, operation: Route["operation"], stream = false): Route => ({ operation, model, stream, run: fn });
        switch (action[2]) {
          case "generateContent":
            return run((x) => generate(x, model, false), "chat");
          case "streamGenerateContent":
            return run((x) => generate(x, model, true), "chat", true);
          case "countTokens":
            return run(countTokensEndpoint, "count_tokens");
          case "embedContent":
            return run((x) => embed(x, model), "embeddings");
          case "batchEmbedContents":
            return run((x) => batchEmbed(x, model), "embeddings");
        }
      }
      if (method === "GET" && rest === "models") {
        return { operation: "models", stream: false, run: (x) => sendReply(x, { status: 200, body: { models: MODELS.map(modelJson) } }) };
      }
      const oneModel = method === "GET" ? /^models\/([^/:]+)$/.exec(rest) : null;
      if (oneModel) {
        const id = decodeURIComponent(oneModel[1]!);
        return { operation: "models", model: id, stream: false, run: (x) => sendReply(x, { status: 200, body: modelJson({ id }) }) };
      }
      if (rest === "cachedContents") {
        const cacheModel = typeof (body as { model?: unknown })?.model === "string" ? (body as { model: string }).model.replace(/^models\//, "") : undefined;
        if (method === "POST") return { operation: "cache", model: cacheModel, stream: false, run: createCache };
        if (method === "GET") {
          return {
            operation: "cache",
            stream: false,
            run: (x) => {
              const all = [...caches.keys()].map(live).filter((c): c is CachedContent => c !== undefined);
              sendReply(x, { status: 200, body: all.length ? { cachedContents: all.map(publicCache) } : {} });
            },
          };
        }
      }
      const one = /^(cachedContents\/[^/]+)$/.exec(rest);
      if (one) {
        const name = one[1]!;
        if (method === "GET") {
          return {
            operation: "cache",
            stream: false,
            run: (x) => {
              const c = live(name);
              sendReply(x, c ? { status: 200, body: publicCache(c) } : CACHE_NOT_FOUND());
            },
          };
        }
        if (method === "PATCH") return { operation: "cache", stream: false, run: (x) => updateCache(x, name) };
        if (method === "DELETE") {
          return {
            operation: "cache",
            stream: false,
            run: (x) => {
              if (!live(name)) return sendReply(x, CACHE_NOT_FOUND());
              caches.delete(name);
              sendReply(x, { status: 200, body: {} });
            },
          };
        }
      }
      return geminiError(404, "NOT_FOUND", `Method not found: ${method} ${path}`);
    },
    badRequest(message) {
      return geminiError(400, "INVALID_ARGUMENT", message);
    },
    headers: () => ({}),
    reset() {
      caches.clear();
    },
  };
}
