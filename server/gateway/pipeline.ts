/**
 * One call through the data plane, whatever the inbound surface (OpenAI chat, Anthropic messages, OpenAI
 * responses): authenticate → read the body → the surface validates and translates it to canonical form →
 * resolve the plan → call upstream (JSON or SSE, with retries and fallback) → the surface renders the result →
 * exactly one call-log row for every authenticated request, failures included.
 */
import type { CallRecord } from "../ledger/call-log";
import type { ProviderAdapter, StreamParser } from "../providers/adapter";
import { TransportError } from "../providers/transport";
import { UpstreamError, normalizeUsage, type ChatChunk, type ChatRequest, type ChatResponse, type NormalizedUsage } from "../providers/types";
import type { AuthContext } from "./auth";
import { readJsonBody } from "./body";
import type { Gateway } from "./context";
import { assembleChunks, responseToChunks } from "./assemble";
import { toAppError } from "./errors";
import { jsonResponse } from "./json-response";
import { loggedRequestBody, logsBodies, redactBody } from "./bodies";
import type { AdmissionTicket, CacheLookup, CachedAnswer, CallContext } from "./hooks";
import { routeCall, type Plan, type Target } from "./resolve";
import { routeHeaders as explainRoute, routeRecord, routingFor } from "../routing";
import { assertNoForbiddenKeys } from "./schemas/common";
import { priceCall, priceCacheHit, recordFailure } from "./settle";
import { contextCacheFor } from "../cache/gemini-context";
import { SSE_HEADERS, readSse, type SseReader } from "./sse";
import { estimatePromptTokens, estimateTextTokens } from "./tokens";
import { fromTransportError, send, withFallback, type AttemptRecord, type SkippedTarget, type UpstreamContext } from "./upstream";

/** What a surface's parse step produces. */
export interface ParsedCall<Req> {
  request: Req;
  canonical: ChatRequest;
  stream: boolean;
}

/** Encodes canonical chunks into the surface's SSE frames. */
export interface StreamEncoder {
  push(chunk: ChatChunk): string[];
  /** Frames that end a complete stream. */
  end(usage: NormalizedUsage | null): string[];
  /** The frame(s) for a failure after the stream began; the stream then closes without its normal ending. */
  error(error: UpstreamError | null, message: string): string;
}

export interface Surface<Req> {
  surface: "openai" | "anthropic";
  endpoint: string;
  /** Validates the JSON body (throwing 400s that name the parameter) and translates it. May read storage. */
  parse(raw: unknown, key: AuthContext): Promise<ParsedCall<Req>> | ParsedCall<Req>;
  /** The JSON body for a complete, non-streamed answer. */
  render(result: ChatResponse, usage: NormalizedUsage, call: ParsedCall<Req>, key: AuthContext): Promise<unknown> | unknown;
  encoder(call: ParsedCall<Req>, key: AuthContext): StreamEncoder;
}

