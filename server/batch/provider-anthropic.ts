/**
 * Anthropic Message Batches: POST /messages/batches with `{requests: [{custom_id, params}]}`, poll
 * GET /messages/batches/{id} until `processing_status` is "ended", then read
 * GET /messages/batches/{id}/results (JSONL of `{custom_id, result}`).
 */
import { ANTHROPIC_VERSION, ERROR_TYPE_STATUS } from "../providers/anthropic";
import { buildHeaders, joinUrl } from "../providers/openai";
import type { UpstreamTarget } from "../providers/types";
import { exchange, parseJsonl, readJson, withoutContentType, type LineOutcome, type ProviderBatchApi } from "./provider-api";

const headersFor = (target: UpstreamTarget) => buildHeaders(target, "x-api-key", { "anthropic-version": ANTHROPIC_VERSION });

function outcomeOf(result: Record<string, unknown> | undefined): LineOutcome {
  switch (result?.type) {
    case "succeeded":
      return { kind: "response", status: 200, body: result.message, requestId: null };
    case "errored": {
      const error = result.error as { error?: { type?: unknown }; request_id?: unknown } | undefined;
      const status = ERROR_TYPE_STATUS[String(error?.error?.type)] ?? 500;
      return { kind: "response", status, body: error, requestId: typeof error?.request_id === "string" ? error.request_id : null };
    }
    case "canceled":
      return { kind: "not_run", reason: "cancelled" };
    default:
      return { kind: "not_run", reason: "expired" };
  }
}

export const anthropicBatchApi: ProviderBatchApi = {
  async submit(ctx, lines) {
    const requests = lines.map((l) => {
      // A batch entry takes the non-streaming Messages parameters.
      const { stream: _stream, ...params } = l.body;
      return { custom_id: l.customId, params };
    });
    const created = await readJson(
      await exchange(ctx, { url: joinUrl(ctx.target.baseUrl, "/messages/batches"), method: "POST", headers: headersFor(ctx.target), body: JSON.stringify({ requests }) }),
      ctx.providerName,
    );
    return { upstreamId: String(created.id ?? ""), upstreamFileId: null };
  },

  async poll(ctx, upstreamId) {
    const base = joinUrl(ctx.target.baseUrl, `/messages/batches/${encodeURIComponent(upstreamId)}`);
    const headers = withoutContentType(headersFor(ctx.target));
    const batch = await readJson(await exchange(ctx, { url: base, method: "GET", headers }), ctx.providerName);
    if (batch.processing_status !== "ended") return { state: "running" };
    const text = await (await exchange(ctx, { url: `${base}/results`, method: "GET", headers })).text();
    const results = new Map<string, LineOutcome>();
    for (const line of parseJsonl(text)) {
      if (typeof line.custom_id === "string") results.set(line.custom_id, outcomeOf(line.result as Record<string, unknown> | undefined));
    }
    return { state: "ended", results };
  },

  async cancel(ctx, upstreamId) {
    const url = joinUrl(ctx.target.baseUrl, `/messages/batches/${encodeURIComponent(upstreamId)}/cancel`);
    await exchange(ctx, { url, method: "POST", headers: withoutContentType(headersFor(ctx.target)) });
  },
};
