/**
 * Provider simulator: a real HTTP server that speaks OpenAI (/openai/v1/...), Anthropic (/anthropic/v1/...)
 * and Gemini (/gemini/v1beta/...) wire formats, with deterministic answers, real token counts (o200k_base),
 * simulated prompt caching, latency, and fault injection. It is the upstream of every test and benchmark and
 * the demo provider. See README.md in this folder for directives, faults and the admin API.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { createAnthropicSurface } from "./anthropic";
import { createBatchApis, type BatchSimOptions, type BatchSimulator } from "./batches";
import { faultErrorReply, type Reply } from "./errors";
import { isReply, sendReply, sleep, type Exchange, type Surface } from "./exchange";
import { FaultController, faultRuleSchema, parseFaultHeader, type FaultKind, type FaultSpec, type Operation, type Protocol } from "./faults";
import { createGeminiSurface } from "./gemini";
import { createOpenAISurface } from "./openai";

export { FaultController, parseFaultHeader, FAULT_KINDS } from "./faults";
export type { FaultKind, FaultRule, FaultSpec, Operation, Protocol, ScheduledFault } from "./faults";
export type { BatchSimOptions, BatchSimulator, SimBatchInfo } from "./batches";

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Delay before the first byte of a successful answer (the first chunk of a stream), ms. Default 0. */
  ttftMs?: number;
  /** Output pacing for streams (and the duration of non-streaming answers). 0/undefined = no delay. */
  tokensPerSecond?: number;
  /** When set, each surface requires this key in its own header and answers the provider's auth error otherwise. */
  apiKey?: string;
  /** Clock for prompt-cache TTLs, cachedContents expiry and `created` fields (tests can move time). */
  now?: () => number;
  /** Requests kept in `requests` (oldest dropped first); counts are kept for all. Default 10,000. */
  recordLimit?: number;
  /** How provider batches progress (OpenAI Batch, Anthropic Message Batches); see batches.ts. */
  batch?: BatchSimOptions;
}

/** One request as received, for tests to inspect. */
export interface RecordedRequest {
  seq: number;
  at: number;
  method: string;
  /** Full path without the query string, e.g. "/openai/v1/chat/completions". */
  path: string;
  query: string;
  protocol?: Protocol;
  operation?: Operation;
  model?: string;
  stream: boolean;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined when empty or not JSON). */
  body: unknown;
  /** The fault applied to this request, if any. */
  fault?: FaultKind;
  /** Status sent; undefined while pending or when no response was sent (timeout, reset, cut). */
  status?: number;
}

export interface RequestFilter {
  protocol?: Protocol;
  operation?: Operation;
  model?: string;
  stream?: boolean;
  /** A fault kind, or "none" for requests served without a fault. */
  fault?: FaultKind | "none";
}

export interface Simulator {
  /** Base URL, e.g. http://127.0.0.1:4010 — SDK base URLs are `${url}/openai/v1`, `${url}/anthropic`, `${url}/gemini`. */
  url: string;
  port: number;
  faults: FaultController;
  /** Provider batch APIs: progress settings and the batches received. */
  batches: BatchSimulator;
  /** Requests received, oldest first (bounded by recordLimit). */
  requests: RecordedRequest[];
  /** Requests received that match `filter` (all of them, beyond recordLimit), e.g. "exactly one upstream call". */
  count(filter?: RequestFilter): number;
  /** Clears faults, recorded requests, counts, prompt caches and cached contents. */
  reset(): void;
  /** Stops the server, dropping open connections (stalled streams, timeouts). */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;

const INVALID_JSON: Record<Protocol, string> = {
  openai:
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
  anthropic: "There was an issue with the formatting of your request body: the body must be valid JSON.",
  gemini: "Invalid JSON payload received. Unexpected token.",
};

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function headerNumber(value: string | string[] | undefined): number | undefined {
  if (typeof value !== "string") return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) }).end(text);
}

interface Counter {
  filter: Required<Omit<RequestFilter, "model" | "fault">> & { model?: string; fault: FaultKind | "none" };
  n: number;
}