/** `authenticated`: the key a caller already authenticated for this very request (the deferral check of chat). */
export async function runCall<Req>(gw: Gateway, request: Request, requestId: string, surface: Surface<Req>, authenticated: AuthContext | null = null): Promise<Response> {
  const started = performance.now();
  const record: CallRecord = {
    id: crypto.randomUUID(),
    requestId,
    createdAt: new Date(),
    surface: surface.surface,
    endpoint: surface.endpoint,
    status: 0,
  };
  let key: AuthContext | null = null;
  const attempts: AttemptRecord[] = [];
  let deferLog = false;
  let ticket: AdmissionTicket | null = null;
  try {
    key = authenticated ?? (await gw.auth.authenticate(request.headers));
    Object.assign(record, { orgId: key.orgId, teamId: key.teamId, apiKeyId: key.apiKeyId });
    const raw = await readJsonBody(request, gw.rt.env.SWITCHYARD_MAX_BODY_BYTES);
    assertNoForbiddenKeys(raw);
    const call = await surface.parse(raw, key);
    // What the client asked for: a streamed request that fails before its stream opens is still a streamed call.
    record.streamed = call.stream;
    let canonical = call.canonical;
    record.requestedModel = canonical.model;
    record.endUser = canonical.user ?? null;
    // Routing: the policy (or x-switchyard-policy), the request's `switchyard` overrides, live health.
    const plan = await routeCall(routingFor(gw.rt), gw.rt.snapshot.current(), key, { canonical, headers: request.headers, raw: call.request });
    // The policy's prompt compression and output cap (server/optimize): from here on, the request as it is sent.
    if (plan.optimized) call.canonical = canonical = plan.optimized.request;
    record.policy = plan.policy?.name ?? null;
    record.route = routeRecord(plan, null);
    // Bodies only when the policy opts in (issue #6): the client's request, scrubbed and capped (./bodies.ts).
    const bodies = logsBodies(plan);
    if (bodies) record.requestBody = loggedRequestBody(raw);
    const context: CallContext = { key, endpoint: surface.endpoint, canonical, plan, headers: request.headers, callId: record.id };
    // Budgets and rate limits apply before anything else, cache hits included.
    ticket = await gw.admission.admit(context);
    const lookup = await gw.cache.lookup(context);
    record.cacheOutcome = lookup.outcome;
    const extraHeaders = { ...ticket.headers, ...lookup.headers, "x-switchyard-cache": lookup.outcome };

    if (lookup.answer) {
      if (bodies) record.responseBody = redactBody(lookup.answer.response);
      const served = await serveFromCache(surface, call, key, lookup.answer, plan, record, extraHeaders, started);
      await ticket.settle("0", ZERO_USAGE);
      ticket = null;
      return served;
    }

    const ctx: UpstreamContext = { transport: gw.transport, plan, signal: request.signal, attempts, skipped: [], request: canonical, contextCache: contextCacheFor(gw.rt) };
    if (call.stream) {
      const response = await openStream(gw, ctx, call, surface.encoder(call, key), record, started, {
        ticket,
        headers: extraHeaders,
        bodies,
        store: lookup.store ? (answer) => gw.cache.store(context, answer) : null,
      });
      ticket = null; // the stream settles it when it ends
      deferLog = true; // the stream logs its own row when it ends
      return response;
    }
    // The target an attempt is sending the prompt to (null before, or when it starts after the client left).
    let sending: Target | null = null;
    const { result, target } = await withFallback(ctx, async (t, adapter, upstream, a) => {
      sending = a.signal.aborted ? null : t;
      const spec = adapter.buildRequest(a.prepare(canonical), upstream, { dropParams: a.dropParams });
      const res = await send(gw.transport, adapter, spec, a.signal, t.provider.allowPrivate);
      let json: unknown;
      try {
        json = await res.json();
      } catch (error) {
        if (error instanceof TransportError) throw error;
        throw new UpstreamError("server_error", `provider '${t.provider.name}' returned a malformed response`, { status: 502 });
      }
      return adapter.parseResponse(json, upstream);
    }, { refused: (answer) => answer.choices.some((c) => c.finish_reason === "content_filter") }).catch(async (error: unknown) => {
      // The client left while the upstream had the prompt: charge its input tokens (estimated), as a cancelled
      // stream is charged for what it used; the row keeps the 499 and is marked estimated.
      if (sending && ticket && toAppError(error).code === "client_closed_request") {
        const usage = estimateUsage(canonical, "");
        settle(record, sending, plan, usage, true, ctx.skipped);
        await ticket.settle(record.costUsd ?? "0", usage);
        ticket = null;
      }
      throw error;
    });
    const reported = normalizeUsage(result.usage);
    const usage = reported ?? estimateUsage(canonical, responseText(result));
    settle(record, target, plan, usage, reported === null, ctx.skipped, finishOf(result.choices));
    record.status = 200;
    record.upstreamId = result.id;
    if (bodies) record.responseBody = redactBody(result);
    record.latencyMs = Math.round(performance.now() - started);
    await ticket.settle(record.costUsd ?? "0", usage);
    ticket = null;
    if (lookup.store) await gw.cache.store(context, { response: result, usage, originalCostUsd: record.costUsd ?? "0" });
    const body = await surface.render(result, usage, call, key);
    return jsonResponse(body, { headers: { ...routeHeaders(plan, target, attempts, record.costUsd), ...extraHeaders } });
  } catch (error) {
    await ticket?.release();
    throw recordFailure(record, error, started);
  } finally {
    record.attempts = attempts;
    if (key && !deferLog) gw.rt.calls.write(record);
  }
}

