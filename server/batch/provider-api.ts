/**
 * Clients of the providers' asynchronous batch APIs, over the shared transport (SSRF guard, timeouts, no
 * redirects). Each protocol submits lines already translated by its chat adapter, polls, and returns every line's
 * outcome keyed by custom_id (Switchyard's item id). Results are always fetched from the provider's base URL, never
 * from a URL the provider hands back, so a compromised upstream cannot point the worker elsewhere.
 */
import type { ProviderAdapter } from "../providers/adapter";
import { TransportError, type Transport, type TransportResponse } from "../providers/transport";
import { UpstreamError, type UpstreamTarget } from "../providers/types";
import { fromTransportError } from "../gateway/upstream";

/** One line to submit: Switchyard's item id and the upstream request body the adapter built. */
export interface ProviderLine {
  customId: string;
  body: Record<string, unknown>;
}

/** What became of one line upstream. */
export type LineOutcome =
  /** The line got an HTTP answer (success or error), as a live request would have. */
  | { kind: "response"; status: number; body: unknown; requestId: string | null }
  /** The line never ran: the provider batch expired or was cancelled first. */
  | { kind: "not_run"; reason: "expired" | "cancelled" };

export type PollResult =
  | { state: "running" }
  | { state: "ended"; results: Map<string, LineOutcome> }
  /** The provider refused or failed the whole batch (e.g. validation); no line ran. */
  | { state: "failed"; message: string };

export interface ApiContext {
  transport: Transport;
  adapter: ProviderAdapter;
  target: UpstreamTarget;
  providerName: string;
  allowPrivate: boolean;
  signal: AbortSignal;
}

export interface ProviderBatchApi {
  /** @throws UpstreamError (classified by the adapter) when the provider refuses or fails. */
  submit(ctx: ApiContext, lines: ProviderLine[], endpoint: string, label: string): Promise<{ upstreamId: string; upstreamFileId: string | null }>;
  /** `customIds`: the batch's lines in the order they were submitted (for answers matched by position). */
  poll(ctx: ApiContext, upstreamId: string, customIds: string[]): Promise<PollResult>;
  cancel(ctx: ApiContext, upstreamId: string): Promise<void>;
}

/**
 * One exchange with a provider's batch API: JSON (or a prepared body) in, the response out. Non-2xx answers are
 * classified by the adapter; transport failures become UpstreamErrors of kind timeout/connection.
 */
export async function exchange(
  ctx: ApiContext,
  request: { url: string; method: "GET" | "POST"; headers: Record<string, string>; body?: string | Uint8Array },
): Promise<TransportResponse> {
  let response: TransportResponse;
  try {
    response = await ctx.transport.request({
      url: request.url,
      method: request.method,
      headers: request.headers,
      body: request.body ?? null,
      signal: ctx.signal,
      allowPrivate: ctx.allowPrivate,
      // Result files can be large and slow; status polls are quick.
      timeouts: { firstByteMs: 120_000, totalMs: 600_000 },
    });
  } catch (error) {
    if (error instanceof TransportError) {
      if (error.kind === "ssrf_blocked") throw new UpstreamError("bad_request", `provider '${ctx.providerName}' resolves to an address that is not allowed`, { status: 0 });
      throw fromTransportError(error, ctx.providerName);
    }
    throw error;
  }
  if (response.status >= 200 && response.status < 300) return response;
  const text = await response.text().catch(() => "");
  throw ctx.adapter.classifyError(response.status, text, response.headers);
}

/** Reads a JSON answer, or fails the way a malformed provider answer does. */
export async function readJson(response: TransportResponse, provider: string): Promise<Record<string, unknown>> {
  try {
    const value = await response.json();
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch (error) {
    if (error instanceof UpstreamError || error instanceof TransportError) throw error;
  }
  throw new UpstreamError("server_error", `provider '${provider}' returned a malformed batch response`, { status: 502 });
}

/** Parses a JSONL body; lines that are not JSON objects are skipped (they cannot be matched to a request). */
export function parseJsonl(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const row of text.split("\n")) {
    if (!row.trim()) continue;
    try {
      const value = JSON.parse(row) as unknown;
      if (value && typeof value === "object" && !Array.isArray(value)) out.push(value as Record<string, unknown>);
    } catch {
      // skipped: see above
    }
  }
  return out;
}

/** Headers for a GET: the adapter's auth headers without the JSON content type. */
export function withoutContentType(headers: Record<string, string>): Record<string, string> {
  const { "content-type": _type, ...rest } = headers;
  return rest;
}
