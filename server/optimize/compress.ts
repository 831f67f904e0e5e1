/**
 * Prompt compression, per policy (`compression` in lib/policy.ts). Pure: a request in, a smaller request and a
 * report out. Lossless steps first, the lossy one only when configured:
 *
 * 1. whitespace (lossless): line endings (CRLF → LF), BOM and zero-width spaces, trailing spaces and tabs, runs of
 *    spaces inside a line, runs of blank lines (→ one), blank lines at the start and whitespace at the end of a text.
 *    Never touched: fenced code blocks (``` or ~~~) and `<pre>` blocks (verbatim, line endings included), indented
 *    lines (a tab or ≥ 4 spaces: indented code, nested structure — kept verbatim apart from a trailing CR), the
 *    leading indentation of every line, inline code spans and "double-quoted" spans. Tool results, tool-call
 *    arguments and function messages are never changed (their whitespace can be data).
 * 2. dedupe (lossless: every removed text is still in the prompt once): a system/developer message identical to an
 *    earlier one; a message identical to the one just before it (same role, name and content; not a tool call or
 *    tool result); a paragraph of system/developer text (≥ MIN_PARAGRAPH_CHARS, outside code) that repeats an earlier
 *    paragraph of system/developer text. Messages carrying a client's `cache_control` breakpoint are kept.
 * 3. trimHistory (LOSSY, opt-in): when the messages exceed `maxTokens`, whole turns (a user message and everything up
 *    to the next one, so tool calls keep their results) are dropped oldest first. System/developer messages and the
 *    last `keepLastMessages` messages (extended back to the last user message) are kept. A system message — the
 *    marker — is inserted after the leading system messages saying how many messages and tokens were omitted; it
 *    counts against the budget, so trimming twice changes nothing.
 *
 * Tokens are counted with the real tokenizer (o200k_base, server/gateway/tokens.ts) on the messages before and
 * after, plus the tools once; nothing is counted when no step changed anything. Idempotent: compressing a
 * compressed request returns it unchanged.
 */
import type { CompressionPolicy } from "@/lib/policy";
import { estimatePromptTokens, estimateTextTokens } from "../gateway/tokens";
import type { ChatMessage, ChatRequest } from "../providers/types";

/** Shorter paragraphs ("Example:", "---", "Rules:") legitimately repeat and are never removed. */
export const MIN_PARAGRAPH_CHARS = 40;
/** Messages kept at the end of a trimmed conversation by default (extended back to the last user message). */
export const DEFAULT_KEEP_LAST_MESSAGES = 4;
/** Every marker starts with this, so a marker is recognised (and never dropped) on a second pass. */
export const TRIM_MARKER_PREFIX = "[Switchyard trimmed this conversation:";

export type CompressionStep = "whitespace" | "dedupe" | "trim-history";

/** What compression did to one request (recorded in the call log's `route.compression`). */
export interface CompressionReport {
  /** Steps that changed something, in order. */
  steps: CompressionStep[];
  /** Prompt tokens (o200k, messages + tools) before and after; both 0 when nothing changed. */
  tokensBefore: number;
  tokensAfter: number;
  tokensSaved: number;
  /** Of `tokensSaved`, what the lossy step removed (net of its marker); > 0 only with trimHistory. */
  lossyTokensSaved: number;
  /** True when content was dropped (trimHistory ran): the label the call log and the docs use. */
  lossy: boolean;
  removedMessages: number;
  removedParagraphs: number;
  trimmedMessages: number;
}

export interface CompressionResult {
  request: ChatRequest;
  report: CompressionReport;
}

const EMPTY: Omit<CompressionReport, "steps"> = {
  tokensBefore: 0,
  tokensAfter: 0,
  tokensSaved: 0,
  lossyTokensSaved: 0,
  lossy: false,
  removedMessages: 0,
  removedParagraphs: 0,
  trimmedMessages: 0,
};

