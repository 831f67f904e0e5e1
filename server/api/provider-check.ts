/**
 * "Test connection" for a provider: one real request through the upstream transport (SSRF guard at connect time,
 * no redirects) to the provider's model-list endpoint, with the stored key. Listing models costs nothing and
 * fails exactly when the key or the URL is wrong. The answer says what happened in words an admin can act on,
 * and never carries the key (upstream messages are classified by the adapter and scrubbed).
 */
import { ANTHROPIC_VERSION } from "../providers/anthropic";
import { buildHeaders, joinUrl } from "../providers/openai";
import { getAdapter, PROVIDERS, parseProviderConfig } from "../providers/registry";
import { TransportError, type Transport } from "../providers/transport";
import type { Protocol, ProviderKind } from "../providers/types";

/** Where the simulator mounts each protocol (as server/providers/registry.ts; a unit test keeps them equal). */
export const SIMULATOR_MOUNTS: Record<Protocol, string> = { openai: "/openai/v1", anthropic: "/anthropic/v1", gemini: "/gemini/v1beta" };

const AZURE_API_VERSION = "2024-10-21";

export interface ConnectionTarget {
  kind: ProviderKind;
  /** Resolved base URL (builtin:// already replaced by the running simulator's address). */
  baseUrl: string;
  apiKey: string | null;
  allowPrivate: boolean;
  config: unknown;
}

export interface ConnectionResult {
  ok: boolean;
  /** The upstream's HTTP status; 0 when no HTTP exchange completed. */
  status: number;
  latencyMs: number;
  /** Models the endpoint listed, when it answered with a list. */
  models: number | null;
  message: string;
}

/** The model-list request for a provider: URL and headers (auth included). */
export function modelsRequest(target: ConnectionTarget): { url: string; headers: Record<string, string> } {
  const definition = PROVIDERS[target.kind];
  const config = parseProviderConfig(target.config);
  const protocol: Protocol = definition.protocol === "config" ? (config.protocol ?? "openai") : definition.protocol;
  let base = target.baseUrl.replace(/\/+$/, "");
  if (target.kind === "simulator" && !base.endsWith(SIMULATOR_MOUNTS[protocol])) base = joinUrl(base, SIMULATOR_MOUNTS[protocol]);
  const upstream = { kind: target.kind, baseUrl: base, model: "", config, ...(target.apiKey ? { apiKey: target.apiKey } : {}) };
  if (protocol === "anthropic") {
    return { url: joinUrl(base, "/models"), headers: buildHeaders(upstream, "x-api-key", { "anthropic-version": ANTHROPIC_VERSION }) };
  }
  if (protocol === "gemini") return { url: joinUrl(base, "/models"), headers: buildHeaders(upstream, "x-goog-api-key") };
  const auth = target.kind === "simulator" ? "bearer" : definition.auth;
  if (definition.flavor?.endpoint === "azure") {
    const version = encodeURIComponent(config.apiVersion ?? AZURE_API_VERSION);
    return { url: joinUrl(base, `/openai/models?api-version=${version}`), headers: buildHeaders(upstream, auth) };
  }
  return { url: joinUrl(base, "/models"), headers: buildHeaders(upstream, auth) };
}

function countModels(json: unknown): number | null {
  if (!json || typeof json !== "object") return null;
  const list = (json as { data?: unknown; models?: unknown }).data ?? (json as { models?: unknown }).models;
  return Array.isArray(list) ? list.length : null;
}

export async function testConnection(transport: Transport, target: ConnectionTarget, now = () => performance.now()): Promise<ConnectionResult> {
  const started = now();
  const elapsed = () => Math.round(now() - started);
  let request: ReturnType<typeof modelsRequest>;
  try {
    request = modelsRequest(target);
  } catch (error) {
    return { ok: false, status: 0, latencyMs: 0, models: null, message: error instanceof Error ? error.message : "Invalid provider settings" };
  }
  try {
    const response = await transport.request({
      url: request.url,
      method: "GET",
      headers: request.headers,
      allowPrivate: target.allowPrivate,
      timeouts: { connectMs: 5_000, firstByteMs: 10_000, idleMs: 10_000, totalMs: 15_000 },
    });
    const text = await response.text();
    if (response.status >= 200 && response.status < 300) {
      let models: number | null = null;
      try {
        models = countModels(JSON.parse(text));
      } catch {
        // a 2xx that is not JSON still proves the URL and key work
      }
      const listed = models === null ? "" : ` and listed ${models} model${models === 1 ? "" : "s"}`;
      return { ok: true, status: response.status, latencyMs: elapsed(), models, message: `Connected: the provider answered in ${elapsed()} ms${listed}.` };
    }
    const config = parseProviderConfig(target.config);
    // Providers echo the key they were sent ("Incorrect API key provided: …"): never show it back, even masked by no pattern.
    const key = target.apiKey && target.apiKey.length >= 8 ? target.apiKey : null;
    const error = getAdapter(target.kind, config).classifyError(response.status, key ? text.split(key).join("[REDACTED]") : text, response.headers);
    const hint = error.kind === "auth" ? " Check the API key." : response.status === 404 ? " Check the base URL (it usually ends in /v1)." : "";
    return { ok: false, status: response.status, latencyMs: elapsed(), models: null, message: `The provider answered ${response.status}: ${error.message}.${hint}` };
  } catch (error) {
    if (error instanceof TransportError) {
      const what = error.kind === "ssrf_blocked" ? "Refused by the SSRF guard" : error.kind.startsWith("timeout") ? "Timed out" : "Could not connect";
      return { ok: false, status: 0, latencyMs: elapsed(), models: null, message: `${what}: ${error.message}` };
    }
    throw error;
  }
}