const ZERO_USAGE: NormalizedUsage = { input: 0, cachedInput: 0, cacheWrite: 0, output: 0, reasoning: 0 };

/** Answers from the cache: zero upstream cost, the whole baseline saved; streams replay the stored chunks. */
async function serveFromCache<Req>(
  surface: Surface<Req>,
  call: ParsedCall<Req>,
  key: AuthContext,
  answer: CachedAnswer,
  plan: Plan,
  record: CallRecord,
  headers: Record<string, string>,
  started: number,
): Promise<Response> {
  Object.assign(record, {
    status: 200,
    model: answer.response.model,
    inputTokens: answer.usage.input,
    cachedInputTokens: answer.usage.cachedInput,
    cacheWriteTokens: answer.usage.cacheWrite,
    outputTokens: answer.usage.output,
    reasoningTokens: answer.usage.reasoning,
    latencyMs: Math.round(performance.now() - started),
    route: { requested: plan.requested, policy: plan.policy?.name ?? null, target: "cache", ...(plan.optimized?.compression ? { compression: plan.optimized.compression } : {}) },
    ...priceCacheHit(answer.usage, plan.reference, plan.optimized?.compression?.tokensSaved),
  });
  if (!call.stream) {
    return jsonResponse(await surface.render(answer.response, answer.usage, call, key), { headers: { ...headers, "x-switchyard-cost-usd": "0" } });
  }
  const frames = surface.encoder(call, key);
  const chunks = answer.chunks ?? responseToChunks(answer.response);
  const text = [...chunks.flatMap((chunk) => frames.push(chunk)), ...frames.end(answer.usage)].join("");
  record.ttftMs = record.latencyMs;
  return new Response(text, { status: 200, headers: { ...SSE_HEADERS, ...headers } });
}

function settle(record: CallRecord, target: Target, plan: Plan, usage: NormalizedUsage, estimated: boolean, skipped?: SkippedTarget[], finishReason?: string | null): void {
  const money = priceCall(usage, target, plan.reference, plan.optimized?.compression?.tokensSaved);
  Object.assign(record, {
    providerId: target.provider.id,
    providerKind: target.provider.kind,
    model: target.modelId,
    inputTokens: usage.input,
    cachedInputTokens: usage.cachedInput,
    cacheWriteTokens: usage.cacheWrite,
    outputTokens: usage.output,
    reasoningTokens: usage.reasoning,
    estimated,
    route: routeRecord(plan, target, { ...(skipped ? { skipped } : {}), costUsd: money.costUsd, finishReason }),
    ...money,
  });
}

/** x-switchyard-target, -attempts and -route (server/routing/explain.ts), and the cost when known. */
function routeHeaders(plan: Plan, target: Target, attempts: AttemptRecord[], cost?: string): Record<string, string> {
  const headers = explainRoute(plan, target, attempts);
  if (cost !== undefined) headers["x-switchyard-cost-usd"] = cost;
  return headers;
}

/** "length" when any choice was cut at the output cap, else the first choice's finish reason. */
function finishOf(choices: ChatResponse["choices"]): string | null {
  return choices.some((c) => c.finish_reason === "length") ? "length" : (choices[0]?.finish_reason ?? null);
}

