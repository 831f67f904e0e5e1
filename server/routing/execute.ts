/**
 * Executes a plan: attempts against its targets in order, with the policy's retry rules (which failures retry,
 * max attempts, exponential backoff with full jitter, Retry-After honoured up to a cap — a longer wait fails over
 * instead of blocking), then the next target for failures in `fallbackOn`. Two failures have their own chains:
 * context-length-exceeded moves to a model with a larger context window (the policy's `fallbacks.contextLength`,
 * else a remaining candidate with a larger known window) and a content-filter refusal to `fallbacks.contentFilter`.
 *
 * Live health: every attempt counts in flight and reports its outcome and latency to the health tracker; a target
 * whose breaker opened meanwhile is skipped, a half-open one is tried by a single prober. The latency budget is a
 * per-attempt deadline (first chunk for streams, whole answer otherwise) while another target remains — it moves
 * a slow call elsewhere but never fails the last chance.
 *
 * Used for JSON responses and for opening streams: a stream counts as opened once its first chunk parsed, so a
 * failure before the first byte reaches the client still fails over; after it, nothing is retried (the pipeline
 * ends the stream with an error event).
 */
import { DEFAULT_RETRY, type RetryPolicy } from "@/lib/policy";
import type { ProviderAdapter } from "../providers/adapter";
import { getAdapter } from "../providers/registry";
import { TransportError, type Transport, type TransportResponse } from "../providers/transport";
import { UpstreamError, type ChatRequest, type ProviderConfig as AdapterConfig, type ProviderKind, type UpstreamTarget } from "../providers/types";
import { AppError } from "../gateway/errors";
import { planPromptCache } from "../cache/prompt-cache";
import { billedTarget, isMissingCache, withContextCache, type ContextCacheLease, type ContextCacheManager } from "../cache/gemini-context";
import type { Plan } from "./resolve";
import { targetId, targetLabel, type Target } from "./types";

export interface AttemptRecord {
  provider: string;
  model: string;
  status: number;
  error?: string;
  latencyMs: number;
  /** Why this attempt happened: first, retry, fallback, context_length, content_filter, probe. */
  reason?: string;
  /** Backoff waited before it (ms). */
  waitedMs?: number;
}

/** A target passed over during execution (its breaker opened meanwhile, another caller holds the probe). */
export interface SkippedTarget {
  target: string;
  reason: string;
}

export interface UpstreamContext {
  transport: Transport;
  plan: Plan;
  signal: AbortSignal;
  attempts: AttemptRecord[];
  /** Filled with targets skipped during execution (for the route explanation). */
  skipped?: SkippedTarget[];
  /** Overrides the plan's retry policy (tests). */
  retry?: RetryPolicy;
  random?: () => number;
  /** The canonical request and the Gemini context-cache manager: together they enable explicit context caching. */
  request?: ChatRequest;
  contextCache?: ContextCacheManager | null;
}

/** What one attempt needs besides its target. */
export interface AttemptInfo {
  /** Aborted when the client leaves or the attempt's latency budget runs out. */
  signal: AbortSignal;
  /** The request with the policy's parameter overrides applied for this target. */
  prepare(request: ChatRequest): ChatRequest;
  dropParams: ReadonlySet<string>;
}

export interface FallbackOptions<T> {
  /** True when a successful answer is a content-filter refusal that another model might not give. */
  refused?: (result: T) => boolean;
  /** Streams: success latency is the time to the first chunk. */
  stream?: boolean;
}

export function upstreamTarget(target: Target): UpstreamTarget {
  return {
    kind: target.provider.kind as ProviderKind,
    baseUrl: target.provider.baseUrl,
    ...(target.provider.apiKey ? { apiKey: target.provider.apiKey } : {}),
    model: target.modelId,
    ...(target.model?.maxOutput ? { maxOutputTokens: target.model.maxOutput } : {}),
    config: target.provider.config as AdapterConfig,
  };
}

export function adapterFor(target: Target): ProviderAdapter {
  return getAdapter(target.provider.kind as ProviderKind, target.provider.config as AdapterConfig);
}

/** Maps a transport failure to the upstream error vocabulary (never mentions the URL or key). */
export function fromTransportError(error: TransportError, provider: string): UpstreamError {
  if (error.kind.startsWith("timeout")) return new UpstreamError("timeout", `provider '${provider}' timed out (${error.kind.slice(8).replace("_", " ")})`, { status: 0 });
  if (error.kind === "redirect") return new UpstreamError("server_error", `provider '${provider}' answered with a redirect, which is not followed`, { status: error.details.status ?? 0 });
  return new UpstreamError("connection", `cannot reach provider '${provider}' (${error.details.code ?? error.kind})`, { status: 0 });
}

