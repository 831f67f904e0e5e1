/**
 * The call log writer: one row per client call, written in batches off the request path.
 *
 * Durability: rows wait in a bounded in-memory queue and are inserted with one statement per batch that skips ids
 * already stored (the key is Switchyard's own id, so a replay never doubles a row, while two calls with the same
 * upstream id keep both rows) and folds the inserted rows into the hourly and daily rollups (rollups.ts). When the database fails the
 * batch goes back to the queue and flushing backs off; when the queue outgrows its bound, or at shutdown with the
 * database still down, rows are spilled to JSON-lines files in the spill directory and replayed once the database
 * answers again (also at the next start). Nothing is dropped.
 */
import { appendFileSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import type { Db } from "../db/client";
import { scrubSecrets, type Logger } from "../obs/log";
import { insertCalls } from "./rollups";

/** One call as logged. Money fields are decimal strings (USD) so no float ever touches them. */
export interface CallRecord {
  id: string;
  requestId: string;
  createdAt: Date;
  orgId?: string | null;
  teamId?: string | null;
  apiKeyId?: string | null;
  endUser?: string | null;
  surface: "openai" | "anthropic";
  endpoint: string;
  requestedModel?: string | null;
  policy?: string | null;
  providerId?: string | null;
  providerKind?: string | null;
  model?: string | null;
  upstreamId?: string | null;
  status: number;
  errorClass?: string | null;
  inputTokens?: number;
  cachedInputTokens?: number;
  cacheWriteTokens?: number;
  outputTokens?: number;
  reasoningTokens?: number;
  costUsd?: string;
  baselineCostUsd?: string;
  savingsRoutingUsd?: string;
  savingsCacheUsd?: string;
  savingsPromptCacheUsd?: string;
  savingsBatchUsd?: string;
  savingsCapsUsd?: string;
  /** Prompt compression: input tokens saved × the target's input price. */
  savingsCompressionUsd?: string;
  ttftMs?: number | null;
  latencyMs?: number | null;
  cacheOutcome?: string | null;
  streamed?: boolean;
  partial?: boolean;
  estimated?: boolean;
  batch?: boolean;
  route?: unknown;
  attempts?: unknown;
  /** Stored only when the policy enables it, already redacted. */
  requestBody?: unknown;
  responseBody?: unknown;
}

/** Rows per insert statement: large enough that per-statement overhead vanishes, small enough to stay sub-second. */
export const DEFAULT_BATCH_SIZE = 1_000;

export interface CallLogWriter {
  /** Queues a row; never blocks and never throws. */
  write(record: CallRecord): void;
  /** Writes everything queued (and spilled) now; resolves when the queue is empty or the database failed. */
  flush(): Promise<void>;
  /** Final flush; rows that still cannot be written are spilled to disk. */
  close(): Promise<void>;
  /** Rows waiting in memory. */
  pending(): number;
}

export interface CallLogOptions {
  db: Db;
  log: Logger;
  spillDir: string;
  batchSize?: number;
  flushIntervalMs?: number;
  /** Rows kept in memory before spilling to disk. */
  maxQueue?: number;
  /** Longest pause between retries while the database is failing. */
  maxBackoffMs?: number;
  /** Batches written at the same time (default 2): the database parses one while it stores the other. */
  concurrency?: number;
  /** Writes one batch (default: `insertCalls`, with rollups); tests substitute a failing or recording one. */
  insert?: (rows: CallRecord[]) => Promise<unknown>;
}

export function createCallLogWriter(options: CallLogOptions): CallLogWriter {
  const { db, log, spillDir } = options;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxQueue = options.maxQueue ?? 50_000;
  const maxBackoff = options.maxBackoffMs ?? 5_000;
  const queue: CallRecord[] = [];
  let flushing: Promise<void> | null = null;
  let failures = 0;
  let retryAt = 0;
  let closed = false;
  let spillSeq = 0;

  const insert = options.insert ?? ((rows: CallRecord[]) => insertCalls(db, rows));

  const spill = (rows: CallRecord[]) => {
    if (rows.length === 0) return;
    mkdirSync(spillDir, { recursive: true });
    const file = path.join(spillDir, `calls-${Date.now()}-${process.pid}-${spillSeq++}.jsonl`);
    appendFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    log.warn({ rows: rows.length, file }, "call log: database unavailable, rows spilled to disk for replay");
  };

  const replaySpilled = async () => {
    let files: string[];
    try {
      files = readdirSync(spillDir).filter((f) => f.endsWith(".jsonl")).sort();
    } catch {
      return;
    }
    for (const name of files) {
      const file = path.join(spillDir, name);
      const rows = readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const r = JSON.parse(line) as CallRecord;
          return { ...r, createdAt: new Date(r.createdAt) };
        });
      for (let i = 0; i < rows.length; i += batchSize) await insert(rows.slice(i, i + batchSize));
      rmSync(file);
      log.info({ rows: rows.length, file }, "call log: replayed spilled rows");
    }
  };

  const worker = async () => {
    while (queue.length > 0) {
      // Taken out of the queue while in flight, so an overflow spill during the insert cannot touch it.
      const batch = queue.splice(0, batchSize);
      try {
        await insert(batch);
      } catch (error) {
        queue.unshift(...batch);
        throw error;
      }
    }
  };
  const drain = async () => {
    const results = await Promise.allSettled(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, worker));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    await replaySpilled();
  };

  const flush = (): Promise<void> => {
    flushing ??= (async () => {
      try {
        await drain();
        if (failures > 0) log.info({ failures }, "call log: database writes recovered");
        failures = 0;
      } catch (error) {
        failures += 1;
        retryAt = Date.now() + Math.min(maxBackoff, 100 * 2 ** failures);
        log.error({ err: error, queued: queue.length, failures }, "call log: write failed; will retry");
        if (queue.length > maxQueue) spill(queue.splice(0, queue.length - maxQueue));
      } finally {
        flushing = null;
      }
    })();
    return flushing;
  };

  const timer = setInterval(() => {
    if (queue.length > 0 && Date.now() >= retryAt) void flush();
  }, options.flushIntervalMs ?? 200);
  timer.unref();
  // Rows spilled by an earlier run go in as soon as the database answers.
  void flush();

  return {
    write(record) {
      // Clients paste keys into the wrong field: whatever path logs the call, the row (dashboard, CSV exports)
      // never stores one.
      if (record.requestedModel) record.requestedModel = scrubSecrets(record.requestedModel);
      if (record.endUser) record.endUser = scrubSecrets(record.endUser);
      if (closed) {
        spill([record]);
        return;
      }
      queue.push(record);
      if (queue.length >= batchSize && Date.now() >= retryAt) void flush();
      else if (queue.length > maxQueue) spill(queue.splice(0, queue.length - maxQueue));
    },
    flush,
    pending: () => queue.length,
    async close() {
      closed = true;
      clearInterval(timer);
      await flushing;
      await flush();
      if (queue.length > 0) spill(queue.splice(0));
    },
  };
}
