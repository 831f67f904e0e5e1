/**
 * Cache keys, pure. The exact key is a hash of the normalized request: everything that can change the answer
 * (requested model or policy and its version, messages, tools, response format, sampling and output parameters),
 * and nothing that cannot (stream, stream_options, user, metadata, safety_identifier, store, prompt-cache hints,
 * service tier, `cache_control` breakpoints). Null and absent are the same; object keys are sorted.
 *
 * The semantic cache splits the same request in two: the last user turn (embedded and compared by meaning) and
 * the context hash (everything else: model, system prompt, earlier turns, tools, parameters), which must match
 * exactly — a paraphrased question is only the same question under the same instructions and history.
 */
import { createHash } from "node:crypto";
import type { ChatMessage, ChatRequest } from "../providers/types";

/** Request fields that never change the generated answer, so they are left out of every key. */
const IGNORED_PARAMS: ReadonlySet<string> = new Set([
  "stream",
  "stream_options",
  "user",
  "metadata",
  "safety_identifier",
  "store",
  "prompt_cache_key",
  "prompt_cache_retention",
  "service_tier",
]);

/** JSON with sorted object keys, null/undefined object members dropped: equal meaning, equal text. */
export function stableStringify(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Content parts without `cache_control` (a breakpoint is a billing hint, not part of the question). */
function stripCacheControl(message: ChatMessage): ChatMessage {
  if (!("content" in message) || !Array.isArray(message.content)) return message;
  const content = (message.content as unknown as Array<Record<string, unknown>>).map((part) => {
    if (!("cache_control" in part)) return part;
    const { cache_control: _hint, ...rest } = part;
    return rest;
  });
  return { ...message, content } as unknown as ChatMessage;
}

/** What the answer depends on, as a plain object (see the module comment). */
export function normalizeRequest(req: ChatRequest, policyVersion: string | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(req)) {
    if (IGNORED_PARAMS.has(key) || value === null || value === undefined) continue;
    out[key] = key === "messages" ? (value as ChatMessage[]).map(stripCacheControl) : value;
  }
  // A policy edit can change the model behind the name: its version is part of what the answer depends on.
  if (policyVersion) out.__policy = policyVersion;
  return out;
}

/** The exact-cache key of a request: SHA-256 of its normalized form. */
export function exactKey(req: ChatRequest, policyVersion: string | null): string {
  return sha256(stableStringify(normalizeRequest(req, policyVersion)));
}

export interface SemanticParts {
  /** The last user turn's text: what gets embedded. */
  query: string;
  /** SHA-256 of the normalized request without its last user turn. */
  context: string;
}

/**
 * Splits a request for the semantic cache, or null when it has no plain-text last user turn to compare by meaning
 * (a tool result, an image or audio part, an empty message): such requests use the exact cache only.
 */
export function semanticParts(req: ChatRequest, policyVersion: string | null): SemanticParts | null {
  const last = req.messages.at(-1);
  if (!last || last.role !== "user") return null;
  let query: string;
  if (typeof last.content === "string") query = last.content;
  else {
    if (!last.content.every((part) => part.type === "text")) return null;
    query = last.content.map((part) => (part.type === "text" ? part.text : "")).join("\n");
  }
  query = query.trim();
  if (query === "") return null;
  const rest: ChatRequest = { ...req, messages: req.messages.slice(0, -1) };
  // The speaker's name is context, not question: it stays in the hash.
  const normalized = normalizeRequest(rest, policyVersion);
  normalized.__lastUserName = last.name ?? null;
  return { query, context: sha256(stableStringify(normalized)) };
}
