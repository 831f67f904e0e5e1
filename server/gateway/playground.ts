/**
 * The Playground's way into the data plane: one chat completion run in-process through the same pipeline as
 * POST /api/v1/chat/completions (routing, admission — budgets and rate limits —, response cache, retries and
 * fallback, settlement, one call-log row), under an identity the control plane has already authenticated.
 *
 * Why not an HTTP request to /api/v1: the dashboard user has no API key to send, and minting a presentable key for
 * each click would put a secret in flight for nothing. The identity is the user's playground key (ApiKey with
 * kind "playground", server/api/routers/playground.ts): a real row, so team and key budgets, rate limits, cache
 * tenancy and the call log treat the call like any other, but its secret was discarded at creation, so it only
 * works through this entry point.
 *
 * Why a registry on globalThis: the production server loads server/gateway once (tsx), while Next's bundled tRPC
 * route loads its own copy of these modules. The entry point is registered by the gateway handler of the runtime,
 * so a playground call runs on the very objects /api/v1 uses (routing engine and health, circuit breakers, cache
 * indexes, transport pools), not on a second set built by the bundle. It answers a `Response` (errors rendered as
 * the OpenAI error body, as /api/v1 would), never a thrown error: an error class from the other module copy would
 * not be recognised by the caller's `instanceof`.
 */
import type { Runtime } from "../runtime";
import type { AuthContext } from "./auth";
import type { Gateway } from "./context";
import { chatSurface } from "./endpoints/chat";
import { AppError, renderOpenAIError, toAppError } from "./errors";
import { runCall } from "./pipeline";

export interface PlaygroundCall {
  /** The authenticated identity (the user's playground key). */
  identity: AuthContext;
  /** A Chat Completions body, validated by the gateway exactly as over HTTP. */
  body: unknown;
  requestId: string;
  /** Extra request headers the pipeline reads (cache-control, x-switchyard-cache-namespace…). */
  headers?: Record<string, string>;
}

/** Runs one call; resolves to the response /api/v1/chat/completions would have sent (errors included). */
export type PlaygroundEntry = (call: PlaygroundCall) => Promise<Response>;

const REGISTRY = Symbol.for("switchyard.gateway.playground");
type WithRegistry = typeof globalThis & { [REGISTRY]?: WeakMap<Runtime, PlaygroundEntry> };

function registry(): WeakMap<Runtime, PlaygroundEntry> {
  const g = globalThis as WithRegistry;
  return (g[REGISTRY] ??= new WeakMap());
}

/** Called by createGatewayHandler: the runtime's gateway becomes the one playground calls run on. */
export function registerPlayground(gw: Gateway): void {
  registry().set(gw.rt, createPlaygroundEntry(gw));
}

/** The playground entry of the runtime's gateway, if a gateway handler was created for it in this process. */
export function playgroundEntry(rt: Runtime): PlaygroundEntry | undefined {
  return registry().get(rt);
}

export function createPlaygroundEntry(gw: Gateway): PlaygroundEntry {
  return async ({ identity, body, requestId, headers }) => {
    // The same gateway with authentication already done: runCall asks `auth` for the key, and gets this identity.
    const authed: Gateway = { ...gw, auth: { authenticate: async () => identity, clear: () => gw.auth.clear() } };
    const request = new Request("http://playground.internal/api/v1/chat/completions", {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "x-request-id": requestId },
      body: JSON.stringify(body),
    });
    let response: Response;
    try {
      if (gw.rt.draining) throw new AppError(503, "shutting_down", "The gateway is shutting down; retry in a moment");
      response = await runCall(authed, request, requestId, chatSurface);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500) gw.rt.log.error({ err: error, requestId }, "playground call failed");
      response = renderOpenAIError(appError);
    }
    response.headers.set("x-request-id", requestId);
    return response;
  };
}