/** Compresses `request` per `policy` (absent = off: the request is returned as is). */
export function compressRequest(request: ChatRequest, policy: CompressionPolicy | undefined | null): CompressionResult {
  if (!policy) return { request, report: { ...EMPTY, steps: [] } };
  const counter = tokenCounter();
  const steps: CompressionStep[] = [];
  let messages = request.messages;
  let removedMessages = 0;
  let removedParagraphs = 0;
  if (policy.whitespace !== false) {
    const next = messages.map(normalizeMessage);
    if (next.some((m, i) => m !== messages[i])) {
      messages = next;
      steps.push("whitespace");
    }
  }
  if (policy.dedupe !== false) {
    const deduped = dedupeMessages(messages);
    if (deduped.messages !== messages) {
      messages = deduped.messages;
      removedMessages = deduped.removedMessages;
      removedParagraphs = deduped.removedParagraphs;
      steps.push("dedupe");
    }
  }
  let trimmedMessages = 0;
  let lossyTokensSaved = 0;
  if (policy.trimHistory) {
    const trimmed = trimHistory(messages, policy.trimHistory.maxTokens, policy.trimHistory.keepLastMessages ?? DEFAULT_KEEP_LAST_MESSAGES, counter);
    if (trimmed.messages !== messages) {
      messages = trimmed.messages;
      trimmedMessages = trimmed.dropped;
      lossyTokensSaved = trimmed.tokensSaved;
      steps.push("trim-history");
    }
  }
  if (steps.length === 0) return { request, report: { ...EMPTY, steps } };
  const tools = request.tools && request.tools.length > 0 ? estimateTextTokens(JSON.stringify(request.tools)) : 0;
  const tokensBefore = counter.all(request.messages) + tools;
  const tokensAfter = counter.all(messages) + tools;
  // Tokenizers are not monotonic in whitespace: a rewrite that does not pay for itself is not sent.
  if (tokensAfter >= tokensBefore) return { request, report: { ...EMPTY, steps: [] } };
  return {
    request: { ...request, messages },
    report: {
      steps,
      tokensBefore,
      tokensAfter,
      tokensSaved: tokensBefore - tokensAfter,
      lossyTokensSaved,
      lossy: trimmedMessages > 0,
      removedMessages,
      removedParagraphs,
      trimmedMessages,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Token counting: per message, remembered by identity (unchanged messages keep their object, so each distinct
// message is tokenized once per request).

interface TokenCounter {
  /** One message with its chat framing. */
  one(message: ChatMessage): number;
  /** A message list with the request framing (what estimatePromptTokens counts, without tools). */
  all(messages: readonly ChatMessage[]): number;
}

const PER_REQUEST = estimatePromptTokens([]);

function tokenCounter(): TokenCounter {
  const seen = new Map<ChatMessage, number>();
  const one = (message: ChatMessage) => {
    let n = seen.get(message);
    if (n === undefined) {
      n = estimatePromptTokens([message]) - PER_REQUEST;
      seen.set(message, n);
    }
    return n;
  };
  return { one, all: (messages) => messages.reduce((sum, m) => sum + one(m), PER_REQUEST) };
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Whitespace

/** Roles whose text is prose we may normalize; tool results and function messages can be data. */
const PROSE_ROLES = new Set(["system", "developer", "user", "assistant"]);

function normalizeMessage(message: ChatMessage): ChatMessage {
  if (!PROSE_ROLES.has(message.role)) return message;
  const content = (message as { content?: unknown }).content;
  if (typeof content === "string") {
    const text = normalizeText(content);
    return text === content ? message : ({ ...message, content: text } as ChatMessage);
  }
  if (!Array.isArray(content)) return message;
  let changed = false;
  const parts = content.map((part: { type: string; text?: string }) => {
    if (part.type !== "text" || typeof part.text !== "string") return part;
    const text = normalizeText(part.text);
    if (text === part.text) return part;
    changed = true;
    return { ...part, text };
  });
  return changed ? ({ ...message, content: parts } as ChatMessage) : message;
}

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})/;
const PRE_OPEN = /<pre[\s>]/i;
const PRE_CLOSE = /<\/pre>/i;
const INDENTED = /^(?: {4}|\t)/;
/** Inline code spans and double-quoted spans, whose inner spacing is kept. */
const PROTECTED_SPAN = /(`+)[^`]*?\1|"[^"\n]*"|“[^”\n]*”/g;

/** Splits a text into lines, each marked as verbatim (code, pre) or not. */
function classifyLines(text: string): Array<{ line: string; verbatim: boolean }> {
  const out: Array<{ line: string; verbatim: boolean }> = [];
  let fence: { char: string; length: number } | null = null;
  let pre = false;
  for (const line of text.split("\n")) {
    if (fence) {
      out.push({ line, verbatim: true });
      const close = /^ {0,3}(`{3,}|~{3,})\s*\r?$/.exec(line);
      if (close && close[1]![0] === fence.char && close[1]!.length >= fence.length) fence = null;
      continue;
    }
    if (pre) {
      out.push({ line, verbatim: true });
      if (PRE_CLOSE.test(line)) pre = false;
      continue;
    }
    // Opening lines are recognized as they will read once normalized (without BOM and zero-width spaces): a line
    // that only becomes a fence after cleaning would change how the next pass reads the text.
    const probe = line.replace(/[\uFEFF\u200B]/g, "");
    const open = FENCE_OPEN.exec(probe);
    if (open) {
      fence = { char: open[1]![0]!, length: open[1]!.length };
      out.push({ line, verbatim: true });
      continue;
    }
    const preAt = probe.search(PRE_OPEN);
    if (preAt >= 0) {
      pre = !PRE_CLOSE.test(probe.slice(preAt));
      out.push({ line, verbatim: true });
      continue;
    }
    out.push({ line, verbatim: false });
  }
  return out;
}

function collapseInner(body: string): string {
  let out = "";
  let last = 0;
  for (const match of body.matchAll(PROTECTED_SPAN)) {
    out += body.slice(last, match.index).replace(/[ \t]{2,}/g, " ") + match[0];
    last = match.index + match[0].length;
  }
  return out + body.slice(last).replace(/[ \t]{2,}/g, " ");
}

/** One text, normalized (see the module comment). Idempotent. */
export function normalizeText(text: string): string {
  const lines = classifyLines(text);
  const out: string[] = [];
  let blank = false;
  for (const { line, verbatim } of lines) {
    if (verbatim) {
      out.push(line);
      blank = false;
      continue;
    }
    const clean = line.replace(/\r$/, "").replace(/[\uFEFF\u200B]/g, "");
    if (/^[ \t\r]*$/.test(clean)) {
      // Runs of blank lines become one; blank lines at the start go.
      if (!blank && out.length > 0) out.push("");
      blank = true;
      continue;
    }
    blank = false;
    if (INDENTED.test(clean)) {
      out.push(clean);
      continue;
    }
    const indent = /^[ \t]*/.exec(clean)![0];
    out.push(indent + collapseInner(clean.slice(indent.length).replace(/[ \t]+$/, "")));
  }
  // Whitespace at the end goes (blank lines, and trailing spaces of a last verbatim line unless a block is open).
  while (out.length > 0 && out[out.length - 1] === "" && !lines.at(-1)?.verbatim) out.pop();
  const last = lines.at(-1);
  if (out.length > 0 && last && !last.verbatim) out[out.length - 1] = out[out.length - 1]!.replace(/\s+$/, "");
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Duplicates

const SYSTEM_ROLES = new Set(["system", "developer"]);

function hasBreakpoint(message: ChatMessage): boolean {
  const content = (message as { content?: unknown }).content;
  return Array.isArray(content) && content.some((part) => typeof part === "object" && part !== null && "cache_control" in part);
}

function sameMessage(a: ChatMessage, b: ChatMessage): boolean {
  return a.role === b.role && JSON.stringify(a) === JSON.stringify(b);
}

function isToolTraffic(message: ChatMessage): boolean {
  return message.role === "tool" || message.role === "function" || (message.role === "assistant" && (message.tool_calls?.length ?? 0) > 0);
}

interface Deduped {
  messages: ChatMessage[];
  removedMessages: number;
  removedParagraphs: number;
}

/**
 * Rounds of `dedupeRound` until nothing changes: removing repeated paragraphs can leave a message identical to an
 * earlier one, and removing a message can make two neighbours identical. Every round that changes something removes
 * text, so it ends. The input array comes back when nothing was removed.
 */
function dedupeMessages(messages: ChatMessage[]): Deduped {
  let removedMessages = 0;
  let removedParagraphs = 0;
  for (;;) {
    const round = dedupeRound(messages);
    if (round.messages === messages) return { messages, removedMessages, removedParagraphs };
    messages = round.messages;
    removedMessages += round.removedMessages;
    removedParagraphs += round.removedParagraphs;
  }
}

function dedupeRound(messages: ChatMessage[]): Deduped {
  const kept: ChatMessage[] = [];
  const systemSeen = new Set<string>();
  let removedMessages = 0;
  for (const message of messages) {
    const previous = kept.at(-1);
    const key = JSON.stringify(message);
    const duplicateSystem = SYSTEM_ROLES.has(message.role) && systemSeen.has(key);
    const duplicateAdjacent = previous !== undefined && !isToolTraffic(message) && sameMessage(previous, message);
    if ((duplicateSystem || duplicateAdjacent) && !hasBreakpoint(message)) {
      removedMessages += 1;
      continue;
    }
    if (SYSTEM_ROLES.has(message.role)) systemSeen.add(key);
    kept.push(message);
  }
  // Repeated paragraphs of system/developer text (across all of it, first occurrence kept).
  const paragraphs = new Set<string>();
  let removedParagraphs = 0;
  const out = kept.map((message) => {
    if (!SYSTEM_ROLES.has(message.role) || hasBreakpoint(message)) return message;
    const content = (message as { content: unknown }).content;
    if (typeof content === "string") {
      const { text, removed } = dedupeParagraphs(content, paragraphs);
      removedParagraphs += removed;
      return removed > 0 ? ({ ...message, content: text } as ChatMessage) : message;
    }
    if (!Array.isArray(content)) return message;
    let changed = false;
    const parts = content.map((part: { type: string; text?: string }) => {
      if (part.type !== "text" || typeof part.text !== "string") return part;
      const { text, removed } = dedupeParagraphs(part.text, paragraphs);
      if (removed === 0) return part;
      removedParagraphs += removed;
      changed = true;
      return { ...part, text };
    });
    return changed ? ({ ...message, content: parts } as ChatMessage) : message;
  });
  // A system message whose every paragraph was a repeat is now empty: it goes too.
  const final = out.filter((m, i) => {
    const empty = out[i] !== kept[i] && SYSTEM_ROLES.has(m.role) && messageIsEmpty(m);
    if (empty) removedMessages += 1;
    return !empty;
  });
  if (removedMessages === 0 && removedParagraphs === 0) return { messages, removedMessages, removedParagraphs };
  return { messages: final, removedMessages, removedParagraphs };
}

function messageIsEmpty(message: ChatMessage): boolean {
  const content = (message as { content?: unknown }).content;
  if (typeof content === "string") return content.trim() === "";
  return Array.isArray(content) && content.every((part: { type: string; text?: string }) => part.type === "text" && (part.text ?? "").trim() === "");
}

/**
 * Removes paragraphs (blocks separated by blank lines outside code) already in `seen`; adds the others. Code blocks
 * are never removed and never remembered.
 */
function dedupeParagraphs(text: string, seen: Set<string>): { text: string; removed: number } {
  const lines = classifyLines(text);
  const blocks: Array<{ lines: string[]; code: boolean }> = [];
  let current: { lines: string[]; code: boolean } | null = null;
  for (const { line, verbatim } of lines) {
    if (!verbatim && line.trim() === "") {
      current = null;
      blocks.push({ lines: [line], code: true }); // separators are kept as they are
      continue;
    }
    if (!current) {
      current = { lines: [], code: false };
      blocks.push(current);
    }
    current.lines.push(line);
    if (verbatim) current.code = true;
  }
  let removed = 0;
  const kept: Array<{ lines: string[]; code: boolean; separator: boolean }> = [];
  for (const block of blocks) {
    const separator = block.code && block.lines.length === 1 && block.lines[0]!.trim() === "";
    if (!block.code && !separator) {
      const key = block.lines.map((l) => l.trim()).join("\n");
      if (key.length >= MIN_PARAGRAPH_CHARS) {
        if (seen.has(key)) {
          removed += 1;
          continue;
        }
        seen.add(key);
      }
    }
    kept.push({ ...block, separator });
  }
  if (removed === 0) return { text, removed };
  // Drop separators left doubled, leading or trailing by the removals.
  const joined: string[] = [];
  let pendingSeparator: string | null = null;
  for (const block of kept) {
    if (block.separator) {
      if (joined.length > 0) pendingSeparator ??= block.lines[0]!;
      continue;
    }
    if (pendingSeparator !== null) joined.push(pendingSeparator);
    pendingSeparator = null;
    joined.push(...block.lines);
  }
  return { text: joined.join("\n"), removed };
}

// ---------------------------------------------------------------------------------------------------------------
// 3. History trimming (lossy)

/** The marker's text. */
export function trimMarker(messages: number, tokens: number): string {
  return `${TRIM_MARKER_PREFIX} ${messages} earlier message${messages === 1 ? "" : "s"} (${tokens} tokens) omitted to fit the history budget. Answer from the messages that follow.]`;
}

function isMarker(message: ChatMessage): boolean {
  return message.role === "system" && typeof message.content === "string" && message.content.startsWith(TRIM_MARKER_PREFIX);
}

function trimHistory(
  messages: ChatMessage[],
  maxTokens: number,
  keepLast: number,
  counter: TokenCounter,
): { messages: ChatMessage[]; dropped: number; tokensSaved: number } {
  const unchanged = { messages, dropped: 0, tokensSaved: 0 };
  // A token is at least one UTF-8 byte: a prompt this small needs no tokenizer pass.
  // (The JSON's keys and quotes outweigh the chat framing of 3 tokens per message.)
  if (Buffer.byteLength(JSON.stringify(messages)) <= maxTokens) return unchanged;
  let total = counter.all(messages);
  if (total <= maxTokens) return unchanged;
  // The protected tail: the last `keepLast` messages, extended back to the last user message.
  let tailStart = Math.max(0, messages.length - keepLast);
  const lastUser = messages.findLastIndex((m) => m.role === "user");
  if (lastUser >= 0 && lastUser < tailStart) tailStart = lastUser;
  // Units before the tail: a turn starts at each user message; system messages are never in a unit.
  const units: number[][] = [];
  for (let i = 0; i < tailStart; i++) {
    const m = messages[i]!;
    if (SYSTEM_ROLES.has(m.role)) continue;
    if (m.role === "user" || units.length === 0) units.push([]);
    units.at(-1)!.push(i);
  }
  // A unit that runs into the tail (a turn whose tool results are in it) cannot go without breaking the pairing.
  const firstTail = messages[tailStart];
  if (units.length > 0 && firstTail && firstTail.role !== "user" && !SYSTEM_ROLES.has(firstTail.role)) units.pop();
  const drop = new Set<number>();
  let droppedTokens = 0;
  const markerTokens = () => (drop.size > 0 ? counter.one({ role: "system", content: trimMarker(drop.size, droppedTokens) }) : 0);
  for (const unit of units) {
    if (total - droppedTokens + markerTokens() <= maxTokens) break;
    for (const i of unit) {
      drop.add(i);
      droppedTokens += counter.one(messages[i]!);
    }
  }
  if (drop.size === 0) return unchanged;
  const marker: ChatMessage = { role: "system", content: trimMarker(drop.size, droppedTokens) };
  const out: ChatMessage[] = [];
  let inserted = false;
  messages.forEach((m, i) => {
    if (!inserted && !SYSTEM_ROLES.has(m.role) && !isMarker(m)) {
      out.push(marker);
      inserted = true;
    }
    if (!drop.has(i)) out.push(m);
  });
  if (!inserted) out.push(marker);
  return { messages: out, dropped: drop.size, tokensSaved: droppedTokens - counter.one(marker) };
}
