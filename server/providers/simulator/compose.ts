/**
 * What the simulated model "says": a deterministic function of the request. The reply quotes the last user
 * message, names the model and choice, and obeys directives written into the last user message:
 *
 *   [[sim:tokens=N]]     the reply text is exactly N tokens (o200k_base), before max_tokens/stop are applied
 *   [[sim:reasoning=N]]  a reasoning model spends exactly N reasoning/thinking tokens (default 64)
 *   [[sim:tools=none]]   answer in text even when tools are offered
 *
 * Several directives may share one bracket: [[sim:tokens=50,reasoning=0]].
 */
import { sampleFromSchema } from "./json-sample";
import { encode, textOfTokens, truncateTokens } from "./tokens";

/** Reasoning/thinking tokens a reasoning model spends when nothing else says how many. */
export const DEFAULT_REASONING_TOKENS = 64;

export interface Directives {
  tokens?: number;
  reasoning?: number;
  noTools?: boolean;
}

const DIRECTIVE = /\[\[sim:([^\]]*)\]\]/g;

/** Reads `[[sim:...]]` directives and returns the text without them. */
export function parseDirectives(text: string): { directives: Directives; clean: string } {
  const directives: Directives = {};
  for (const match of text.matchAll(DIRECTIVE)) {
    for (const pair of (match[1] ?? "").split(/[,\s]+/)) {
      const [key, value = ""] = pair.split("=", 2).map((s) => s.trim());
      const n = Number.parseInt(value, 10);
      if (key === "tokens" && Number.isFinite(n) && n >= 0) directives.tokens = n;
      else if (key === "reasoning" && Number.isFinite(n) && n >= 0) directives.reasoning = n;
      else if (key === "tools" && value === "none") directives.noTools = true;
    }
  }
  return { directives, clean: text.replace(DIRECTIVE, " ").replace(/\s+/g, " ").trim() };
}

/** The first words of the user's message, as quoted in replies. */
export function quoteOf(clean: string, maxWords = 12): string {
  const words = clean.split(" ").filter(Boolean);
  if (words.length === 0) return "(nothing)";
  return words.length > maxWords ? `${words.slice(0, maxWords).join(" ")} ...` : words.join(" ");
}

/** The full reply of choice `choice` (0-based) before stop sequences and token limits. */
export function replyText(model: string, quote: string, choice: number, tokens?: number): string {
  const label = choice === 0 ? "Simulated reply" : `Simulated reply ${choice + 1}`;
  const base = `${label} from ${model}: you said "${quote}".`;
  return tokens === undefined ? base : textOfTokens(base, tokens);
}

/** Visible thinking text (Anthropic thinking blocks, Gemini thought summaries) of exactly `tokens` tokens. */
export function thinkingText(quote: string, tokens: number): string {
  return textOfTokens(`Thinking about "${quote}" before answering.`, tokens);
}

export interface TextPlan {
  text: string;
  tokens: number[];
  /** "stop": natural end; "stop_sequence": cut at `stopSequence`; "length": cut at the token limit. */
  finish: "stop" | "stop_sequence" | "length";
  stopSequence: string | null;
}

/** Applies stop sequences (earliest match wins, the match itself is dropped) and then the token limit. */
export function planText(full: string, options: { stop?: readonly string[]; maxTokens?: number } = {}): TextPlan {
  let text = full;
  let finish: TextPlan["finish"] = "stop";
  let stopSequence: string | null = null;
  let cut = Infinity;
  for (const s of options.stop ?? []) {
    if (!s) continue;
    const at = text.indexOf(s);
    if (at >= 0 && at < cut) {
      cut = at;
      stopSequence = s;
    }
  }
  if (stopSequence !== null) {
    text = text.slice(0, cut);
    finish = "stop_sequence";
  }
  const tokens = encode(text);
  if (options.maxTokens !== undefined && tokens.length > options.maxTokens) {
    const kept = truncateTokens(tokens, options.maxTokens);
    return { text: kept.text, tokens: kept.tokens, finish: "length", stopSequence: null };
  }
  return { text, tokens, finish, stopSequence };
}

export interface ToolSpec {
  name: string;
  schema: unknown;
}

export type ToolMode = "auto" | "required" | "none" | { name: string };

export interface ToolCallPlan {
  name: string;
  args: unknown;
  argsJson: string;
}

/**
 * Which tools the simulated model calls. It calls them unless told not to, or unless it has just been given
 * tool results in auto mode (then it answers in text, so agent loops terminate). Several tools are called in
 * parallel when allowed; a named tool_choice calls only that tool.
 */
export function planToolCalls(
  tools: readonly ToolSpec[],
  mode: ToolMode,
  options: { parallel: boolean; afterToolResult: boolean; noTools?: boolean; hint: string },
): ToolCallPlan[] {
  if (tools.length === 0 || mode === "none" || options.noTools) return [];
  if (mode === "auto" && options.afterToolResult) return [];
  let chosen: readonly ToolSpec[];
  if (typeof mode === "object") chosen = tools.filter((t) => t.name === mode.name).slice(0, 1);
  else chosen = options.parallel ? tools : tools.slice(0, 1);
  return chosen.map((tool) => {
    const args = sampleFromSchema(tool.schema ?? { type: "object", properties: {} }, options.hint);
    return { name: tool.name, args, argsJson: JSON.stringify(args) };
  });
}

/** Valid JSON content for JSON mode: a schema sample, or a one-field object when there is no schema. */
export function jsonContent(schema: unknown, reply: string, hint: string): string {
  return JSON.stringify(schema === undefined ? { response: reply } : sampleFromSchema(schema, hint));
}

/** Stable short hash (FNV-1a, 32 bit) for ids, signatures and embedding buckets. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
