/**
 * Anthropic Message Batches: POST /v1/messages/batches, GET /v1/messages/batches[/{id}],
 * POST /v1/messages/batches/{id}/cancel, GET /v1/messages/batches/{id}/results (JSONL of
 * `{custom_id, result: {type: "succeeded", message} | {type: "errored", error} | {type: "canceled"} | {type: "expired"}}`).
 */
import { anthropicError } from "./errors";
import { isDue, jsonBody, randomId, runLimited, sendJson, sendText, type BatchContext, type BatchRoute, type ProtocolBatches, type SimBatchInfo } from "./batches";

const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const WINDOW_MS = 24 * 3600 * 1000;

type Result = { type: "succeeded"; message: unknown } | { type: "errored"; error: unknown } | { type: "canceled" } | { type: "expired" };

interface SimMessageBatch {
  id: string;
  requests: Array<{ custom_id: string; params: unknown }>;
  status: "in_progress" | "canceling" | "ended";
  createdAt: number;
  endedAt: number | null;
  cancelAt: number | null;
  polls: number;
  results: Array<{ custom_id: string; result: Result }> | null;
  ending: Promise<void> | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function createAnthropicBatches(ctx: BatchContext): ProtocolBatches {
  const batches = new Map<string, SimMessageBatch>();

  const object = (b: SimMessageBatch) => {
    const count = (type: Result["type"]) => b.results?.filter((r) => r.result.type === type).length ?? 0;
    return {
      id: b.id,
      type: "message_batch",
      processing_status: b.status,
      request_counts: {
        processing: b.results ? 0 : b.requests.length,
        succeeded: count("succeeded"),
        errored: count("errored"),
        canceled: count("canceled"),
        expired: count("expired"),
      },
      ended_at: b.endedAt === null ? null : iso(b.endedAt),
      created_at: iso(b.createdAt),
      expires_at: iso(b.createdAt + WINDOW_MS),
      archived_at: null,
      cancel_initiated_at: b.cancelAt === null ? null : iso(b.cancelAt),
      results_url: b.status === "ended" ? `${ctx.url()}/anthropic/v1/messages/batches/${b.id}/results` : null,
    };
  };

  const end = async (b: SimMessageBatch): Promise<void> => {
    const { outcome, concurrency } = ctx.options();
    const ran = outcome === "expire" ? Math.ceil(b.requests.length / 2) : b.requests.length;
    const answers = await runLimited(
      b.requests.slice(0, ran).map((r) => () => ctx.run("anthropic", "/v1/messages", r.params)),
      concurrency,
    );
    const results = answers.map((a, i): { custom_id: string; result: Result } => ({
      custom_id: b.requests[i]!.custom_id,
      result: a.status >= 200 && a.status < 300 ? { type: "succeeded", message: a.body } : { type: "errored", error: a.body },
    }));
    for (const r of b.requests.slice(ran)) results.push({ custom_id: r.custom_id, result: { type: "expired" } });
    b.results = results;
    b.status = "ended";
    b.endedAt = ctx.now();
  };

  const advance = async (b: SimMessageBatch): Promise<void> => {
    b.polls += 1;
    if (b.status === "canceling") {
      b.results = b.requests.map((r) => ({ custom_id: r.custom_id, result: { type: "canceled" } }));
      b.status = "ended";
      b.endedAt = ctx.now();
      return;
    }
    if (b.status === "in_progress" && isDue(ctx, b.createdAt, b.polls)) {
      b.ending ??= end(b);
      await b.ending;
    }
  };

  const create: BatchRoute = async (x) => {
    const body = jsonBody(x.raw);
    const requests = body?.requests;
    if (!Array.isArray(requests) || requests.length === 0) {
      return sendJson(x, anthropicError(400, "invalid_request_error", "requests: Field required (a non-empty list)", x.requestId));
    }
    const seen = new Set<string>();
    for (const [i, r] of requests.entries()) {
      const id = (r as { custom_id?: unknown })?.custom_id;
      if (typeof id !== "string" || !CUSTOM_ID.test(id)) {
        return sendJson(x, anthropicError(400, "invalid_request_error", `requests.${i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`, x.requestId));
      }
      if (seen.has(id)) return sendJson(x, anthropicError(400, "invalid_request_error", `Duplicate custom_id: ${id}`, x.requestId));
      if (!(r as { params?: unknown }).params || typeof (r as { params?: unknown }).params !== "object") {
        return sendJson(x, anthropicError(400, "invalid_request_error", `requests.${i}.params: Field required`, x.requestId));
      }
      seen.add(id);
    }
    const b: SimMessageBatch = {
      id: randomId("msgbatch_"),
      requests: requests as SimMessageBatch["requests"],
      status: "in_progress",
      createdAt: ctx.now(),
      endedAt: null,
      cancelAt: null,
      polls: 0,
      results: null,
      ending: null,
    };
    batches.set(b.id, b);
    sendJson(x, { status: 200, body: object(b) });
  };

  const withBatch = (path: string, pattern: RegExp, handler: (b: SimMessageBatch, x: Parameters<BatchRoute>[0]) => Promise<void>): BatchRoute | null => {
    const match = pattern.exec(path);
    if (!match) return null;
    const id = decodeURIComponent(match[1]!);
    return async (x) => {
      const b = batches.get(id);
      if (!b) return sendJson(x, anthropicError(404, "not_found_error", `Message batch ${id} not found`, x.requestId));
      await handler(b, x);
    };
  };

  return {
    route(method, path) {
      if (method === "POST" && path === "/v1/messages/batches") return create;
      if (method === "GET" && path === "/v1/messages/batches") {
        return async (x) => {
          const data = [...batches.values()].reverse().map(object);
          sendJson(x, { status: 200, body: { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null } });
        };
      }
      if (method === "GET") {
        const results = withBatch(path, /^\/v1\/messages\/batches\/([^/]+)\/results$/, async (b, x) => {
          if (!b.results) return sendJson(x, anthropicError(400, "invalid_request_error", `Message batch ${b.id} has not finished processing`, x.requestId));
          sendText(x, b.results.map((r) => JSON.stringify(r)).join("\n") + "\n", "application/x-jsonl");
        });
        if (results) return results;
        return withBatch(path, /^\/v1\/messages\/batches\/([^/]+)$/, async (b, x) => {
          await advance(b);
          sendJson(x, { status: 200, body: object(b) });
        });
      }
      if (method === "POST") {
        return withBatch(path, /^\/v1\/messages\/batches\/([^/]+)\/cancel$/, async (b, x) => {
          if (b.status === "in_progress") {
            b.status = "canceling";
            b.cancelAt = ctx.now();
          }
          sendJson(x, { status: 200, body: object(b) });
        });
      }
      return null;
    },
    list: (): SimBatchInfo[] =>
      [...batches.values()].map((b) => ({ protocol: "anthropic", id: b.id, status: b.status, lines: b.requests.length, polls: b.polls, cancelled: b.cancelAt !== null })),
    reset() {
      batches.clear();
    },
  };
}