class BudgetExceeded extends Error {}

/**
 * Runs `attempt` against the plan's targets as described above. `attempt` performs one upstream exchange and
 * throws UpstreamError (or TransportError) on failure.
 */
export async function withFallback<T>(
  ctx: UpstreamContext,
  attempt: (target: Target, adapter: ProviderAdapter, upstream: UpstreamTarget, info: AttemptInfo) => Promise<T>,
  options: FallbackOptions<T> = {},
): Promise<{ result: T; target: Target }> {
  const plan = ctx.plan;
  const retry = ctx.retry ?? plan.retry ?? DEFAULT_RETRY;
  const random = ctx.random ?? Math.random;
  const health = plan.health ?? null;
  const fallbacks = plan.fallbacks ?? { contextLength: [], contentFilter: [] };
  const deadlines = plan.deadlines ?? { ttftMs: null, totalMs: null };
  const queue: Array<{ target: Target; reason: string }> = plan.targets.map((target, i) => ({ target, reason: i === 0 ? "first" : "fallback" }));
  const tried = new Set<string>();
  const failures: string[] = [];
  let last: UpstreamError | null = null;
  let refusal: { result: T; target: Target } | null = null;
  /** Targets refused by the SSRF guard, and the answer when nothing else was tried. */
  let blocked = 0;
  let blockedError: AppError | null = null;
  /** The shortest Retry-After cool-down of a target passed over for it (ms), when one was. */
  let coolingLeft: number | null = null;
  const pending = () => queue.filter((q) => !tried.has(targetLabel(q.target)));

  while (queue.length > 0) {
    const { target, reason } = queue.shift()!;
    const label = targetLabel(target);
    if (tried.has(label)) continue;
    tried.add(label);
    const id = targetId(target);
    let why = reason;
    let cooled = 0;
    if (health) {
      const { breaker: state, coolingUntil } = health.peek(id);
      // A 429's Retry-After keeps every call away from the target until it passes ("never hammer"): a short
      // remainder is waited out (as a retry of the call that got the 429 would), a longer one passes the target over.
      const left = coolingUntil === null ? 0 : coolingUntil - health.options.now();
      if (left > retry.maxRetryAfterMs) {
        coolingLeft = Math.min(coolingLeft ?? left, left);
        skip(ctx, failures, label, `rate limited: cooling down for ${Math.ceil(left / 1000)}s (Retry-After)`);
        continue;
      }
      if (left > 0) {
        await sleep(left, ctx.signal);
        if (ctx.signal.aborted) throw new AppError(499, "client_closed_request", "The client closed the request");
        cooled = left;
      }
      if (state === "open") {
        skip(ctx, failures, label, "circuit open");
        continue;
      }
      if (state === "half_open") {
        if (!(await health.acquireProbe(id))) {
          skip(ctx, failures, label, "circuit half-open, another call is probing it");
          continue;
        }
        why = "probe";
      }
    }
    const adapter = adapterFor(target);
    const upstream = upstreamTarget(target);
    const planned = plan.prepare?.(target) ?? { prepare: (request: ChatRequest) => request, dropParams: plan.dropParams };
    // Provider prompt caching is planned per attempt: breakpoints and cache keys depend on the target's protocol.
    const prepared = { ...planned, prepare: (request: ChatRequest) => planPromptCache(planned.prepare(request), { protocol: adapter.protocol, model: target.modelId }) };
    // Gemini explicit context caching: a cache for the stable prefix when its reuse pays for its storage.
    let lease: ContextCacheLease | null = null;
    if (ctx.contextCache && ctx.request && adapter.protocol === "gemini") {
      lease = await ctx.contextCache.acquire({ target, upstream, request: prepared.prepare(ctx.request), transport: ctx.transport, signal: ctx.signal, dropParams: prepared.dropParams });
    }
    const run = async (info: AttemptInfo): Promise<T> => {
      if (!lease) return attempt(target, adapter, upstream, info);
      try {
        return await attempt(target, withContextCache(adapter, lease), upstream, info);
      } catch (raw) {
        if (!isMissingCache(raw) || info.signal.aborted) throw raw;
        // The upstream no longer has the cache: forget it and send the full request.
        await ctx.contextCache!.forget(lease);
        lease = null;
        return attempt(target, adapter, upstream, info);
      }
    };
    let error: UpstreamError | null = null;
    let waited = cooled;
    for (let n = 1; n <= retry.maxAttempts; n++) {
      const budget = pending().length > 0 ? (options.stream ? deadlines.ttftMs : deadlines.totalMs) : null;
      // Without a budget the attempt's signal is the client's own: AbortSignal.any costs ~10 µs per call on Node 20.
      const controller = budget !== null ? new AbortController() : null;
      const timer = controller ? setTimeout(() => controller.abort(new BudgetExceeded()), budget!) : null;
      const signal = controller ? AbortSignal.any([ctx.signal, controller.signal]) : ctx.signal;
      const end = health?.begin(id);
      const started = performance.now();
      const record: AttemptRecord = { provider: target.provider.name, model: target.modelId, status: 0, latencyMs: 0, reason: n === 1 ? why : "retry" };
      if (waited > 0) record.waitedMs = Math.round(waited);
      try {
        const result = await run({ signal, prepare: prepared.prepare, dropParams: prepared.dropParams });
        const latencyMs = Math.round(performance.now() - started);
        ctx.attempts.push({ ...record, status: 200, latencyMs });
        health?.success(id, options.stream ? { ttftMs: latencyMs } : { ttftMs: latencyMs, totalMs: latencyMs });
        const others = fallbacks.contentFilter.filter((t) => !tried.has(targetLabel(t)));
        if (options.refused?.(result) && others.length > 0) {
          // A refusal another model may not give: the client has seen nothing yet, so try the next one.
          ctx.attempts.at(-1)!.error = "content_filter";
          refusal ??= { result, target: billedTarget(target, lease) };
          queue.unshift(...others.map((t) => ({ target: t, reason: "content_filter" })));
          error = null;
          break;
        }
        plan.affinity?.served(target);
        // A call that created a Gemini context cache also pays its storage (priced with the cache write).
        return { result, target: billedTarget(target, lease) };
      } catch (raw) {
        if (ctx.signal.aborted) throw new AppError(499, "client_closed_request", "The client closed the request");
        if (raw instanceof AppError) throw raw;
        if (raw instanceof TransportError && raw.kind === "ssrf_blocked") {
          // Refused before a byte was sent (at the URL check or, after a DNS change, at connect): a configuration
          // fault, so no retry; the next target may still answer, and the call log shows which provider it was.
          ctx.attempts.push({ ...record, error: "provider_blocked", latencyMs: Math.round(performance.now() - started) });
          failures.push(`${label}: provider blocked (resolves to an address that is not allowed)`);
          blocked += 1;
          blockedError ??= new AppError(502, "provider_blocked", `Provider '${target.provider.name}' resolves to an address that is not allowed`);
          break;
        }
        const overBudget = controller !== null && controller.signal.aborted && controller.signal.reason instanceof BudgetExceeded;
        error = overBudget
          ? new UpstreamError("timeout", `provider '${target.provider.name}' exceeded the latency budget of ${budget}ms`, { status: 0 })
          : raw instanceof TransportError
            ? fromTransportError(raw, target.provider.name)
            : raw instanceof UpstreamError
              ? raw
              : null;
        if (!error) throw raw;
        last = error;
        ctx.attempts.push({ ...record, status: error.status, error: overBudget ? "latency_budget" : error.kind, latencyMs: Math.round(performance.now() - started) });
        health?.failure(id, error.kind, error.retryAfterMs);
        // Another try at a target that blew its budget would blow it again: move on.
        if (overBudget || !retry.retryOn.includes(error.kind) || n === retry.maxAttempts) break;
        const wait = error.retryAfterMs ?? random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (n - 1));
        if (wait > retry.maxRetryAfterMs) break; // asked to wait too long: fail over rather than block
        await sleep(wait, ctx.signal);
        waited = wait;
      } finally {
        end?.();
        if (timer) clearTimeout(timer);
      }
    }
    if (!error) continue;
    failures.push(`${label}: ${error.kind}${error.status ? ` (HTTP ${error.status})` : ""}`);
    if (error.kind === "context_length") {
      const window = target.model?.contextWindow ?? 0;
      const larger = (t: Target) => !tried.has(targetLabel(t)) && (t.model?.contextWindow ?? 0) > window;
      const next = [...fallbacks.contextLength.filter(larger), ...pending().map((q) => q.target).filter(larger)];
      queue.splice(0, queue.length, ...next.map((t) => ({ target: t, reason: "context_length" })));
      continue;
    }
    if (error.kind === "content_filter") {
      const next = fallbacks.contentFilter.filter((t) => !tried.has(targetLabel(t)));
      queue.splice(0, queue.length, ...next.map((t) => ({ target: t, reason: "content_filter" })));
      continue;
    }
    if (!retry.fallbackOn.includes(error.kind)) break;
  }
  if (refusal) return refusal;
  // Every target tried was refused by the SSRF guard: say so, rather than "no target available".
  if (blockedError && last === null && failures.length === blocked) throw blockedError;
  if (last === null && coolingLeft !== null) {
    // Nothing was sent: every target left is cooling down after a Retry-After longer than the policy waits. The
    // client is told as for a 429 from upstream, with what remains of the shortest cool-down.
    last = new UpstreamError("rate_limited", `cooling down after its Retry-After; nothing was sent (${failures.join("; ")})`, { status: 429, retryAfterMs: coolingLeft });
  }
  throw toClientError(last, plan, failures);
}

