/**
 * What routing needs to know about a request, derived once from its canonical form (pure): the capabilities it
 * needs (tools, image parts, a JSON schema, reasoning, streaming), its prompt size with the real tokenizer, the
 * output it asks for, and its text for conditions and the difficulty classifier. Token counting is lazy: a direct
 * model request without constraints never pays for it.
 */
import type { Requirement } from "@/lib/policy";
import { estimatePromptTokens } from "../gateway/tokens";
import type { ChatMessage, ChatRequest } from "../providers/types";

export interface RequestProfile {
  /** Prompt tokens (o200k_base, with chat framing), counted on first read. */
  readonly promptTokens: number;
  /**
   * A cheap bound that is never below `promptTokens` (a token is at least one UTF-8 byte): a prompt whose bound
   * fits a context window needs no tokenizer pass to know it fits.
   */
  readonly promptTokensAtMost: number;
  /** The output cap the request sets (max_completion_tokens, else max_tokens), null when it sets none. */
  readonly maxOutputTokens: number | null;
  /** Capabilities the request itself needs. */
  readonly needs: ReadonlySet<Requirement>;
  readonly stream: boolean;
  /** The text of the last user message (what conditions and the classifier look at). */
  readonly lastUserText: string;
  /** Every message's text, system prompt included. */
  readonly allText: string;
}

export function profileRequest(request: ChatRequest): RequestProfile {
  let tokens: number | null = null;
  let bound: number | null = null;
  let all: string | null = null;
  const needs = new Set<Requirement>();
  if ((request.tools?.length ?? 0) > 0 || (request.functions?.length ?? 0) > 0) needs.add("tools");
  if (request.messages.some(hasImage)) needs.add("vision");
  if (request.response_format?.type === "json_schema") needs.add("json_schema");
  else if (request.response_format?.type === "json_object") needs.add("json");
  if (request.reasoning_effort && request.reasoning_effort !== "none") needs.add("reasoning");
  if (request.stream === true) needs.add("streaming");
  const lastUser = [...request.messages].reverse().find((m) => m.role === "user");
  return {
    get promptTokens() {
      tokens ??= estimatePromptTokens(request.messages, request.tools);
      return tokens;
    },
    get promptTokensAtMost() {
      bound ??= tokens ?? promptBytes(request);
      return bound;
    },
    maxOutputTokens: request.max_completion_tokens ?? request.max_tokens ?? null,
    needs,
    stream: request.stream === true,
    lastUserText: lastUser ? messageText(lastUser) : "",
    get allText() {
      all ??= request.messages.map(messageText).join("\n");
      return all;
    },
  };
}

/** UTF-8 bytes of everything the tokenizer would count, plus its fixed costs (framing, images). */
function promptBytes(request: ChatRequest): number {
  let total = 3 + 3 * request.messages.length;
  for (const message of request.messages) {
    const content = message.content;
    if (typeof content === "string") total += Buffer.byteLength(content);
    else if (Array.isArray(content)) {
      for (const part of content) total += part.type === "text" ? Buffer.byteLength(part.text) : part.type === "image_url" ? 85 : 0;
    }
    const calls = (message as { tool_calls?: unknown[] }).tool_calls;
    if (calls) total += Buffer.byteLength(JSON.stringify(calls));
  }
  if (request.tools && request.tools.length > 0) total += Buffer.byteLength(JSON.stringify(request.tools));
  return total;
}

function hasImage(message: ChatMessage): boolean {
  return message.role === "user" && Array.isArray(message.content) && message.content.some((part) => part.type === "image_url");
}

/** The text parts of a message (images, audio and files contribute nothing). */
export function messageText(message: ChatMessage): string {
  const content = message.content;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => (part.type === "text" ? part.text : "")).filter(Boolean).join("\n");
}
