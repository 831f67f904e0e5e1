/**
 * The batch worker: one per gateway process, of which one at a time (the holder of a lease row, renewed every
 * pass) does the work. Everything it knows is in the database, so a restarted or another instance resumes where
 * the last holder stopped: batches being validated, lines waiting, provider batches to poll, webhooks to post.
 *
 * A pass: validate new batches → stop cancelled and expired ones → dispatch due lines (provider batches or the
 * direct pool) → poll provider batches that are due → finalize batches with no open line → post webhooks.
 * Passes run every `tickMs`, and at once when asked (a batch was created, a line finished).
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Db } from "../db/client";
import type { Gateway } from "../gateway/context";
import { toAppError } from "../gateway/errors";
import type { Logger } from "../obs/log";
import { DEFAULT_BATCH_OPTIONS, type BatchWorkerOptions, type WorkerContext } from "./context";
import { dispatch } from "./dispatch";
import { DirectPool } from "./execute";
import { parseInputFile, validateLine } from "./input";
import { callRecord } from "./lines";
import { CANCELLED, EXPIRED, lineErrorResponse, lineRequestId, newItemId, type BatchEndpoint, type LineError } from "./objects";
import { cancelAbandonedProviderBatches, pollProviderBatches } from "./provider-batches";
import { deliverWebhooks, finalizeBatches } from "./results";

const LEASE = "batch-worker";
const INSERT_CHUNK = 1_000;

export interface BatchWorker {
  options(): Readonly<BatchWorkerOptions>;
  /** Changes settings (tests shorten every interval); the next pass uses them. */
  configure(next: Partial<BatchWorkerOptions>): void;
  /** Gives the worker the gateway it runs lines through (transport, admission) and starts its passes. */
  attach(gw: Gateway): void;
  /** Asks for a pass as soon as possible. */
  kick(): void;
  /**
   * Stops passes: the pass in progress finishes its current step (within `stopGraceMs`), then lines still in flight
   * are aborted (they run again on the next holder) and the lease is released.
   */
  stop(): Promise<void>;
}

export function createBatchWorker(init: { log: Logger; options?: Partial<BatchWorkerOptions> }): BatchWorker {
  let options: BatchWorkerOptions = { ...DEFAULT_BATCH_OPTIONS, ...init.options };
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const abort = new AbortController();
  const log = init.log.child({ component: "batch" });
  let ctx: WorkerContext | null = null;
  let pool: DirectPool | null = null;
  let leader = false;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  /** The pass in progress; it resolves false when another instance holds the lease. */
  let running: Promise<boolean> | null = null;
  let again = false;

  const schedule = (ms: number) => {
    if (stopped || !ctx) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void run(), ms);
    timer.unref();
  };

  const run = (): Promise<boolean> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        return await pass();
      } catch (error) {
        log.error({ err: error }, "batch: worker pass failed");
        return false;
      } finally {
        running = null;
        if (again) {
          again = false;
          schedule(0);
        } else {
          schedule(options.tickMs);
        }
      }
    })();
    return running;
  };

  const pass = async (): Promise<boolean> => {
    if (!ctx || !pool || stopped) return false;
    const wasLeader = leader;
    let renewedAt = Date.now();
    leader = await holdLease(ctx.db, owner, options.leaseMs);
    if (!leader) return false;
    if (!wasLeader) await recover(ctx, pool);
    // A long pass (a large batch being submitted) renews the lease between steps, and stops if it was lost.
    const stillLeader = async () => {
      if (Date.now() - renewedAt < options.leaseMs / 3) return leader;
      renewedAt = Date.now();
      return (leader = await holdLease(ctx!.db, owner, options.leaseMs));
    };
    const steps = [intake, settleAbandoned, (c: WorkerContext) => dispatch(c, pool!), pollProviderBatches, refreshCounts, finalizeBatches, deliverWebhooks];
    for (const step of steps) {
      if (stopped || !(await stillLeader())) return false;
      await step(ctx);
    }
    return true;
  };

  return {
    options: () => options,
    configure(next) {
      options = { ...options, ...next };
      if (ctx && !running) schedule(0);
    },
    attach(gw) {
      if (ctx || stopped) return;
      ctx = {
        db: gw.rt.db.prisma,
        gw,
        log,
        options: () => options,
        tickets: new Map(),
        touched: new Set(),
        signal: abort.signal,
        kick: () => schedule(0),
      };
      pool = new DirectPool(ctx);
      schedule(0);
    },
    kick: () => schedule(0),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise((resolve) => (grace = setTimeout(resolve, options.stopGraceMs)))]);
      clearTimeout(grace);
      abort.abort();
      await running;
      await pool?.drain();
      if (ctx && leader) await ctx.db.batchLease.deleteMany({ where: { name: LEASE, owner } }).catch(() => {});
      leader = false;
    },
  };
}