function skip(ctx: UpstreamContext, failures: string[], label: string, reason: string) {
  ctx.skipped?.push({ target: label, reason });
  failures.push(`${label}: ${reason}`);
}

const AVAILABILITY = new Set(["server_error", "overloaded", "timeout", "connection", "rate_limited"]);

/**
 * The error a client sees once every attempt failed: providers are named, their URLs and keys never are. A policy
 * whose every target is down answers 503 naming the policy and each target's failure.
 */
export function toClientError(error: UpstreamError | null, plan: Plan, failures: string[] = []): AppError {
  const several = plan.targets.length > 1 || failures.length > 1;
  if (!error || (several && plan.policy && AVAILABILITY.has(error.kind) && error.kind !== "rate_limited")) {
    const what = plan.policy ? `policy '${plan.policy.name}'` : `'${plan.requested}'`;
    const detail = failures.length > 0 ? `: ${failures.join("; ")}` : "";
    return new AppError(503, "no_available_target", `No target of ${what} is available${detail}`);
  }
  const provider = plan.targets.length === 1 ? `provider '${plan.targets[0]!.provider.name}'` : `every target of '${plan.requested}'`;
  switch (error.kind) {
    case "rate_limited":
      return new AppError(429, "upstream_rate_limited", `Rate limited by ${provider}: ${error.message}`, {
        headers: { "retry-after": String(Math.max(1, Math.ceil((error.retryAfterMs ?? 1_000) / 1000))) },
      });
    case "timeout":
      return new AppError(504, "upstream_timeout", `Timed out waiting for ${provider}`);
    case "context_length":
      return new AppError(400, "context_length_exceeded", error.message, { param: "messages" });
    case "content_filter":
      return new AppError(400, "content_filter", `The request was refused by ${provider}'s content filter: ${error.message}`);
    case "bad_request":
      return new AppError(400, "upstream_bad_request", `${provider} rejected the request: ${error.message}`);
    case "auth":
      return new AppError(502, "upstream_auth_failed", `${provider} rejected its configured credentials`);
    case "not_found":
      return new AppError(502, "upstream_model_not_found", `${provider} does not serve the model: ${error.message}`);
    default:
      return new AppError(502, "upstream_error", `${provider} failed: ${error.message}`);
  }
}

