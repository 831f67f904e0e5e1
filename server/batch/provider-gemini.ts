/**
 * Gemini Batch Mode with inlined requests: POST /models/{m}:batchGenerateContent answers a long-running operation
 * ("batches/…"); GET /batches/{id} polls it until `done`, and its `response.inlinedResponses.inlinedResponses` are
 * the answers in request order (each with the `metadata.key` we sent, when the service echoes it).
 */
import { buildHeaders, joinUrl } from "../providers/openai";
import { exchange, readJson, withoutContentType, type LineOutcome, type ProviderBatchApi } from "./provider-api";

/** The HTTP status and Gemini status name of each gRPC code an inlined error carries. */
const FROM_GRPC: Record<number, [number, string]> = {
  1: [499, "CANCELLED"],
  3: [400, "INVALID_ARGUMENT"],
  4: [504, "DEADLINE_EXCEEDED"],
  5: [404, "NOT_FOUND"],
  7: [403, "PERMISSION_DENIED"],
  8: [429, "RESOURCE_EXHAUSTED"],
  9: [400, "FAILED_PRECONDITION"],
  13: [500, "INTERNAL"],
  14: [503, "UNAVAILABLE"],
  16: [401, "UNAUTHENTICATED"],
};

function outcomeOf(entry: Record<string, unknown>): LineOutcome {
  if (entry.response !== undefined) return { kind: "response", status: 200, body: entry.response, requestId: null };
  const error = (entry.error ?? {}) as { code?: number; message?: string; status?: string };
  const [status, name] = FROM_GRPC[error.code ?? 13] ?? [500, "INTERNAL"];
  // The same body a live generateContent error has, so the adapter classifies it the same way.
  return { kind: "response", status, body: { error: { code: status, message: error.message ?? "the request failed", status: error.status ?? name } }, requestId: null };
}

export const geminiBatchApi: ProviderBatchApi = {
  async submit(ctx, lines, _endpoint, label) {
    const model = ctx.target.model.replace(/^models\//, "");
    const requests = lines.map((l) => ({ request: l.body, metadata: { key: l.customId } }));
    const url = joinUrl(ctx.target.baseUrl, `/models/${encodeURIComponent(model)}:batchGenerateContent`);
    const body = JSON.stringify({ batch: { displayName: label, inputConfig: { requests: { requests } } } });
    const operation = await readJson(await exchange(ctx, { url, method: "POST", headers: buildHeaders(ctx.target, "x-goog-api-key"), body }), ctx.providerName);
    return { upstreamId: String(operation.name ?? ""), upstreamFileId: null };
  },

  async poll(ctx, upstreamId, customIds) {
    const url = joinUrl(ctx.target.baseUrl, `/${upstreamId.split("/").map(encodeURIComponent).join("/")}`);
    const operation = await readJson(await exchange(ctx, { url, method: "GET", headers: withoutContentType(buildHeaders(ctx.target, "x-goog-api-key")) }), ctx.providerName);
    if (operation.done !== true) return { state: "running" };
    const metadata = (operation.metadata ?? {}) as { state?: string; output?: { inlinedResponses?: { inlinedResponses?: unknown } } };
    const response = operation.response as { inlinedResponses?: { inlinedResponses?: unknown } } | undefined;
    const entries = response?.inlinedResponses?.inlinedResponses ?? metadata.output?.inlinedResponses?.inlinedResponses;
    if (Array.isArray(entries)) {
      const results = new Map<string, LineOutcome>();
      entries.forEach((entry: Record<string, unknown>, index) => {
        const key = (entry?.metadata as { key?: unknown } | undefined)?.key;
        const customId = typeof key === "string" ? key : customIds[index];
        if (customId) results.set(customId, outcomeOf(entry ?? {}));
      });
      return { state: "ended", results };
    }
    // Ended without answers: cancelled or expired batches leave every line unrun; anything else is a failure.
    if (metadata.state === "BATCH_STATE_CANCELLED" || metadata.state === "BATCH_STATE_EXPIRED") {
      const reason = metadata.state === "BATCH_STATE_CANCELLED" ? "cancelled" : "expired";
      return { state: "ended", results: new Map(customIds.map((id) => [id, { kind: "not_run", reason } as const])) };
    }
    const message = (operation.error as { message?: string } | undefined)?.message;
    return { state: "failed", message: message ?? `the provider batch ended in state ${metadata.state ?? "unknown"}` };
  },

  async cancel(ctx, upstreamId) {
    const url = joinUrl(ctx.target.baseUrl, `/${upstreamId.split("/").map(encodeURIComponent).join("/")}:cancel`);
    await exchange(ctx, { url, method: "POST", headers: withoutContentType(buildHeaders(ctx.target, "x-goog-api-key")) });
  },
};