/** Takes or renews the worker lease; true while this instance holds it. */
async function holdLease(db: Db, owner: string, leaseMs: number): Promise<boolean> {
  const now = new Date();
  const expiresAt = new Date(now.getTime() + leaseMs);
  const renewed = await db.batchLease.updateMany({ where: { name: LEASE, OR: [{ owner }, { expiresAt: { lt: now } }] }, data: { owner, expiresAt } });
  if (renewed.count === 1) return true;
  if (await db.batchLease.findUnique({ where: { name: LEASE }, select: { owner: true } })) return false;
  try {
    await db.batchLease.create({ data: { name: LEASE, owner, expiresAt } });
    return true;
  } catch {
    return false; // another instance created it first
  }
}

/**
 * On taking the lease: lines the previous holder was running directly run again, and provider batches it was
 * submitting (unknown whether the provider accepted them) are given up, their lines going back to dispatch.
 */
async function recover(ctx: WorkerContext, pool: DirectPool): Promise<void> {
  if (pool.size() === 0) await ctx.db.batchItem.updateMany({ where: { status: "running" }, data: { status: "pending" } });
  const stuck = await ctx.db.providerBatch.findMany({ where: { status: "submitting" }, select: { id: true } });
  for (const { id } of stuck) {
    await ctx.db.providerBatch.update({ where: { id }, data: { status: "ended", error: "interrupted before the provider confirmed the submission" } });
    await ctx.db.batchItem.updateMany({ where: { providerBatchId: id, status: "queued" }, data: { status: "pending", providerBatchId: null, mode: null } });
  }
  const resumed = await ctx.db.providerBatch.count({ where: { status: { in: ["in_progress", "cancelling"] } } });
  ctx.log.info({ resumedProviderBatches: resumed }, "batch: worker lease taken");
}

/**
 * Validates new batches: a file-level problem fails the batch with its errors; otherwise every line becomes an
 * item — pending, or failed at once with the 400 the live endpoint would have answered (logged as a call).
 */
