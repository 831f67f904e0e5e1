/**
 * An in-process vector index: one bucket per (tenant partition, context hash, embedder), brute-force dot products
 * over a contiguous Float32Array. A bucket holds the questions asked under one system prompt, history, tools and
 * parameters, so buckets stay small; at the 10,000-entry cap a scan costs a few milliseconds (512-d), well under
 * the embedding itself. The oldest entry makes room when a bucket is full.
 */

export interface IndexedItem {
  id: string;
  vector: Float32Array;
}

export interface Neighbour<T> {
  item: T;
  similarity: number;
}

class Bucket<T extends IndexedItem> {
  items: T[] = [];
  private data: Float32Array;
  constructor(readonly dimensions: number) {
    this.data = new Float32Array(dimensions * 16);
  }

  add(item: T): void {
    const n = this.items.length;
    if ((n + 1) * this.dimensions > this.data.length) {
      const grown = new Float32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(item.vector, n * this.dimensions);
    this.items.push(item);
  }

  removeAt(index: number): void {
    const last = this.items.length - 1;
    if (index !== last) {
      // Keep insertion order (oldest first) so eviction stays FIFO: shift the tail down by one.
      this.data.copyWithin(index * this.dimensions, (index + 1) * this.dimensions, (last + 1) * this.dimensions);
    }
    this.items.splice(index, 1);
  }

  /** The `k` most similar items accepted by `accept`, best first. */
  search(query: Float32Array, k: number, accept: (item: T) => boolean): Array<Neighbour<T>> {
    const best: Array<Neighbour<T>> = [];
    const d = this.dimensions;
    for (let i = 0; i < this.items.length; i++) {
      let dot = 0;
      const offset = i * d;
      for (let j = 0; j < d; j++) dot += query[j]! * this.data[offset + j]!;
      if (best.length === k && dot <= best[k - 1]!.similarity) continue;
      const item = this.items[i]!;
      if (!accept(item)) continue;
      let at = best.length;
      while (at > 0 && best[at - 1]!.similarity < dot) at -= 1;
      best.splice(at, 0, { item, similarity: dot });
      if (best.length > k) best.pop();
    }
    return best;
  }
}

export class VectorIndex<T extends IndexedItem> {
  private readonly buckets = new Map<string, Bucket<T>>();
  private readonly where = new Map<string, string>();

  constructor(private readonly maxPerBucket = 10_000) {}

  get size(): number {
    return this.where.size;
  }

  has(id: string): boolean {
    return this.where.has(id);
  }

  /** Adds an item (replacing one with the same id); returns the items evicted to make room. */
  add(bucketKey: string, item: T): T[] {
    this.remove(item.id);
    let bucket = this.buckets.get(bucketKey);
    if (!bucket) {
      bucket = new Bucket<T>(item.vector.length);
      this.buckets.set(bucketKey, bucket);
    }
    if (bucket.dimensions !== item.vector.length) throw new Error("vector dimensions differ within one bucket");
    const evicted: T[] = [];
    while (bucket.items.length >= this.maxPerBucket) {
      const oldest = bucket.items[0]!;
      bucket.removeAt(0);
      this.where.delete(oldest.id);
      evicted.push(oldest);
    }
    bucket.add(item);
    this.where.set(item.id, bucketKey);
    return evicted;
  }

  remove(id: string): T | null {
    const key = this.where.get(id);
    if (key === undefined) return null;
    const bucket = this.buckets.get(key)!;
    const index = bucket.items.findIndex((item) => item.id === id);
    const [item] = bucket.items.slice(index, index + 1);
    bucket.removeAt(index);
    this.where.delete(id);
    if (bucket.items.length === 0) this.buckets.delete(key);
    return item ?? null;
  }

  /** Removes every item `predicate` selects; returns how many. */
  removeWhere(predicate: (item: T) => boolean): number {
    const doomed: string[] = [];
    for (const bucket of this.buckets.values()) for (const item of bucket.items) if (predicate(item)) doomed.push(item.id);
    for (const id of doomed) this.remove(id);
    return doomed.length;
  }

  search(bucketKey: string, query: Float32Array, k: number, accept: (item: T) => boolean = () => true): Array<Neighbour<T>> {
    const bucket = this.buckets.get(bucketKey);
    if (!bucket || bucket.dimensions !== query.length) return [];
    return bucket.search(query, k, accept);
  }

  clear(): void {
    this.buckets.clear();
    this.where.clear();
  }
}