function responseText(response: ChatResponse): string {
  return response.choices
    .map((c) => (c.message.content ?? "") + (c.message.tool_calls ?? []).map((t) => t.function.name + t.function.arguments).join(""))
    .join("");
}

function estimateUsage(req: ChatRequest, delivered: string): NormalizedUsage {
  return { input: estimatePromptTokens(req.messages, req.tools), cachedInput: 0, cacheWrite: 0, output: estimateTextTokens(delivered), reasoning: 0 };
}

/**
 * What a stream is billed: the provider's usage when it counted the output (or the stream ended normally);
 * otherwise its input counts (when it sent them) and the delivered text for the output, marked estimated. A stream
 * from an upstream that reports usage as it starts (Anthropic, Gemini) and then ends early would else be billed
 * for the placeholder output it reported first (1 or 0 tokens), whatever the client received.
 */
function streamUsage(parser: StreamParser, req: ChatRequest, delivered: string): { usage: NormalizedUsage; estimated: boolean } {
  const reported = parser.usage();
  if (reported === null) return { usage: estimateUsage(req, delivered), estimated: true };
  if (parser.finished() || parser.outputCounted()) return { usage: reported, estimated: false };
  return { usage: { ...reported, output: Math.max(reported.output, estimateTextTokens(delivered)) }, estimated: true };
}

interface OpenedStream {
  events: SseReader;
  parser: StreamParser;
  first: ChatChunk[];
  adapter: ProviderAdapter;
}

const encoder = new TextEncoder();

/**
 * Opens the upstream stream and waits for its first chunk before answering, so a failure up to that point can
 * still retry or fall back. After it, an upstream failure ends the client's stream with the surface's error event
 * and without its normal ending; the row is logged as partial, billed for the tokens seen.
 */