async function intake(ctx: WorkerContext): Promise<void> {
  const jobs = await ctx.db.batchJob.findMany({
    where: { status: "validating" },
    orderBy: { createdAt: "asc" },
    take: 5,
    select: { id: true, endpoint: true, inputFileId: true, orgId: true, teamId: true, apiKeyId: true },
  });
  for (const job of jobs) {
    if (ctx.signal.aborted) return;
    const file = await ctx.db.batchFile.findUnique({ where: { id: job.inputFileId }, select: { content: true } });
    const parsed = file
      ? parseInputFile(Buffer.from(file.content).toString("utf8"), job.endpoint as BatchEndpoint)
      : { ok: false as const, errors: [{ code: "file_not_found", message: `The input file ${job.inputFileId} no longer exists.`, param: "input_file_id", line: null }] };
    if (!parsed.ok) {
      await ctx.db.batchJob.updateMany({ where: { id: job.id, status: "validating" }, data: { status: "failed", failedAt: new Date(), errors: parsed.errors as object[] } });
      continue;
    }
    // Lines created by an interrupted intake are kept (and not logged twice).
    const existing = new Set((await ctx.db.batchItem.findMany({ where: { batchId: job.id }, select: { line: true } })).map((i) => i.line));
    const now = new Date();
    const owner = { orgId: job.orgId, teamId: job.teamId, apiKeyId: job.apiKeyId };
    const rows = parsed.lines
      .filter((l) => !existing.has(l.line))
      .map((l) => {
        const callId = randomUUID();
        const base = { id: newItemId(), batchId: job.id, line: l.line, customId: l.customId, url: l.url, body: l.body as object, notBefore: now, callId };
        try {
          validateLine(l.url, l.body);
          return { row: { ...base, status: "pending" }, invalid: null };
        } catch (error) {
          const appError = toAppError(error);
          return { row: { ...base, status: "failed", response: lineErrorResponse(appError, lineRequestId(callId)) as object, finishedAt: now }, invalid: appError };
        }
      });
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await ctx.db.batchItem.createMany({ data: rows.slice(i, i + INSERT_CHUNK).map((r) => r.row), skipDuplicates: true });
    }
    for (const { row, invalid } of rows) {
      if (!invalid) continue;
      const body = row.body as { model?: unknown; user?: unknown };
      const meta = { callId: row.callId, batchId: job.id, kind: row.url === "/v1/embeddings" ? ("embeddings" as const) : ("chat" as const), requestedModel: typeof body.model === "string" ? body.model : null, endUser: typeof body.user === "string" ? body.user : null };
      ctx.gw.rt.calls.write(callRecord(meta, owner, null, { status: invalid.status, errorClass: invalid.code }));
    }
    await ctx.db.batchJob.update({ where: { id: job.id }, data: { requestTotal: parsed.lines.length } });
    await ctx.db.batchJob.updateMany({ where: { id: job.id, status: "validating" }, data: { status: "in_progress", inProgressAt: now } });
    ctx.touched.add(job.id);
  }
}

/** Lines of cancelled and expired batches that have not run are answered at once; their provider batches are cancelled. */
async function settleAbandoned(ctx: WorkerContext): Promise<void> {
  const now = new Date();
  const cancelling = await ctx.db.batchJob.findMany({ where: { status: "cancelling" }, select: { id: true }, take: 50 });
  for (const job of cancelling) await abandon(ctx, job.id, CANCELLED);
  const expired = await ctx.db.batchJob.findMany({ where: { status: "in_progress", expiresAt: { lte: now } }, select: { id: true }, take: 50 });
  for (const job of expired) await abandon(ctx, job.id, EXPIRED);
  // A batch still waiting for validation when its window closed never started: it expires as it is.
  await ctx.db.batchJob.updateMany({ where: { status: "validating", expiresAt: { lte: now } }, data: { status: "expired", expiredAt: now } });
}

async function abandon(ctx: WorkerContext, batchId: string, error: LineError): Promise<void> {
  const open = await ctx.db.batchItem.findMany({ where: { batchId, status: { in: ["pending", "queued"] } }, select: { id: true, providerBatchId: true } });
  if (open.length === 0) return;
  await ctx.db.batchItem.updateMany({
    where: { id: { in: open.map((i) => i.id) }, status: { in: ["pending", "queued"] } },
    data: { status: "failed", error: error as object, finishedAt: new Date() },
  });
  for (const { id } of open) {
    const ticket = ctx.tickets.get(id);
    ctx.tickets.delete(id);
    await ticket?.release().catch(() => {});
  }
  ctx.touched.add(batchId);
  const providerBatches = [...new Set(open.map((i) => i.providerBatchId).filter((id): id is string => id !== null))];
  await cancelAbandonedProviderBatches(ctx, providerBatches);
}

/** Keeps request_counts current for batches whose lines changed. */
async function refreshCounts(ctx: WorkerContext): Promise<void> {
  const ids = [...ctx.touched];
  ctx.touched.clear();
  if (ids.length === 0) return;
  const counts = await ctx.db.batchItem.groupBy({ by: ["batchId", "status"], where: { batchId: { in: ids } }, _count: true });
  for (const id of ids) {
    const of = (status: string) => counts.find((c) => c.batchId === id && c.status === status)?._count ?? 0;
    await ctx.db.batchJob.update({ where: { id }, data: { requestCompleted: of("succeeded"), requestFailed: of("failed") } });
  }
}