/** Sends one exchange; a non-2xx status becomes the adapter's classified UpstreamError. */
export async function send(
  transport: Transport,
  adapter: ProviderAdapter,
  spec: { url: string; headers: Record<string, string>; body: string },
  signal: AbortSignal,
  allowPrivate: boolean,
): Promise<TransportResponse> {
  const response = await transport.request({ url: spec.url, method: "POST", headers: spec.headers, body: spec.body, signal, allowPrivate });
  if (response.status >= 200 && response.status < 300) return response;
  const text = await response.text().catch(() => "");
  throw adapter.classifyError(response.status, redactCredentials(text, spec.headers), response.headers);
}

const CREDENTIAL_HEADERS = new Set(["authorization", "x-api-key", "api-key", "x-goog-api-key"]);

/**
 * Upstreams echo what they were sent ("Incorrect API key provided: …"), and many provider keys (Azure, Together,
 * self-hosted tokens) look like nothing a pattern scrubber knows: take the credentials we sent out of the answer
 * before its message can reach an error body or a log line.
 */
function redactCredentials(text: string, headers: Record<string, string>): string {
  let out = text;
  for (const [name, value] of Object.entries(headers)) {
    if (!CREDENTIAL_HEADERS.has(name.toLowerCase())) continue;
    const secret = value.replace(/^(?:Bearer|Basic)\s+/i, "").trim();
    if (secret.length >= 8) out = out.split(secret).join("[REDACTED]");
  }
  return out;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
