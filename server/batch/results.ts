/**
 * The end of a batch: output and error files in the OpenAI line format, the final status, and the webhook of a
 * deferred request (its result POSTed as JSON, through the transport's SSRF guard, retried with backoff).
 */
import { TransportError } from "../providers/transport";
import type { WorkerContext } from "./context";
import { batchObject, OPEN_ITEM_STATUSES, newFileId, type LineError, type LineResponse, type OutputLine } from "./objects";
import { FILE_TTL_MS, JOB_SELECT } from "./store";

/** The output lines of a batch in input order: answered lines (any status code) and lines that never ran. */
export async function outputLines(ctx: Pick<WorkerContext, "db">, batchId: string): Promise<{ output: OutputLine[]; errors: OutputLine[] }> {
  const items = await ctx.db.batchItem.findMany({
    where: { batchId, status: { in: ["succeeded", "failed"] } },
    orderBy: { line: "asc" },
    select: { id: true, customId: true, status: true, response: true, error: true },
  });
  const output: OutputLine[] = [];
  const errors: OutputLine[] = [];
  for (const item of items) {
    const line: OutputLine = { id: item.id, custom_id: item.customId, response: (item.response as LineResponse | null) ?? null, error: (item.error as LineError | null) ?? null };
    (item.status === "succeeded" ? output : errors).push(line);
  }
  return { output, errors };
}

const toJsonl = (lines: OutputLine[]) => Buffer.from(lines.map((l) => JSON.stringify(l)).join("\n") + "\n");

/**
 * Finalizes batches none of whose lines is open any more: writes the files and sets the final status —
 * `cancelled` when it was being cancelled, `expired` when lines expired, `completed` otherwise.
 */
export async function finalizeBatches(ctx: WorkerContext): Promise<void> {
  const jobs = await ctx.db.batchJob.findMany({
    where: { status: { in: ["in_progress", "cancelling", "finalizing"] }, items: { none: { status: { in: [...OPEN_ITEM_STATUSES] } } } },
    select: { id: true, status: true, orgId: true, teamId: true, apiKeyId: true, webhookUrl: true, requestTotal: true },
    take: 20,
  });
  for (const job of jobs) {
    if (ctx.signal.aborted) return;
    const now = new Date();
    if (job.status === "in_progress") {
      // Claimed first, so a cancel arriving now gets a 409 instead of racing the files being written.
      const claimed = await ctx.db.batchJob.updateMany({ where: { id: job.id, status: "in_progress" }, data: { status: "finalizing", finalizingAt: now } });
      if (claimed.count === 0) continue;
    }
    const { output, errors } = await outputLines(ctx, job.id);
    const owner = { orgId: job.orgId, teamId: job.teamId, apiKeyId: job.apiKeyId };
    const file = async (lines: OutputLine[], suffix: string) => {
      if (lines.length === 0) return null;
      const content = toJsonl(lines);
      const row = await ctx.db.batchFile.create({
        data: { id: newFileId(), ...owner, purpose: "batch_output", filename: `${job.id}_${suffix}.jsonl`, bytes: content.byteLength, content, createdAt: now, expiresAt: new Date(now.getTime() + FILE_TTL_MS) },
        select: { id: true },
      });
      return row.id;
    };
    const status = job.status === "cancelling" ? "cancelled" : errors.some((l) => l.error?.code === "batch_expired") ? "expired" : "completed";
    const outputFileId = await file(output, "output");
    const errorFileId = await file(errors, "error");
    await ctx.db.batchJob.updateMany({
      where: { id: job.id, status: job.status === "in_progress" ? "finalizing" : job.status },
      data: {
        status,
        outputFileId,
        errorFileId,
        requestCompleted: output.length,
        requestFailed: errors.length,
        ...(job.status === "cancelling" ? {} : { finalizingAt: now }),
        ...(status === "cancelled" ? { cancelledAt: now } : status === "expired" ? { expiredAt: now } : { completedAt: now }),
        ...(job.webhookUrl ? { webhookStatus: "pending", webhookNextAt: now } : {}),
      },
    });
    ctx.touched.delete(job.id);
    ctx.log.info({ batch: job.id, status, completed: output.length, failed: errors.length }, "batch: finished");
  }
}

/** Posts the results of finished deferred requests to their webhooks. */
export async function deliverWebhooks(ctx: WorkerContext): Promise<void> {
  const now = new Date();
  const jobs = await ctx.db.batchJob.findMany({
    where: { webhookStatus: "pending", webhookNextAt: { lte: now } },
    select: { ...JOB_SELECT, webhookUrl: true, webhookAttempts: true },
    take: 10,
  });
  const { webhookAllowPrivate, webhookMaxAttempts } = ctx.options();
  for (const job of jobs) {
    if (ctx.signal.aborted || !job.webhookUrl) continue;
    const { output, errors } = await outputLines(ctx, job.id);
    const batch = batchObject(job);
    const body = JSON.stringify({ type: `batch.${batch.status}`, batch, results: [...output, ...errors] });
    let outcome: { status: "delivered" | "blocked" | "retry"; error?: string };
    try {
      const response = await ctx.gw.transport.request({
        url: job.webhookUrl,
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "switchyard-batch", "x-switchyard-batch-id": job.id },
        body,
        allowPrivate: webhookAllowPrivate,
        signal: ctx.signal,
        timeouts: { connectMs: 5_000, firstByteMs: 10_000, totalMs: 15_000 },
      });
      await response.text().catch(() => "");
      outcome = response.status >= 200 && response.status < 300 ? { status: "delivered" } : { status: "retry", error: `HTTP ${response.status}` };
    } catch (error) {
      if (ctx.signal.aborted) return;
      const blocked = error instanceof TransportError && error.kind === "ssrf_blocked";
      outcome = { status: blocked ? "blocked" : "retry", error: error instanceof Error ? error.message : String(error) };
    }
    const attempts = job.webhookAttempts + 1;
    if (outcome.status === "retry") {
      const failed = attempts >= webhookMaxAttempts;
      ctx.log.warn({ batch: job.id, attempts, error: outcome.error }, failed ? "batch: webhook delivery failed; giving up" : "batch: webhook delivery failed; will retry");
      await ctx.db.batchJob.update({
        where: { id: job.id },
        data: { webhookAttempts: attempts, webhookStatus: failed ? "failed" : "pending", webhookNextAt: new Date(Date.now() + 1_000 * 2 ** attempts) },
      });
    } else {
      await ctx.db.batchJob.update({ where: { id: job.id }, data: { webhookAttempts: attempts, webhookStatus: outcome.status } });
    }
  }
}
