/**
 * Token estimates for when an upstream reports no usage (stream cut, client gone): a real tokenizer
 * (gpt-tokenizer, o200k_base) over the text that was sent and delivered. Rows costed this way are marked `estimated`.
 */
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import type { ChatMessage } from "../providers/types";

/** Per-message framing overhead of chat formats (role markers), as OpenAI documents for its models. */
const PER_MESSAGE = 3;
const PER_REQUEST = 3;

export function estimateTextTokens(text: string): number {
  return text ? countTokens(text) : 0;
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
