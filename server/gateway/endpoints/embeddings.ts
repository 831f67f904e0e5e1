/**
 * POST /embeddings: provider embedding models (OpenAI protocol, Gemini), and the bundled local embedder as the
 * free model `switchyard/use-lite`. Budgets and rate limits apply as for chat; one call-log row per request.
 */
import { LOCAL_EMBEDDING_MODEL, localEmbedder } from "../../embeddings/local";
import type { CallRecord } from "../../ledger/call-log";
import type { EmbeddingRequest, EmbeddingResponse } from "../../providers/adapter";
import type { NormalizedUsage } from "../../providers/types";
import { readJsonBody } from "../body";
import type { AuthContext } from "../auth";
import type { Gateway } from "../context";
import { AppError } from "../errors";
import type { AdmissionTicket } from "../hooks";
import { resolvePlan, type Plan } from "../resolve";
import { assertNoForbiddenKeys, parseOrThrow } from "../schemas/common";
import { embeddingsRequest, type EmbeddingsInput } from "../schemas/embeddings";
import { priceCall, recordFailure } from "../settle";
import { estimateTextTokens } from "../tokens";
import { send, withFallback, type AttemptRecord } from "../upstream";

export async function embeddings(gw: Gateway, request: Request, requestId: string): Promise<Response> {
  const started = performance.now();
  const record: CallRecord = { id: crypto.randomUUID(), requestId, createdAt: new Date(), surface: "openai", endpoint: "embeddings", status: 0 };
  const attempts: AttemptRecord[] = [];
  let key: AuthContext | null = null;
  let ticket: AdmissionTicket | null = null;
  try {
    key = await gw.auth.authenticate(request.headers);
    Object.assign(record, { orgId: key.orgId, teamId: key.teamId, apiKeyId: key.apiKeyId });
    const raw = await readJsonBody(request, gw.rt.env.SWITCHYARD_MAX_BODY_BYTES);
    assertNoForbiddenKeys(raw);
    const body = parseOrThrow(embeddingsRequest, raw);
    record.requestedModel = body.model;
    record.endUser = body.user ?? null;
    const texts = inputTexts(body);

    if (body.model === LOCAL_EMBEDDING_MODEL) {
      if (key.allowedModels.length > 0 && !key.allowedModels.includes(body.model)) {
        throw new AppError(403, "model_not_allowed", `This API key is not allowed to use the model '${body.model}'`, { param: "model" });
      }
      if (body.dimensions !== undefined && body.dimensions !== localEmbedder.dimensions) {
        throw new AppError(400, "invalid_value", `'${LOCAL_EMBEDDING_MODEL}' produces ${localEmbedder.dimensions} dimensions`, { param: "dimensions" });
      }
      if (texts === null) throw new AppError(400, "invalid_value", `'${LOCAL_EMBEDDING_MODEL}' takes text input, not token ids`, { param: "input" });
      const vectors = await localEmbedder.embed(texts);
      const tokens = texts.reduce((n, t) => n + estimateTextTokens(t), 0);
      Object.assign(record, { status: 200, model: LOCAL_EMBEDDING_MODEL, inputTokens: tokens, costUsd: "0", latencyMs: Math.round(performance.now() - started) });
      return Response.json(render(vectors, body, LOCAL_EMBEDDING_MODEL, { prompt_tokens: tokens, total_tokens: tokens }), {
        headers: { "x-switchyard-target": LOCAL_EMBEDDING_MODEL, "x-switchyard-cost-usd": "0" },
      });
    }

    const plan = resolvePlan(gw.rt.snapshot.current(), key, body.model);
    record.policy = plan.policy?.name ?? null;
    const embeddable = plan.targets.filter((t) => !t.model || t.model.capabilities.embeddings);
    if (embeddable.length === 0) throw new AppError(400, "model_not_embeddings", `The model '${body.model}' does not produce embeddings`, { param: "model" });
    const embedPlan: Plan = { ...plan, targets: embeddable };
    const joined = texts?.join("\n") ?? "";
    ticket = await gw.admission.admit({
      key,
      endpoint: "embeddings",
      // Admission prices a chat-shaped request: the input as one prompt and no output.
      canonical: { model: body.model, messages: [{ role: "user", content: joined }], max_completion_tokens: 1 },
      plan: embedPlan,
      headers: request.headers,
      callId: record.id,
    });
    const req: EmbeddingRequest = {
      model: body.model,
      input: body.input,
      ...(body.dimensions !== undefined ? { dimensions: body.dimensions } : {}),
      ...(body.encoding_format ? { encoding_format: body.encoding_format } : {}),
      ...(body.user ? { user: body.user } : {}),
    };
    const { result, target } = await withFallback({ transport: gw.transport, plan: embedPlan, signal: request.signal, attempts }, async (t, adapter, upstream) => {
      if (!adapter.embeddings) throw new AppError(400, "model_not_embeddings", `Provider '${t.provider.name}' does not serve embeddings`, { param: "model" });
      const spec = adapter.embeddings.buildRequest(req, upstream);
      const res = await send(gw.transport, adapter, spec, request.signal, t.provider.allowPrivate);
      return adapter.embeddings.parseResponse(await res.json(), upstream, req);
    });
    const input = result.usage?.prompt_tokens ?? (texts ?? []).reduce((n, t) => n + estimateTextTokens(t), 0);
    const usage: NormalizedUsage = { input, cachedInput: 0, cacheWrite: 0, output: 0, reasoning: 0 };
    Object.assign(record, {
      status: 200,
      providerId: target.provider.id,
      providerKind: target.provider.kind,
      model: target.modelId,
      inputTokens: input,
      estimated: !result.usage,
      latencyMs: Math.round(performance.now() - started),
      route: { requested: plan.requested, policy: plan.policy?.name ?? null, target: `${target.provider.name}/${target.modelId}` },
      ...priceCall(usage, target, plan.reference),
    });
    const admissionHeaders = ticket.headers;
    await ticket.settle(record.costUsd ?? "0", usage);
    ticket = null;
    const response: EmbeddingResponse = { ...result, usage: { prompt_tokens: input, total_tokens: input } };
    return Response.json(response, {
      headers: { ...admissionHeaders, "x-switchyard-target": `${target.provider.name}/${target.modelId}`, "x-switchyard-cost-usd": record.costUsd ?? "0" },
    });
  } catch (error) {
    await ticket?.release();
    throw recordFailure(record, error, started);
  } finally {
    record.attempts = attempts;
    if (key) gw.rt.calls.write(record);
  }
}

/** The texts of a text input; null when the input is token ids. */
function inputTexts(body: EmbeddingsInput): string[] | null {
  if (typeof body.input === "string") return [body.input];
  if (body.input.every((item) => typeof item === "string")) return body.input as string[];
  return null;
}

function render(vectors: number[][], body: EmbeddingsInput, model: string, usage: { prompt_tokens: number; total_tokens: number }) {
  return {
    object: "list",
    model,
    data: vectors.map((vector, index) => ({
      object: "embedding",
      index,
      embedding: body.encoding_format === "base64" ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector,
    })),
    usage,
  };
}