async function openStream<Req>(
  gw: Gateway,
  ctx: UpstreamContext,
  call: ParsedCall<Req>,
  frames: StreamEncoder,
  record: CallRecord,
  started: number,
  after: {
    ticket: AdmissionTicket;
    headers: Record<string, string>;
    /** Stores the complete answer in the response cache; null when this call must not be stored. */
    store: ((answer: Omit<CachedAnswer, "outcome" | "similarity">) => Promise<void>) | null;
    /** The policy logs bodies: the assembled answer (what was delivered) goes into the row. */
    bodies: boolean;
  },
): Promise<Response> {
  const req = call.canonical;
  const abort = new AbortController();
  const signal = AbortSignal.any([ctx.signal, abort.signal]);
  const upstreamReq: ChatRequest = { ...req, stream: true, stream_options: { ...req.stream_options, include_usage: true } };
  // The target an attempt is sending the prompt to (null before, or when it starts after the client left).
  let sending: Target | null = null;
  const { result: opened, target } = await withFallback({ ...ctx, signal }, async (t, adapter, upstream, a) => {
    sending = a.signal.aborted ? null : t;
    const spec = adapter.buildRequest(a.prepare(upstreamReq), upstream, { dropParams: a.dropParams });
    const res = await send(gw.transport, adapter, spec, a.signal, t.provider.allowPrivate);
    const events = readSse(res.body);
    const parser = adapter.createStreamParser(upstream);
    const first: ChatChunk[] = [];
    try {
      while (first.length === 0) {
        const event = await events.next();
        if (!event) {
          first.push(...parser.end());
          if (first.length === 0) throw new UpstreamError("server_error", `provider '${t.provider.name}' closed the stream before sending data`, { status: 502 });
          break;
        }
        first.push(...parser.push(event));
      }
    } catch (error) {
      await events.cancel();
      throw error;
    }
    return { events, parser, first, adapter } satisfies OpenedStream;
  }, { stream: true }).catch(async (error: unknown) => {
    // The client left before the first token while the upstream had the prompt: charge its input tokens
    // (estimated), as for a non-streamed call; the caller's release of the settled ticket is then a no-op.
    if (sending && toAppError(error).code === "client_closed_request") {
      const usage = estimateUsage(req, "");
      settle(record, sending, ctx.plan, usage, true, ctx.skipped);
      await after.ticket.settle(record.costUsd ?? "0", usage);
    }
    throw error;
  });

  let delivered = "";
  let streamFinish: string | null = null;
  const seen: ChatChunk[] = [];
  let finished = false;
  let ttft: number | null = null;
  const finish = (outcome: { status: number; partial: boolean; error?: string }) => {
    if (finished) return;
    finished = true;
    const { usage, estimated } = streamUsage(opened.parser, req, delivered);
    settle(record, target, ctx.plan, usage, estimated, ctx.skipped, streamFinish);
    Object.assign(record, {
      status: outcome.status,
      partial: outcome.partial,
      errorClass: outcome.error ?? null,
      ttftMs: ttft,
      latencyMs: Math.round(performance.now() - started),
      attempts: ctx.attempts,
    });
    if (after.bodies) record.responseBody = redactBody(assembleChunks(seen));
    gw.rt.calls.write(record);
    void after.ticket.settle(record.costUsd ?? "0", usage);
    if (after.store && !outcome.partial) {
      void after.store({ response: assembleChunks(seen), chunks: seen, usage, originalCostUsd: record.costUsd ?? "0" });
    }
  };

  /** Sends the frames for some chunks; returns how many frames went out. */
  const emit = (chunks: ChatChunk[], controller: ReadableStreamDefaultController<Uint8Array>): number => {
    let sent = 0;
    for (const chunk of chunks) {
      if (after.store || after.bodies) seen.push(chunk);
      for (const choice of chunk.choices) {
        delivered += (choice.delta.content ?? "") + (choice.delta.reasoning_content ?? "");
        if (choice.finish_reason && streamFinish !== "length") streamFinish = choice.finish_reason;
        for (const tool of choice.delta.tool_calls ?? []) delivered += (tool.function?.name ?? "") + (tool.function?.arguments ?? "");
      }
      for (const frame of frames.push(chunk)) {
        controller.enqueue(encoder.encode(frame));
        sent += 1;
      }
    }
    return sent;
  };
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, raw: unknown) => {
    const error = raw instanceof TransportError ? fromTransportError(raw, target.provider.name) : raw instanceof UpstreamError ? raw : null;
    const code = error?.kind === "timeout" ? "upstream_timeout" : "upstream_stream_error";
    try {
      controller.enqueue(encoder.encode(frames.error(error, `Stream interrupted: ${error?.message ?? "the upstream stream failed"}`)));
      controller.close();
    } catch {
      // the client is already gone
    }
    finish({ status: 200, partial: true, error: code });
  };

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      ttft = Math.round(performance.now() - started);
      emit(opened.first, controller);
    },
    // A pull must enqueue something (or end the stream): the stream does not call pull again on its own when a
    // pull enqueued nothing, so events that produce no client frame (a suppressed usage chunk) are read past.
    async pull(controller) {
      try {
        for (;;) {
          const event = await opened.events.next();
          if (!event) {
            emit(opened.parser.end(), controller);
            if (!opened.parser.finished()) {
              fail(controller, new UpstreamError("server_error", `provider '${target.provider.name}' ended the stream early`, { status: 502 }));
              return;
            }
            for (const frame of frames.end(opened.parser.usage())) controller.enqueue(encoder.encode(frame));
            controller.close();
            finish({ status: 200, partial: false });
            return;
          }
          if (emit(opened.parser.push(event), controller) > 0) return;
        }
      } catch (error) {
        if (signal.aborted) {
          finish({ status: 499, partial: true, error: "client_closed_request" });
          return;
        }
        await opened.events.cancel();
        fail(controller, error);
      }
    },
    async cancel() {
      abort.abort();
      await opened.events.cancel();
      finish({ status: 499, partial: true, error: "client_closed_request" });
    },
  });
  return new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...routeHeaders(ctx.plan, target, ctx.attempts), ...after.headers } });
}
