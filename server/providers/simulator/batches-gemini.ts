/**
 * Gemini Batch Mode with inlined requests: POST /v1beta/models/{m}:batchGenerateContent with
 * `{batch: {displayName, inputConfig: {requests: {requests: [{request, metadata}]}}}}` answers a long-running
 * Operation `{name: "batches/…", metadata: GenerateContentBatch, done}`; GET /v1beta/batches/{id} polls it
 * (`metadata.state` BATCH_STATE_PENDING → RUNNING → SUCCEEDED, then `response.inlinedResponses.inlinedResponses`
 * in request order, each `{response | error, metadata}`); POST /v1beta/batches/{id}:cancel cancels it. Expired and
 * cancelled batches end with an `error` Status and no responses.
 */
import { geminiError } from "./errors";
import { isDue, jsonBody, randomId, runLimited, sendJson, type BatchContext, type BatchRoute, type ProtocolBatches, type SimBatchInfo } from "./batches";

type State = "BATCH_STATE_PENDING" | "BATCH_STATE_RUNNING" | "BATCH_STATE_SUCCEEDED" | "BATCH_STATE_FAILED" | "BATCH_STATE_CANCELLED" | "BATCH_STATE_EXPIRED";

interface InlinedRequest {
  request: unknown;
  metadata?: unknown;
}

interface SimGeminiBatch {
  id: string;
  model: string;
  displayName: string;
  requests: InlinedRequest[];
  state: State;
  createdAt: number;
  updatedAt: number;
  endedAt: number | null;
  polls: number;
  responses: Array<{ response?: unknown; error?: unknown; metadata?: unknown }> | null;
  error: { code: number; message: string; status: string } | null;
  ending: Promise<void> | null;
}

const TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta";
const iso = (ms: number) => new Date(ms).toISOString();
/** gRPC code of an HTTP error status, as a Status in an inlined response carries it. */
const GRPC_CODE: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 429: 8, 500: 13, 503: 14, 504: 4 };

