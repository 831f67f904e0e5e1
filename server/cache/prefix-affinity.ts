/**
 * Prefix affinity for sticky routing: which target recently served a request with the same cacheable prefix (the
 * system prompt and tools, the part every provider's prompt cache keys on). The planner puts that target first
 * where the strategy allows (server/routing/plan.ts, `applyPrefixAffinity`), so requests sharing a prefix read the
 * prompt cache their predecessors wrote instead of writing a new one on another provider or deployment.
 *
 * State lives in the state store (memory, or Redis so every instance shares it), one key per organization and
 * prefix, refreshed by every served call and forgotten after `ttlMs` without one (provider prompt caches live about
 * five minutes after their last use: Anthropic's default TTL, OpenAI's in-memory retention).
 */
import type { ChatRequest } from "../providers/types";
import type { StateStore } from "../state/store";
import { estimatePromptTokens } from "../gateway/tokens";
import { sha256, stableStringify } from "./key";

/** Below this no provider caches a prefix (OpenAI, Anthropic Sonnet, Gemini Flash all start at 1,024 tokens). */
export const STICKY_MIN_PREFIX_TOKENS = 1024;
export const DEFAULT_AFFINITY_TTL_MS = 5 * 60_000;

/** The cacheable prefix of a request: a hash of its system messages and tools, and their estimated tokens. */
export function stickyPrefix(request: ChatRequest): { hash: string; tokens: number } | null {
  const system = request.messages.filter((m) => m.role === "system" || m.role === "developer");
  if (system.length === 0 && !request.tools?.length) return null;
  const tokens = estimatePromptTokens(system, request.tools);
  if (tokens < STICKY_MIN_PREFIX_TOKENS) return null;
  return { hash: sha256(stableStringify({ system, tools: request.tools ?? [] })).slice(0, 32), tokens };
}

export interface PrefixAffinity {
  /** The targetId that last served this prefix in the organization, or null. Never throws (a store outage = none). */
  lookup(orgId: string, hash: string): Promise<string | null>;
  /** Records that `targetId` served this prefix. Never throws. */
  record(orgId: string, hash: string, targetId: string): Promise<void>;
}

export function createPrefixAffinity(state: StateStore, options: { ttlMs?: number } = {}): PrefixAffinity {
  const ttlMs = options.ttlMs ?? DEFAULT_AFFINITY_TTL_MS;
  const key = (orgId: string, hash: string) => `affinity:${orgId}:${hash}`;
  return {
    async lookup(orgId, hash) {
      return state.get(key(orgId, hash)).catch(() => null);
    },
    async record(orgId, hash, targetId) {
      await state.set(key(orgId, hash), targetId, ttlMs).catch(() => {});
    },
  };
}
