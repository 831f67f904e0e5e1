/**
 * The pipeline's extension points, each implemented by its own module so routing, caching and the ledger can
 * evolve without touching the pipeline:
 *   admit (rate limits, budget reservation) → cache lookup → plan → execute → settle (cost, reservation, cache write).
 * The defaults here admit everything and cache nothing.
 */
import type { ChatChunk, ChatRequest, ChatResponse, NormalizedUsage } from "../providers/types";
import type { AuthContext } from "./auth";
import type { Plan } from "./resolve";

/** What admission and caching know about a call before it runs. */
export interface CallContext {
  key: AuthContext;
  /** chat.completions | messages | responses | embeddings */
  endpoint: string;
  canonical: ChatRequest;
  plan: Plan;
  headers: Headers;
  /** The call-log id, so reservations and cache entries can name the call. */
  callId: string;
}

/** A granted admission: holds a budget reservation until the call settles. */
export interface AdmissionTicket {
  /** Headers for the client (x-ratelimit-*). */
  headers: Record<string, string>;
  /** Settles the reservation to the actual cost (USD decimal string) and records tokens for TPM limits. */
  settle(costUsd: string, usage: NormalizedUsage): Promise<void>;
  /** Releases the reservation untouched (the call failed before any upstream cost). */
  release(): Promise<void>;
}

export interface Admission {
  /** Throws AppError 429 (limit, budget) or 503 (counter store down, fail closed). */
  admit(call: CallContext): Promise<AdmissionTicket>;
}

/** A stored answer: the canonical response, and for streamed calls the chunks to replay with the same shape. */
export interface CachedAnswer {
  response: ChatResponse;
  chunks?: ChatChunk[];
  usage: NormalizedUsage;
  /** "hit" (exact) or "semantic-hit". */
  outcome: "hit" | "semantic-hit";
  similarity?: number;
  /** What the cached answer cost when it was paid for (USD decimal string): the saving of serving it again. */
  originalCostUsd: string;
}

export interface CacheLookup {
  answer: CachedAnswer | null;
  /** hit | semantic-hit | miss | bypass | shadow — reported in x-switchyard-cache and the call log. */
  outcome: string;
  /** Extra response headers (e.g. x-switchyard-cache-similarity). */
  headers: Record<string, string>;
  /** Whether the fresh answer may be stored afterwards (no-store, rule disabled … make this false). */
  store: boolean;
}

export interface ResponseCache {
  lookup(call: CallContext): Promise<CacheLookup>;
  /** Stores a fresh answer; never throws (a cache write failure must not fail the call). */
  store(call: CallContext, answer: Omit<CachedAnswer, "outcome" | "similarity">): Promise<void>;
}

export const admitAll: Admission = {
  async admit() {
    return { headers: {}, settle: async () => {}, release: async () => {} };
  },
};

export const noCache: ResponseCache = {
  async lookup() {
    return { answer: null, outcome: "bypass", headers: {}, store: false };
  },
  async store() {},
};