/** Starts a simulator; resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const now = options.now ?? Date.now;
  const recordLimit = options.recordLimit ?? 10_000;
  const surfaces: Record<Protocol, Surface> = {
    openai: createOpenAISurface(now),
    anthropic: createAnthropicSurface(now),
    gemini: createGeminiSurface(now),
  };
  const faults = new FaultController();
  const requests: RecordedRequest[] = [];
  const counters = new Map<string, Counter>();
  const closing = new AbortController();
  let seq = 0;
  let selfUrl = "";
  const batchApis = createBatchApis({ now, apiKey: options.apiKey, options: options.batch, url: () => selfUrl });

  function countRequest(r: RecordedRequest): void {
    if (!r.protocol || !r.operation) return;
    const filter = { protocol: r.protocol, operation: r.operation, model: r.model, stream: r.stream, fault: r.fault ?? ("none" as const) };
    const key = JSON.stringify(filter);
    const counter = counters.get(key);
    if (counter) counter.n += 1;
    else counters.set(key, { filter, n: 1 });
  }

  function count(filter: RequestFilter = {}): number {
    let total = 0;
    for (const { filter: f, n } of counters.values()) {
      if (filter.protocol !== undefined && filter.protocol !== f.protocol) continue;
      if (filter.operation !== undefined && filter.operation !== f.operation) continue;
      if (filter.model !== undefined && filter.model !== f.model) continue;
      if (filter.stream !== undefined && filter.stream !== f.stream) continue;
      if (filter.fault !== undefined && filter.fault !== f.fault) continue;
      total += n;
    }
    return total;
  }

  function reset(): void {
    faults.clear();
    requests.length = 0;
    counters.clear();
    for (const surface of Object.values(surfaces)) surface.reset();
    batchApis.reset();
  }

  async function admin(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    const method = req.method ?? "GET";
    if (path === "/__sim/health" && method === "GET") return json(res, 200, { ok: true });
    if (path === "/__sim/reset" && method === "POST") {
      reset();
      return json(res, 200, { ok: true });
    }
    if (path === "/__sim/faults") {
      if (method === "GET") return json(res, 200, { faults: faults.list() });
      if (method === "DELETE") {
        faults.clear();
        return json(res, 200, { faults: [] });
      }
      if (method === "POST") {
        const raw = await readBody(req);
        let payload: unknown;
        try {
          payload = JSON.parse(raw?.toString("utf8") ?? "");
        } catch {
          return json(res, 400, { error: "body must be JSON: a fault rule, an array of rules, or {faults: [...]}" });
        }
        const list = Array.isArray(payload) ? payload : Array.isArray((payload as { faults?: unknown })?.faults) ? (payload as { faults: unknown[] }).faults : [payload];
        const parsed = z.array(faultRuleSchema).safeParse(list);
        if (!parsed.success) return json(res, 400, { error: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") });
        return json(res, 201, { faults: parsed.data.map((rule) => faults.add(rule)) });
      }
    }
    const oneFault = /^\/__sim\/faults\/([^/]+)$/.exec(path);
    if (oneFault && method === "DELETE") {
      return faults.remove(decodeURIComponent(oneFault[1]!)) ? json(res, 200, { ok: true }) : json(res, 404, { error: "no such fault" });
    }
    if (path === "/__sim/requests") {
      if (method === "DELETE") {
        requests.length = 0;
        counters.clear();
        return json(res, 200, { ok: true });
      }
      if (method === "GET") {
        const filter: RequestFilter = {};
        const protocol = query.get("protocol");
        if (protocol === "openai" || protocol === "anthropic" || protocol === "gemini") filter.protocol = protocol;
        const operation = query.get("operation");
        if (operation) filter.operation = operation as Operation;
        const model = query.get("model");
        if (model) filter.model = model;
        const fault = query.get("fault");
        if (fault) filter.fault = fault as FaultKind | "none";
        const stream = query.get("stream");
        if (stream === "true" || stream === "false") filter.stream = stream === "true";
        const selected = requests.filter(
          (r) =>
            (filter.protocol === undefined || r.protocol === filter.protocol) &&
            (filter.operation === undefined || r.operation === filter.operation) &&
            (filter.model === undefined || r.model === filter.model) &&
            (filter.stream === undefined || r.stream === filter.stream) &&
            (filter.fault === undefined || (r.fault ?? "none") === filter.fault),
        );
        return json(res, 200, { count: count(filter), requests: selected });
      }
    }
    return json(res, 404, { error: `unknown admin endpoint ${method} ${path}` });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://simulator");
    if (url.pathname.startsWith("/__sim/")) return admin(req, res, url.pathname, url.searchParams);
    const mount = /^\/(openai|anthropic|gemini)(\/.*)?$/.exec(url.pathname);
    if (!mount) return json(res, 404, { error: `not a simulator path: ${url.pathname} (use /openai, /anthropic or /gemini)` });
    const protocol = mount[1] as Protocol;
    const surface = surfaces[protocol];
    const path = mount[2] ?? "/";
    const method = req.method ?? "GET";
    seq += 1;
    const requestSeq = seq;
    const requestId = `req_sim${String(requestSeq).padStart(8, "0")}`;
    const headers = surface.headers(requestId);

    const raw = await readBody(req);
    if (raw === null) return json(res, 413, { error: "request body too large" });
    const record: RecordedRequest = {
      seq: requestSeq,
      at: now(),
      method,
      path: url.pathname,
      query: url.search,
      protocol,
      stream: false,
      headers: req.headers,
      body: undefined,
    };
    requests.push(record);
    if (requests.length > recordLimit) requests.splice(0, requests.length - recordLimit);
    res.once("finish", () => {
      record.status = res.statusCode;
    });
    const send = (reply: Reply) => {
      countRequest(record);
      sendReply({ res }, reply, headers);
    };

    const batchRoute = batchApis.route(protocol, method, path);
    if (batchRoute) {
      // Batch APIs take multipart uploads and answer with files, so they are served before the JSON path.
      const denied = options.apiKey !== undefined ? surface.authenticate(req, url.searchParams, options.apiKey, requestId) : null;
      const rejected = denied ?? surface.precheck?.(req, requestId) ?? null;
      if (rejected) return send(rejected);
      return batchRoute({ res, raw, headers: req.headers, query: url.searchParams, requestId, surfaceHeaders: headers });
    }
    if (raw.length > 0) {
      try {
        record.body = JSON.parse(raw.toString("utf8"));
      } catch {
        return send(surface.badRequest(INVALID_JSON[protocol], requestId));
      }
    }
    const matched = surface.route(method, path, url.searchParams, record.body, requestId);
    if (!isReply(matched)) {
      record.operation = matched.operation;
      record.model = matched.model;
      record.stream = matched.stream;
    }
    if (options.apiKey !== undefined) {
      const denied = surface.authenticate(req, url.searchParams, options.apiKey, requestId);
      if (denied) return send(denied);
    }
    const rejected = surface.precheck?.(req, requestId);
    if (rejected) return send(rejected);
    if (isReply(matched)) return send(matched);
    const route = matched;

    let fault: FaultSpec | undefined;
    const faultHeader = req.headers["x-sim-fault"];
    if (typeof faultHeader === "string" && faultHeader.trim()) {
      try {
        fault = parseFaultHeader(faultHeader);
      } catch (error) {
        return send(surface.badRequest((error as Error).message, requestId));
      }
    } else {
      fault = faults.take({ protocol, operation: route.operation, model: route.model, stream: route.stream });
    }
    record.fault = fault?.fault;
    countRequest(record);

    const abort = new AbortController();
    const onClosing = () => abort.abort();
    closing.signal.addEventListener("abort", onClosing, { once: true });
    res.once("close", () => {
      abort.abort();
      closing.signal.removeEventListener("abort", onClosing);
    });
    const x: Exchange = {
      res,
      query: url.searchParams,
      body: record.body,
      fault,
      latency: {
        ttftMs: headerNumber(req.headers["x-sim-ttft-ms"]) ?? options.ttftMs ?? 0,
        tokensPerSecond: headerNumber(req.headers["x-sim-tps"]) ?? options.tokensPerSecond ?? 0,
      },
      signal: abort.signal,
      now,
      seq: requestSeq,
      requestId,
    };

    switch (fault?.fault) {
      case "timeout":
        return; // Accepted and never answered: the connection stays open until the client gives up.
      case "reset":
        req.socket.destroy();
        return;
      case "slow_first_byte":
        if (!(await sleep(fault.delayMs ?? 1000, abort.signal))) return;
        break;
    }
    const errorReply = fault ? faultErrorReply(protocol, fault, route.model ?? "unknown", requestId) : undefined;
    if (errorReply) return sendReply(x, errorReply, headers);
    await route.run(x);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) json(res, 500, { error: "simulator failure" });
      else res.destroy();
    });
  });
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve(server.address() as AddressInfo));
  });
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  selfUrl = `http://${host}:${address.port}`;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    faults,
    batches: batchApis.controller,
    requests,
    count,
    reset,
    close() {
      closing.abort();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
