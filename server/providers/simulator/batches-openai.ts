/**
 * OpenAI Files and Batch API: POST /v1/files (multipart), GET /v1/files/{id}[/content], POST /v1/batches,
 * GET /v1/batches[/{id}], POST /v1/batches/{id}/cancel. Output and error files use the documented line format
 * `{id, custom_id, response: {status_code, request_id, body} | null, error: {code, message} | null}`.
 */
import { openaiError } from "./errors";
import {
  isDue,
  jsonBody,
  randomId,
  runLimited,
  sendJson,
  sendText,
  type BatchContext,
  type BatchExchange,
  type BatchRoute,
  type ProtocolBatches,
  type SimBatchInfo,
} from "./batches";

const ENDPOINTS = new Set(["/v1/chat/completions", "/v1/embeddings", "/v1/responses", "/v1/completions"]);
const WINDOW_SECONDS = 24 * 3600;

interface StoredFile {
  id: string;
  filename: string;
  purpose: string;
  content: Buffer;
  createdAt: number;
}

interface InputLine {
  custom_id: string;
  method: string;
  url: string;
  body: unknown;
}

interface SimBatch {
  id: string;
  endpoint: string;
  inputFileId: string;
  metadata: unknown;
  lines: InputLine[];
  status: "validating" | "failed" | "in_progress" | "finalizing" | "completed" | "expired" | "cancelling" | "cancelled";
  errors: Array<{ code: string; message: string; line: number | null; param: string | null }> | null;
  createdAt: number;
  polls: number;
  times: Partial<Record<"in_progress_at" | "finalizing_at" | "completed_at" | "failed_at" | "expired_at" | "cancelling_at" | "cancelled_at", number>>;
  counts: { total: number; completed: number; failed: number };
  outputFileId: string | null;
  errorFileId: string | null;
  /** The run that ends the batch, shared by concurrent polls. */
  ending: Promise<void> | null;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

function fileObject(file: StoredFile) {
  return {
    id: file.id,
    object: "file",
    bytes: file.content.length,
    created_at: seconds(file.createdAt),
    filename: file.filename,
    purpose: file.purpose,
    status: "processed",
    status_details: null,
  };
}

function batchObject(b: SimBatch) {
  return {
    id: b.id,
    object: "batch",
    endpoint: b.endpoint,
    errors: b.errors ? { object: "list", data: b.errors } : null,
    input_file_id: b.inputFileId,
    completion_window: "24h",
    status: b.status,
    output_file_id: b.outputFileId,
    error_file_id: b.errorFileId,
    created_at: seconds(b.createdAt),
    in_progress_at: b.times.in_progress_at ?? null,
    expires_at: seconds(b.createdAt) + WINDOW_SECONDS,
    finalizing_at: b.times.finalizing_at ?? null,
    completed_at: b.times.completed_at ?? null,
    failed_at: b.times.failed_at ?? null,
    expired_at: b.times.expired_at ?? null,
    cancelling_at: b.times.cancelling_at ?? null,
    cancelled_at: b.times.cancelled_at ?? null,
    request_counts: b.counts,
    metadata: b.metadata ?? null,
  };
}

/** Parses the JSONL input; the first bad line is reported the way the Batch API's validation does. */
function parseInput(text: string, endpoint: string): { lines: InputLine[] } | { error: { code: string; message: string; line: number | null; param: string | null } } {
  const lines: InputLine[] = [];
  const ids = new Set<string>();
  const rows = text.split("\n");
  for (let i = 0; i < rows.length; i += 1) {
    const row = rows[i]!.trim();
    if (!row) continue;
    let value: Partial<InputLine>;
    try {
      value = JSON.parse(row) as Partial<InputLine>;
    } catch {
      return { error: { code: "invalid_json_line", message: "This line is not parseable as valid JSON.", line: i + 1, param: null } };
    }
    if (typeof value.custom_id !== "string" || !value.custom_id) {
      return { error: { code: "missing_required_parameter", message: "Missing required parameter: 'custom_id'.", line: i + 1, param: "custom_id" } };
    }
    if (ids.has(value.custom_id)) {
      return { error: { code: "duplicate_custom_id", message: "The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.", line: i + 1, param: "custom_id" } };
    }
    if (value.url !== endpoint) {
      return { error: { code: "mismatched_endpoint", message: `The provided url '${String(value.url)}' does not match the batch endpoint '${endpoint}'.`, line: i + 1, param: "url" } };
    }
    if (value.method !== "POST") {
      return { error: { code: "invalid_value", message: "The method must be 'POST'.", line: i + 1, param: "method" } };
    }
    ids.add(value.custom_id);
    lines.push({ custom_id: value.custom_id, method: value.method, url: value.url, body: value.body });
  }
  if (lines.length === 0) return { error: { code: "empty_file", message: "The batch input file is empty.", line: null, param: null } };
  return { lines };
}

export function createOpenAIBatches(ctx: BatchContext): ProtocolBatches {
  const files = new Map<string, StoredFile>();
  const batches = new Map<string, SimBatch>();

  const storeFile = (filename: string, purpose: string, content: string): StoredFile => {
    const file: StoredFile = { id: randomId("file-"), filename, purpose, content: Buffer.from(content), createdAt: ctx.now() };
    files.set(file.id, file);
    return file;
  };

  const lineId = () => randomId("batch_req_", 32);

  /** Runs the batch's lines (all, or the first half when it expires) and writes its output and error files. */
  const end = async (b: SimBatch): Promise<void> => {
    const { outcome, concurrency } = ctx.options();
    if (outcome === "fail") {
      b.status = "failed";
      b.errors = [{ code: "invalid_request", message: "The batch could not be processed (simulated failure).", line: null, param: null }];
      b.times.failed_at = seconds(ctx.now());
      return;
    }
    const ran = outcome === "expire" ? Math.ceil(b.lines.length / 2) : b.lines.length;
    const results = await runLimited(
      b.lines.slice(0, ran).map((line) => () => ctx.run("openai", line.url, line.body)),
      concurrency,
    );
    const output: string[] = [];
    const errors: string[] = [];
    results.forEach((r, i) => {
      const entry = JSON.stringify({ id: lineId(), custom_id: b.lines[i]!.custom_id, response: { status_code: r.status, request_id: r.requestId, body: r.body }, error: null });
      (r.status >= 200 && r.status < 300 ? output : errors).push(entry);
    });
    for (const line of b.lines.slice(ran)) {
      const error = { code: "batch_expired", message: "This request could not be executed before the completion window expired." };
      errors.push(JSON.stringify({ id: lineId(), custom_id: line.custom_id, response: null, error }));
    }
    b.counts = { total: b.lines.length, completed: output.length, failed: errors.length };
    b.times.finalizing_at = seconds(ctx.now());
    if (output.length > 0) b.outputFileId = storeFile(`${b.id}_output.jsonl`, "batch_output", output.join("\n") + "\n").id;
    if (errors.length > 0) b.errorFileId = storeFile(`${b.id}_error.jsonl`, "batch_output", errors.join("\n") + "\n").id;
    if (outcome === "expire") {
      b.status = "expired";
      b.times.expired_at = seconds(ctx.now());
    } else {
      b.status = "completed";
      b.times.completed_at = seconds(ctx.now());
    }
  };

  /** A status poll: moves the batch along its lifecycle. */
  const advance = async (b: SimBatch): Promise<void> => {
    b.polls += 1;
    if (b.status === "validating") {
      b.status = "in_progress";
      b.times.in_progress_at = seconds(ctx.now());
    }
    if (b.status === "cancelling") {
      // Cancelled before any line ran: every line is reported as cancelled.
      const error = { code: "batch_cancelled", message: "This request was cancelled before it was executed." };
      const lines = b.lines.map((line) => JSON.stringify({ id: lineId(), custom_id: line.custom_id, response: null, error }));
      b.errorFileId = storeFile(`${b.id}_error.jsonl`, "batch_output", lines.join("\n") + "\n").id;
      b.counts = { total: b.lines.length, completed: 0, failed: b.lines.length };
      b.status = "cancelled";
      b.times.cancelled_at = seconds(ctx.now());
      return;
    }
    if (b.status === "in_progress" && isDue(ctx, b.createdAt, b.polls)) {
      b.ending ??= end(b);
      await b.ending;
    }
  };

  const upload: BatchRoute = async (x) => {
    const type = x.headers["content-type"] ?? "";
    if (!type.toLowerCase().startsWith("multipart/form-data")) {
      return sendJson(x, openaiError(415, "Invalid Content-Type header (expected multipart/form-data)."));
    }
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(x.raw), { headers: { "content-type": type } }).formData();
    } catch {
      return sendJson(x, openaiError(400, "The request body could not be parsed as multipart/form-data."));
    }
    const purpose = form.get("purpose");
    const file = form.get("file");
    if (typeof purpose !== "string") return sendJson(x, openaiError(400, "Missing required parameter: 'purpose'.", { param: "purpose", code: "missing_required_parameter" }));
    if (!file || typeof file === "string") return sendJson(x, openaiError(400, "Missing required parameter: 'file'.", { param: "file", code: "missing_required_parameter" }));
    const stored = storeFile(file.name || "upload.jsonl", purpose, Buffer.from(await file.arrayBuffer()).toString("utf8"));
    sendJson(x, { status: 200, body: fileObject(stored) });
  };

  const create: BatchRoute = async (x) => {
    const body = jsonBody(x.raw);
    if (!body) return sendJson(x, openaiError(400, "We could not parse the JSON body of your request."));
    const endpoint = body.endpoint;
    if (typeof endpoint !== "string" || !ENDPOINTS.has(endpoint)) {
      return sendJson(x, openaiError(400, `Invalid value for 'endpoint': '${String(endpoint)}'.`, { param: "endpoint", code: "invalid_value" }));
    }
    if (body.completion_window !== "24h") {
      return sendJson(x, openaiError(400, "Invalid value for 'completion_window': only '24h' is supported.", { param: "completion_window", code: "invalid_value" }));
    }
    const input = typeof body.input_file_id === "string" ? files.get(body.input_file_id) : undefined;
    if (!input) return sendJson(x, openaiError(404, `No such File object: ${String(body.input_file_id)}`, { param: "input_file_id" }));
    const parsed = parseInput(input.content.toString("utf8"), endpoint);
    const b: SimBatch = {
      id: randomId("batch_", 32),
      endpoint,
      inputFileId: input.id,
      metadata: body.metadata,
      lines: "lines" in parsed ? parsed.lines : [],
      status: "validating",
      errors: null,
      createdAt: ctx.now(),
      polls: 0,
      times: {},
      counts: { total: 0, completed: 0, failed: 0 },
      outputFileId: null,
      errorFileId: null,
      ending: null,
    };
    if ("error" in parsed) {
      b.status = "failed";
      b.errors = [parsed.error];
      b.times.failed_at = seconds(ctx.now());
    } else {
      b.counts.total = b.lines.length;
    }
    batches.set(b.id, b);
    sendJson(x, { status: 200, body: batchObject(b) });
  };

  const byId = (path: string, pattern: RegExp): SimBatch | undefined => {
    const match = pattern.exec(path);
    return match ? batches.get(decodeURIComponent(match[1]!)) : undefined;
  };

  return {
    route(method, path) {
      if (method === "POST" && path === "/v1/files") return upload;
      const file = /^\/v1\/files\/([^/]+)(\/content)?$/.exec(path);
      if (file && method === "GET") {
        return async (x) => {
          const stored = files.get(decodeURIComponent(file[1]!));
          if (!stored) return sendJson(x, openaiError(404, `No such File object: ${file[1]}`, { param: "id" }));
          if (file[2]) return sendText(x, stored.content.toString("utf8"), "application/octet-stream");
          sendJson(x, { status: 200, body: fileObject(stored) });
        };
      }
      if (method === "POST" && path === "/v1/batches") return create;
      if (method === "GET" && path === "/v1/batches") {
        return async (x) => {
          const data = [...batches.values()].reverse().map(batchObject);
          sendJson(x, { status: 200, body: { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false } });
        };
      }
      if (method === "GET" && /^\/v1\/batches\/[^/]+$/.test(path)) {
        return async (x) => {
          const b = byId(path, /^\/v1\/batches\/([^/]+)$/);
          if (!b) return sendJson(x, openaiError(404, `No batch found with id '${path.slice("/v1/batches/".length)}'.`));
          await advance(b);
          sendJson(x, { status: 200, body: batchObject(b) });
        };
      }
      if (method === "POST" && /^\/v1\/batches\/[^/]+\/cancel$/.test(path)) {
        return async (x) => {
          const b = byId(path, /^\/v1\/batches\/([^/]+)\/cancel$/);
          if (!b) return sendJson(x, openaiError(404, `No batch found with id '${path.split("/")[3]}'.`));
          if (b.status === "validating" || b.status === "in_progress") {
            b.status = "cancelling";
            b.times.cancelling_at = seconds(ctx.now());
          } else if (b.status !== "cancelling" && b.status !== "cancelled") {
            return sendJson(x, openaiError(409, `Cannot cancel a batch with status '${b.status}'.`));
          }
          sendJson(x, { status: 200, body: batchObject(b) });
        };
      }
      return null;
    },
    list: (): SimBatchInfo[] =>
      [...batches.values()].map((b) => ({ protocol: "openai", id: b.id, status: b.status, lines: b.lines.length, polls: b.polls, cancelled: b.times.cancelling_at !== undefined })),
    reset() {
      files.clear();
      batches.clear();
    },
  };
}
