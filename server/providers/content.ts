/** Message-content helpers shared by the translating adapters (Anthropic, Gemini). */
import { AppError } from "../gateway/errors";
import type { ChatMessage, RefusalPart, TextPart, ToolCall } from "./types";

export interface DataUrl {
  mediaType: string;
  data: string;
}

/** Parses `data:<mime>;base64,<data>`; answers null for anything else (plain URLs). */
export function parseDataUrl(url: string): DataUrl | null {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (!match) return null;
  return { mediaType: (match[1] ?? "").toLowerCase(), data: match[2] ?? "" };
}

export function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/** The text of a string-or-parts content (refusal parts included as text; they are prior model output). */
export function contentText(content: string | Array<TextPart | RefusalPart> | null | undefined): string {
  if (content === null || content === undefined) return "";
  if (typeof content === "string") return content;
  return content.map((part) => (part.type === "text" ? part.text : part.refusal)).join("");
}

/** Parses tool-call arguments the client sent back; translated protocols need them as objects. */
export function parseToolArguments(call: ToolCall, param: string): Record<string, unknown> {
  const raw = call.function.arguments.trim() === "" ? "{}" : call.function.arguments;
  let value: unknown;
  try {
    value = JSON.parse(raw) as unknown;
  } catch {
    throw new AppError(400, "invalid_tool_arguments", `${param} must be a JSON object (it is not valid JSON)`, { param });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AppError(400, "invalid_tool_arguments", `${param} must be a JSON object`, { param });
  }
  return value as Record<string, unknown>;
}

/** Finds the function name of the tool call a `tool` message answers (the nearest earlier assistant turn). */
export function toolNameFor(messages: ChatMessage[], index: number, toolCallId: string): string {
  for (let i = index - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role !== "assistant") continue;
    const call = message.tool_calls?.find((c) => c.id === toolCallId);
    if (call) return call.function.name;
  }
  throw new AppError(
    400,
    "invalid_tool_call_id",
    `messages[${index}].tool_call_id '${toolCallId}' does not match a tool call of an earlier assistant message`,
    { param: `messages[${index}].tool_call_id` },
  );
}

