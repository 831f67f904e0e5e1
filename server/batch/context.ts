/** The batch worker's settings and what its passes share. */
import type { Db } from "../db/client";
import type { Gateway } from "../gateway/context";
import type { AdmissionTicket } from "../gateway/hooks";
import type { Logger } from "../obs/log";

export interface BatchWorkerOptions {
  /** Pause between two passes over the database. */
  tickMs: number;
  /** First wait before polling a provider batch; each poll multiplies it by `pollFactor`, up to `pollMaxMs`. */
  pollInitialMs: number;
  pollMaxMs: number;
  pollFactor: number;
  /** How long a deferred request waits for others to share its provider batch (capped at half its deadline). */
  deferWindowMs: number;
  /** Lines on the normal adapter path: at most this many at once … */
  directConcurrency: number;
  /** … and at most this many started per second. */
  directRatePerSecond: number;
  /** Lines per provider batch (OpenAI accepts 50,000, Anthropic 100,000). */
  maxProviderBatchLines: number;
  /** The worker lease: another instance takes over when its holder has not renewed it for this long. */
  leaseMs: number;
  /** Webhooks to private addresses (tests, on-premise receivers); metadata addresses stay refused. */
  webhookAllowPrivate: boolean;
  webhookMaxAttempts: number;
  /** Longest admission back-off (rate limit Retry-After) a line waits for; longer ones fail the line with a 429. */
  maxAdmissionWaitMs: number;
  /** At shutdown, how long the pass in progress may finish its step (a submission being recorded) before aborting. */
  stopGraceMs: number;
}

export const DEFAULT_BATCH_OPTIONS: Readonly<BatchWorkerOptions> = {
  tickMs: 1_000,
  pollInitialMs: 10_000,
  pollMaxMs: 300_000,
  pollFactor: 2,
  deferWindowMs: 5_000,
  directConcurrency: 4,
  directRatePerSecond: 5,
  maxProviderBatchLines: 10_000,
  leaseMs: 30_000,
  webhookAllowPrivate: false,
  webhookMaxAttempts: 5,
  maxAdmissionWaitMs: 60_000,
  stopGraceMs: 5_000,
};

export interface WorkerContext {
  db: Db;
  gw: Gateway;
  log: Logger;
  options(): Readonly<BatchWorkerOptions>;
  /**
   * Admission tickets of lines admitted but not settled yet. In memory only: after a restart the reservations
   * lapse on their own (the store's hold) and the spend is in the call log.
   */
  tickets: Map<string, AdmissionTicket>;
  /** Aborted when the worker stops; in-flight lines stay `running` and run again on the next leader. */
  signal: AbortSignal;
  /** Batches whose lines changed since their request counts were last refreshed. */
  touched: Set<string>;
  /** Asks for another pass soon (a line finished, a batch may be complete). */
  kick(): void;
}
