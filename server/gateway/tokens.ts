/**
 * Token estimates for when an upstream reports no usage (stream cut, client gone): a real tokenizer
 * (gpt-tokenizer, o200k_base) over the text that was sent and delivered. Rows costed this way are marked `estimated`.
 */
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import type { ChatMessage } from "../providers/types";

/** Per-message framing overhead of chat formats (role markers), as OpenAI documents for its models. */
const PER_MESSAGE = 3;
const PER_REQUEST = 3;

/**
 * One call counts the same long text several times (admission, the planner's profile, prefix affinity, the
 * prompt-cache planner on each attempt), and consecutive calls share system prompts: long texts' counts are kept
 * in a small LRU bounded by total characters.
 */
const MEMO_MIN_CHARS = 512;
const MEMO_MAX_CHARS = 4_000_000;
const memo = new Map<string, number>();
let memoChars = 0;

export function estimateTextTokens(text: string): number {
  if (!text) return 0;
  if (text.length < MEMO_MIN_CHARS) return countTokens(text);
  const known = memo.get(text);
  if (known !== undefined) {
    memo.delete(text);
    memo.set(text, known);
    return known;
  }
  const count = countTokens(text);
  if (text.length <= MEMO_MAX_CHARS / 8) {
    memo.set(text, count);
    memoChars += text.length;
    for (const oldest of memo.keys()) {
      if (memoChars <= MEMO_MAX_CHARS) break;
      memo.delete(oldest);
      memoChars -= oldest.length;
    }
  }
  return count;
}

export function estimatePromptTokens(messages: ChatMessage[], tools?: unknown[]): number {
  let total = PER_REQUEST;
  for (const message of messages) {
    total += PER_MESSAGE;
    const content = (message as { content?: unknown }).content;
    if (typeof content === "string") total += estimateTextTokens(content);
    else if (Array.isArray(content)) {
      for (const part of content as Array<{ type: string; text?: string }>) {
        if (part.type === "text" && part.text) total += estimateTextTokens(part.text);
        else if (part.type === "image_url") total += 85; // a low-detail image tile, the floor OpenAI bills
      }
    }
    const calls = (message as { tool_calls?: unknown[] }).tool_calls;
    if (calls) total += estimateTextTokens(JSON.stringify(calls));
  }
  if (tools && tools.length > 0) total += estimateTextTokens(JSON.stringify(tools));
  return total;
}
