/**
 * Sends a request to a plan's targets: attempts with exponential backoff and full jitter on retryable failures,
 * Retry-After honoured up to a cap (longer waits fail over instead of hammering), then the next target.
 * Used for JSON responses and for opening streams (a stream counts as opened once its first chunk parsed, so a
 * failure before the first byte reaches the client still fails over).
 */
import type { ProviderAdapter } from "../providers/adapter";
import { getAdapter } from "../providers/registry";
import { TransportError, type Transport, type TransportResponse } from "../providers/transport";
import { UpstreamError, type UpstreamTarget, type ProviderKind, type ProviderConfig as AdapterConfig } from "../providers/types";
import { AppError } from "./errors";
import type { Plan, Target } from "./resolve";

export interface AttemptRecord {
  provider: string;
  model: string;
  status: number;
  error?: string;
  latencyMs: number;
}

export interface RetryPolicy {
  /** Tries per target, first one included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After we wait for; beyond it we fail over at once. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 2_000, maxRetryAfterMs: 5_000 };

const RETRYABLE = new Set(["rate_limited", "server_error", "overloaded", "timeout", "connection"]);
/** Failures that another provider may not have: try the next target. */
const FALLBACK = new Set([...RETRYABLE, "auth", "not_found"]);

export interface UpstreamContext {
  transport: Transport;
  plan: Plan;
  signal: AbortSignal;
  attempts: AttemptRecord[];
  retry?: RetryPolicy;
  random?: () => number;
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

/**
 * Runs `attempt` against each target in turn. `attempt` performs one upstream exchange and throws UpstreamError
 * (or TransportError) on failure. Non-retryable errors end the search at once.
 */
export async function withFallback<T>(
  ctx: UpstreamContext,
  attempt: (target: Target, adapter: ProviderAdapter, upstream: UpstreamTarget) => Promise<T>,
): Promise<{ result: T; target: Target }> {
  const retry = ctx.retry ?? DEFAULT_RETRY;
  const random = ctx.random ?? Math.random;
  let last: UpstreamError | null = null;
  for (const target of ctx.plan.targets) {
    const adapter = adapterFor(target);
    const upstream = upstreamTarget(target);
    for (let n = 1; n <= retry.maxAttempts; n++) {
      const started = performance.now();
      try {
        const result = await attempt(target, adapter, upstream);
        ctx.attempts.push({ provider: target.provider.name, model: target.modelId, status: 200, latencyMs: Math.round(performance.now() - started) });
        return { result, target };
      } catch (raw) {
        if (ctx.signal.aborted) throw new AppError(499, "client_closed_request", "The client closed the request");
        if (raw instanceof AppError) throw raw;
        if (raw instanceof TransportError && raw.kind === "ssrf_blocked") {
          throw new AppError(502, "provider_blocked", `Provider '${target.provider.name}' resolves to an address that is not allowed`);
        }
        const error = raw instanceof TransportError ? fromTransportError(raw, target.provider.name) : raw instanceof UpstreamError ? raw : null;
        if (!error) throw raw;
        last = error;
        ctx.attempts.push({
          provider: target.provider.name,
          model: target.modelId,
          status: error.status,
          error: error.kind,
          latencyMs: Math.round(performance.now() - started),
        });
        if (!RETRYABLE.has(error.kind) || n === retry.maxAttempts) break;
        const wait = error.retryAfterMs ?? random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (n - 1));
        if (wait > retry.maxRetryAfterMs) break; // asked to wait too long: fail over rather than block
        await sleep(wait, ctx.signal);
      }
      if (last && !RETRYABLE.has(last.kind)) break;
    }
    if (last && !FALLBACK.has(last.kind)) break;
  }
  throw toClientError(last, ctx.plan);
}

/** The error a client sees once every attempt failed: the provider is named, its URL and key never are. */
export function toClientError(error: UpstreamError | null, plan: Plan): AppError {
  if (!error) return new AppError(503, "no_available_target", `No target is available for '${plan.requested}'`);
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
  throw adapter.classifyError(response.status, text, response.headers);
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
