/**
 * Provider prompt caching: marks the stable prefix of a request so the provider bills it at its cache-read rate on
 * the next call. Pure; called once per attempt with the target the attempt goes to, just before the adapter builds
 * the upstream request.
 *
 * - Anthropic caches by explicit breakpoints (`cache_control` on content blocks; the prompt is tools → system →
 *   messages and a breakpoint caches everything before it). Unless the request already marks breakpoints, up to
 *   three are placed (the provider allows four): after the system prompt (which covers the tools too), at the end of
 *   the previous user turn (so this call reads what the previous turn wrote) and at the end of the conversation (so
 *   the next turn reads it). A breakpoint is only placed where the prefix reaches the model's minimum cacheable
 *   length (below it the provider ignores it). Assistant turns cannot carry one (the adapter flattens them), so the
 *   nearest user or tool message before is used.
 * - OpenAI caches prompts of 1024 tokens or more automatically, routing by a prefix hash; `prompt_cache_key` keeps
 *   requests that share a long stable prefix (tools and system prompt) on the same cache shard. It is derived from
 *   that prefix when the client set none. Other OpenAI-protocol providers drop the parameter (see the registry).
 * - Gemini: implicit caching applies to 2.5+ models without any marker, so the request is unchanged here; explicit
 *   `cachedContents` involve I/O and a break-even decision, and live in gemini-context.ts.
 */
import type { ChatMessage, ChatRequest, Protocol, TextPart, UserContentPart } from "../providers/types";
import { estimatePromptTokens } from "../gateway/tokens";
import { sha256, stableStringify } from "./key";

/** Anthropic allows four breakpoints; the planner uses at most three, leaving one to the client's tools. */
const MAX_BREAKPOINTS = 3;
/** OpenAI's automatic prompt cache starts at 1024 prompt tokens. */
const OPENAI_MIN_TOKENS = 1024;

/** The smallest prefix Anthropic caches for a model (platform docs, 2026): below it a breakpoint is ignored. */
export function anthropicMinimumTokens(model: string): number {
  if (/opus-4-[56]|haiku-4-5/.test(model)) return 4096;
  if (/haiku/.test(model)) return 2048;
  return 1024;
}

export interface PromptCacheTarget {
  protocol: Protocol;
  /** The provider's model id. */
  model: string;
}

/** Returns the request to send to `target`: the same object when nothing applies, else a modified copy. */
export function planPromptCache(req: ChatRequest, target: PromptCacheTarget): ChatRequest {
  if (target.protocol === "anthropic") return planAnthropic(req, target.model);
  if (target.protocol === "openai") return planOpenAI(req);
  return req;
}

function hasBreakpoint(req: ChatRequest): boolean {
  return req.messages.some((m) => Array.isArray(m.content) && (m.content as Array<{ cache_control?: unknown }>).some((p) => p.cache_control));
}

/** Whether a message can carry a breakpoint through the Anthropic adapter (system, user and tool content). */
function markable(message: ChatMessage): boolean {
  if (message.role === "system" || message.role === "developer" || message.role === "tool") return true;
  if (message.role !== "user") return false;
  if (typeof message.content === "string") return message.content !== "";
  const last = message.content.at(-1);
  return last?.type === "text" || last?.type === "image_url";
}

/** A copy of `message` whose last content part carries an ephemeral breakpoint. */
function mark(message: ChatMessage): ChatMessage {
  const breakpoint = { type: "ephemeral" as const };
  if (message.role === "user") {
    const parts: UserContentPart[] = typeof message.content === "string" ? [{ type: "text", text: message.content }] : [...message.content];
    const last = parts.at(-1)!;
    if (last.type === "text" || last.type === "image_url") parts[parts.length - 1] = { ...last, cache_control: breakpoint };
    return { ...message, content: parts };
  }
  if (message.role === "system" || message.role === "developer" || message.role === "tool") {
    const parts: TextPart[] = typeof message.content === "string" ? [{ type: "text", text: message.content }] : [...message.content];
    parts[parts.length - 1] = { ...parts.at(-1)!, cache_control: breakpoint };
    return { ...message, content: parts } as ChatMessage;
  }
  return message;
}

function planAnthropic(req: ChatRequest, model: string): ChatRequest {
  if (hasBreakpoint(req)) return req; // the client chose its own breakpoints
  const minimum = anthropicMinimumTokens(model);
  const messages = req.messages;
  // The adapter moves system messages in front of the conversation, so their breakpoint is the last system message.
  const lastSystem = messages.findLastIndex((m) => m.role === "system" || m.role === "developer");
  const conversation = messages.map((m, i) => ({ m, i })).filter(({ m }) => m.role !== "system" && m.role !== "developer");
  const systemMessages = messages.filter((m) => m.role === "system" || m.role === "developer");

  const candidates: number[] = [];
  if (lastSystem >= 0) candidates.push(lastSystem);
  // The end of the previous user turn: the last markable message before the final assistant turn.
  const lastAssistant = conversation.findLastIndex(({ m }) => m.role === "assistant");
  if (lastAssistant > 0) {
    const before = conversation.slice(0, lastAssistant).findLast(({ m }) => markable(m));
    if (before) candidates.push(before.i);
  }
  const tail = conversation.findLast(({ m }) => markable(m));
  if (tail) candidates.push(tail.i);

  const chosen = new Set<number>();
  for (const index of candidates) {
    if (chosen.size >= MAX_BREAKPOINTS || !markable(messages[index]!)) continue;
    // Tokens up to and including this message, in the adapter's order: tools, system, then the conversation.
    const isSystem = messages[index]!.role === "system" || messages[index]!.role === "developer";
    const prefix = isSystem
      ? systemMessages
      : [...systemMessages, ...conversation.filter(({ i }) => i <= index).map(({ m }) => m)];
    if (estimatePromptTokens(prefix, req.tools) >= minimum) chosen.add(index);
  }
  if (chosen.size === 0) return req;
  return { ...req, messages: messages.map((m, i) => (chosen.has(i) ? mark(m) : m)) };
}

function planOpenAI(req: ChatRequest): ChatRequest {
  if (req.prompt_cache_key) return req;
  const stable = req.messages.filter((m) => m.role === "system" || m.role === "developer");
  if (estimatePromptTokens(stable, req.tools) < OPENAI_MIN_TOKENS) return req;
  const key = sha256(stableStringify({ tools: req.tools ?? [], system: stable })).slice(0, 32);
  return { ...req, prompt_cache_key: `pc-${key}` };
}
