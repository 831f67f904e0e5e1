/**
 * OpenAI Batch API: upload the JSONL input (POST /files, multipart, purpose "batch"), create the batch
 * (POST /batches), poll GET /batches/{id}, then read the output and error files (GET /files/{id}/content).
 */
import { randomBytes } from "node:crypto";
import { buildHeaders, joinUrl } from "../providers/openai";
import { exchange, parseJsonl, readJson, withoutContentType, type ApiContext, type LineOutcome, type ProviderBatchApi } from "./provider-api";

const RUNNING = new Set(["validating", "in_progress", "finalizing", "cancelling"]);
const ENDED = new Set(["completed", "expired", "cancelled"]);

function multipart(fields: Record<string, string>, file: { name: string; type: string; content: string }): { body: Uint8Array; type: string } {
  const boundary = `----switchyard${randomBytes(12).toString("hex")}`;
  const parts: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  }
  parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`);
  const body = Buffer.concat([Buffer.from(parts.join("")), Buffer.from(file.content), Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { body: new Uint8Array(body), type: `multipart/form-data; boundary=${boundary}` };
}

async function fileLines(ctx: ApiContext, fileId: unknown): Promise<Array<Record<string, unknown>>> {
  if (typeof fileId !== "string" || !fileId) return [];
  const url = joinUrl(ctx.target.baseUrl, `/files/${encodeURIComponent(fileId)}/content`);
  const response = await exchange(ctx, { url, method: "GET", headers: withoutContentType(buildHeaders(ctx.target, "bearer")) });
  return parseJsonl(await response.text());
}

function outcomeOf(line: Record<string, unknown>): LineOutcome {
  const response = line.response as { status_code?: unknown; body?: unknown; request_id?: unknown } | null | undefined;
  if (response && typeof response.status_code === "number") {
    return { kind: "response", status: response.status_code, body: response.body, requestId: typeof response.request_id === "string" ? response.request_id : null };
  }
  const error = line.error as { code?: unknown; message?: unknown } | null | undefined;
  if (error?.code === "batch_expired") return { kind: "not_run", reason: "expired" };
  if (error?.code === "batch_cancelled") return { kind: "not_run", reason: "cancelled" };
  // Any other failure without an HTTP answer is the provider's internal error for that line.
  const message = typeof error?.message === "string" ? error.message : "the provider failed this request";
  return { kind: "response", status: 500, body: { error: { message, type: "server_error", param: null, code: error?.code ?? null } }, requestId: null };
}

export const openaiBatchApi: ProviderBatchApi = {
  async submit(ctx, lines, endpoint, label) {
    const headers = buildHeaders(ctx.target, "bearer");
    const content = lines.map((l) => JSON.stringify({ custom_id: l.customId, method: "POST", url: endpoint, body: l.body })).join("\n") + "\n";
    const form = multipart({ purpose: "batch" }, { name: `${label}.jsonl`, type: "application/jsonl", content });
    const uploaded = await readJson(
      await exchange(ctx, { url: joinUrl(ctx.target.baseUrl, "/files"), method: "POST", headers: { ...headers, "content-type": form.type }, body: form.body }),
      ctx.providerName,
    );
    const fileId = String(uploaded.id ?? "");
    const created = await readJson(
      await exchange(ctx, {
        url: joinUrl(ctx.target.baseUrl, "/batches"),
        method: "POST",
        headers,
        body: JSON.stringify({ input_file_id: fileId, endpoint, completion_window: "24h", metadata: { switchyard_batch: label } }),
      }),
      ctx.providerName,
    );
    return { upstreamId: String(created.id ?? ""), upstreamFileId: fileId || null };
  },

  async poll(ctx, upstreamId) {
    const url = joinUrl(ctx.target.baseUrl, `/batches/${encodeURIComponent(upstreamId)}`);
    const batch = await readJson(await exchange(ctx, { url, method: "GET", headers: withoutContentType(buildHeaders(ctx.target, "bearer")) }), ctx.providerName);
    const status = String(batch.status ?? "");
    if (RUNNING.has(status)) return { state: "running" };
    if (!ENDED.has(status)) {
      const errors = (batch.errors as { data?: Array<{ message?: string }> } | null)?.data;
      return { state: "failed", message: errors?.[0]?.message ?? `the provider batch ended with status '${status}'` };
    }
    const results = new Map<string, LineOutcome>();
    for (const line of [...(await fileLines(ctx, batch.output_file_id)), ...(await fileLines(ctx, batch.error_file_id))]) {
      if (typeof line.custom_id === "string") results.set(line.custom_id, outcomeOf(line));
    }
    return { state: "ended", results };
  },

  async cancel(ctx, upstreamId) {
    const url = joinUrl(ctx.target.baseUrl, `/batches/${encodeURIComponent(upstreamId)}/cancel`);
    await exchange(ctx, { url, method: "POST", headers: withoutContentType(buildHeaders(ctx.target, "bearer")) });
  },
};
