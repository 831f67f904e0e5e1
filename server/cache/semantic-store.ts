/**
 * The semantic cache's entries: an in-memory vector index (what lookups read) backed by CacheEntry rows in the
 * database (what a restart or another instance rebuilds it from). Writes go to memory at once and to the database
 * in the background; every instance polls for rows written elsewhere, and applies recorded purges.
 */
import type { Db } from "../db/client";
import type { Logger } from "../obs/log";
import type { StoredAnswer } from "./exact-store";
import { VectorIndex, type Neighbour } from "./vector-index";

export interface SemanticEntry {
  id: string;
  vector: Float32Array;
  orgId: string;
  teamId: string;
  apiKeyId: string | null;
  ruleId: string | null;
  /** Tenant, rule generation and request namespace (see storeKey): entries never cross it. */
  partition: string;
  exactKey: string;
  contextHash: string;
  query: string;
  embedder: string;
  answer: StoredAnswer;
  createdAt: number;
  expiresAt: number;
  bytes: number;
}

export interface SemanticPurge {
  orgId: string;
  teamId?: string;
  ruleId?: string;
  before: number;
}

export function bucketKey(partition: string, contextHash: string, embedder: string): string {
  return `${partition}|${contextHash}|${embedder}`;
}

/** Rows written by another instance can commit slightly out of createdAt order: re-read this far back. */
const SYNC_OVERLAP_MS = 10_000;
const SYNC_PAGE = 2_000;

export class SemanticStore {
  private readonly index: VectorIndex<SemanticEntry>;
  private readonly byExact = new Map<string, string>();
  private readonly entries = new Map<string, SemanticEntry>();
  private bytes = 0;
  private watermark = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly options: { maxPerBucket?: number; maxBytes?: number; now?: () => number } = {},
  ) {
    this.index = new VectorIndex<SemanticEntry>(options.maxPerBucket ?? 10_000);
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Adds an entry to memory (evicting the oldest beyond the bounds); `persist` also writes its row. */
  add(entry: SemanticEntry, persist: boolean): void {
    this.remember(entry);
    if (persist) this.track(this.insert(entry));
  }

  /** The live entry for an identical request in this partition (an exact hit another instance may have stored). */
  findExact(partition: string, exactKey: string, minCreatedAt: number): SemanticEntry | null {
    const id = this.byExact.get(`${partition}|${exactKey}`);
    const entry = id ? this.entries.get(id) : undefined;
    if (!entry || entry.expiresAt <= this.now() || entry.createdAt < minCreatedAt) return null;
    return entry;
  }

  /** The `k` nearest live entries of a bucket, best first. */
  search(bucket: string, vector: Float32Array, k: number, minCreatedAt: number): Array<Neighbour<SemanticEntry>> {
    const now = this.now();
    return this.index.search(bucket, vector, k, (e) => e.expiresAt > now && e.createdAt >= minCreatedAt);
  }

  purge(filter: SemanticPurge): number {
    let removed = 0;
    for (const entry of [...this.entries.values()]) {
      if (!purgeMatches(entry, filter)) continue;
      this.forget(entry.id);
      removed += 1;
    }
    return removed;
  }

  /** Loads every live row (at start), then only rows newer than the last seen (every sync). */
  async sync(): Promise<number> {
    const where = {
      createdAt: { gte: new Date(Math.max(0, this.watermark - SYNC_OVERLAP_MS)) },
      expiresAt: { gt: new Date(this.now()) },
    };
    let added = 0;
    let cursor: string | undefined;
    for (;;) {
      const rows = await this.db.cacheEntry.findMany({
        where,
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        take: SYNC_PAGE,
        ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
      });
      for (const row of rows) {
        this.watermark = Math.max(this.watermark, row.createdAt.getTime());
        if (this.entries.has(row.id)) continue;
        const bytes = new Uint8Array(row.embedding);
        this.remember({
          id: row.id,
          vector: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
          orgId: row.orgId,
          teamId: row.teamId,
          apiKeyId: row.apiKeyId,
          ruleId: row.ruleId,
          partition: row.namespace,
          exactKey: row.exactKey,
          contextHash: row.contextHash,
          query: row.query,
          embedder: row.embedder,
          answer: row.answer as unknown as StoredAnswer,
          createdAt: row.createdAt.getTime(),
          expiresAt: row.expiresAt.getTime(),
          bytes: row.bytes,
        });
        added += 1;
      }
      if (rows.length < SYNC_PAGE) return added;
      cursor = rows.at(-1)!.id;
    }
  }

  /** Drops expired entries from memory and deletes expired rows. */
  async sweep(): Promise<void> {
    const now = this.now();
    for (const entry of [...this.entries.values()]) if (entry.expiresAt <= now) this.forget(entry.id);
    await this.db.cacheEntry.deleteMany({ where: { expiresAt: { lte: new Date(now) } } });
  }

  /** Waits for background writes (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  clear(): void {
    this.index.clear();
    this.entries.clear();
    this.byExact.clear();
    this.bytes = 0;
  }

  private remember(entry: SemanticEntry): void {
    this.forget(entry.id);
    const exactId = `${entry.partition}|${entry.exactKey}`;
    const previous = this.byExact.get(exactId);
    if (previous) this.forget(previous); // one entry per identical request: the newest answer wins
    for (const evicted of this.index.add(bucketKey(entry.partition, entry.contextHash, entry.embedder), entry)) this.drop(evicted);
    this.entries.set(entry.id, entry);
    this.byExact.set(exactId, entry.id);
    this.bytes += entry.bytes;
    const maxBytes = this.options.maxBytes ?? 256 * 1024 * 1024;
    // Map order is insertion order: the first entries are the oldest.
    for (const oldest of this.entries.values()) {
      if (this.bytes <= maxBytes || oldest.id === entry.id) break;
      this.forget(oldest.id);
    }
  }

  private forget(id: string): void {
    const entry = this.index.remove(id) ?? this.entries.get(id);
    if (entry) this.drop(entry);
  }

  private drop(entry: SemanticEntry): void {
    if (!this.entries.delete(entry.id)) return;
    this.bytes -= entry.bytes;
    const exactId = `${entry.partition}|${entry.exactKey}`;
    if (this.byExact.get(exactId) === entry.id) this.byExact.delete(exactId);
  }

  private async insert(entry: SemanticEntry): Promise<void> {
    try {
      await this.db.cacheEntry.create({
        data: {
          id: entry.id,
          orgId: entry.orgId,
          teamId: entry.teamId,
          apiKeyId: entry.apiKeyId,
          ruleId: entry.ruleId,
          namespace: entry.partition,
          exactKey: entry.exactKey,
          contextHash: entry.contextHash,
          query: entry.query,
          embedder: entry.embedder,
          embedding: Uint8Array.from(new Uint8Array(entry.vector.buffer, entry.vector.byteOffset, entry.vector.byteLength)),
          answer: entry.answer as never,
          bytes: entry.bytes,
          createdAt: new Date(entry.createdAt),
          expiresAt: new Date(entry.expiresAt),
        },
      });
    } catch (error) {
      this.log.warn({ err: error }, "semantic cache entry could not be persisted; it stays in this instance's memory");
    }
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }
}

export function purgeMatches(entry: { orgId: string; teamId: string; ruleId: string | null; createdAt: number }, filter: SemanticPurge): boolean {
  if (entry.orgId !== filter.orgId) return false;
  if (filter.teamId !== undefined && entry.teamId !== filter.teamId) return false;
  if (filter.ruleId !== undefined && entry.ruleId !== filter.ruleId) return false;
  return entry.createdAt < filter.before;
}