export function createGeminiBatches(ctx: BatchContext): ProtocolBatches {
  const batches = new Map<string, SimGeminiBatch>();

  const operation = (b: SimGeminiBatch) => {
    const ok = b.responses?.filter((r) => r.response !== undefined).length ?? 0;
    const failed = b.responses ? b.responses.length - ok : 0;
    const done = b.endedAt !== null;
    const output = b.responses ? { inlinedResponses: { inlinedResponses: b.responses } } : undefined;
    return {
      name: `batches/${b.id}`,
      metadata: {
        "@type": `${TYPE}.GenerateContentBatch`,
        model: `models/${b.model}`,
        displayName: b.displayName,
        createTime: iso(b.createdAt),
        updateTime: iso(b.updatedAt),
        ...(done ? { endTime: iso(b.endedAt!) } : {}),
        batchStats: {
          requestCount: String(b.requests.length),
          successfulRequestCount: String(ok),
          failedRequestCount: String(failed),
          pendingRequestCount: String(done ? 0 : b.requests.length),
        },
        state: b.state,
        name: `batches/${b.id}`,
        ...(output ? { output } : {}),
      },
      done,
      ...(b.error ? { error: b.error } : {}),
      ...(output ? { response: { "@type": `${TYPE}.GenerateContentBatchOutput`, ...output } } : {}),
    };
  };

  const end = async (b: SimGeminiBatch): Promise<void> => {
    const { outcome, concurrency } = ctx.options();
    const now = () => {
      b.endedAt = b.updatedAt = ctx.now();
    };
    if (outcome === "expire") {
      b.state = "BATCH_STATE_EXPIRED";
      b.error = { code: 4, message: "The batch expired before it completed.", status: "DEADLINE_EXCEEDED" };
      return now();
    }
    if (outcome === "fail") {
      b.state = "BATCH_STATE_FAILED";
      b.error = { code: 13, message: "The batch failed (simulated failure).", status: "INTERNAL" };
      return now();
    }
    const answers = await runLimited(
      b.requests.map((r) => () => ctx.run("gemini", `/v1beta/models/${encodeURIComponent(b.model)}:generateContent`, r.request)),
      concurrency,
    );
    b.responses = answers.map((a, i) => {
      const metadata = b.requests[i]!.metadata;
      if (a.status >= 200 && a.status < 300) return { response: a.body, ...(metadata !== undefined ? { metadata } : {}) };
      const body = (a.body as { error?: { message?: string; status?: string } } | null)?.error;
      const error = { code: GRPC_CODE[a.status] ?? 2, message: body?.message ?? "Internal error", status: body?.status ?? "UNKNOWN" };
      return { error, ...(metadata !== undefined ? { metadata } : {}) };
    });
    b.state = "BATCH_STATE_SUCCEEDED";
    now();
  };

  const advance = async (b: SimGeminiBatch): Promise<void> => {
    b.polls += 1;
    if (b.endedAt !== null) return;
    if (b.state === "BATCH_STATE_PENDING") {
      b.state = "BATCH_STATE_RUNNING";
      b.updatedAt = ctx.now();
    }
    if (isDue(ctx, b.createdAt, b.polls)) {
      b.ending ??= end(b);
      await b.ending;
    }
  };

  const create = (model: string): BatchRoute => async (x) => {
    const body = jsonBody(x.raw);
    const batch = body?.batch as { displayName?: unknown; inputConfig?: { requests?: { requests?: unknown } } } | undefined;
    const requests = batch?.inputConfig?.requests?.requests;
    if (!Array.isArray(requests) || requests.length === 0) {
      return sendJson(x, geminiError(400, "INVALID_ARGUMENT", "batch.input_config.requests.requests: at least one request is required."));
    }
    if (requests.some((r) => !r || typeof r !== "object" || !(r as InlinedRequest).request)) {
      return sendJson(x, geminiError(400, "INVALID_ARGUMENT", "Each inlined request needs a 'request'."));
    }
    const now = ctx.now();
    const b: SimGeminiBatch = {
      id: randomId("", 20).toLowerCase(),
      model,
      displayName: typeof batch?.displayName === "string" ? batch.displayName : "batch",
      requests: requests as InlinedRequest[],
      state: "BATCH_STATE_PENDING",
      createdAt: now,
      updatedAt: now,
      endedAt: null,
      polls: 0,
      responses: null,
      error: null,
      ending: null,
    };
    batches.set(b.id, b);
    sendJson(x, { status: 200, body: operation(b) });
  };

  return {
    route(method, path) {
      const rest = /^\/v1(?:beta)?\/(.*)$/.exec(path)?.[1];
      if (rest === undefined) return null;
      const submit = /^models\/([^/:]+):batchGenerateContent$/.exec(rest);
      if (submit && method === "POST") return create(decodeURIComponent(submit[1]!));
      const one = /^batches\/([^/:]+)(:cancel)?$/.exec(rest);
      if (!one) return null;
      const id = decodeURIComponent(one[1]!);
      const missing = geminiError(404, "NOT_FOUND", `Batch batches/${id} not found.`);
      if (method === "GET" && !one[2]) {
        return async (x) => {
          const b = batches.get(id);
          if (!b) return sendJson(x, missing);
          await advance(b);
          sendJson(x, { status: 200, body: operation(b) });
        };
      }
      if (method === "POST" && one[2]) {
        return async (x) => {
          const b = batches.get(id);
          if (!b) return sendJson(x, missing);
          if (b.endedAt === null) {
            b.state = "BATCH_STATE_CANCELLED";
            b.error = { code: 1, message: "The batch was cancelled.", status: "CANCELLED" };
            b.endedAt = b.updatedAt = ctx.now();
          }
          sendJson(x, { status: 200, body: {} });
        };
      }
      return null;
    },
    list: (): SimBatchInfo[] =>
      [...batches.values()].map((b) => ({ protocol: "gemini", id: b.id, status: b.state, lines: b.requests.length, polls: b.polls, cancelled: b.state === "BATCH_STATE_CANCELLED" })),
    reset() {
      batches.clear();
    },
  };
}
