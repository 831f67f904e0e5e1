/**
 * Token arithmetic for the simulator: every count it reports comes from the o200k_base encoding, so a test can
 * recompute any number the simulator returns with gpt-tokenizer.
 */
import { decoder as sharedDecoder } from "gpt-tokenizer/BytePairEncodingCore";
import { decode as decodeRaw, decodeGenerator, encode as encodeRaw } from "gpt-tokenizer/encoding/o200k_base";

// Prompts are untrusted text: "<|endoftext|>" typed by a user is ordinary characters, not a special token
// (the tokenizer would throw otherwise).
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

export function encode(text: string): number[] {
  return encodeRaw(text, PLAIN_TEXT);
}

export function countTokens(text: string): number {
  return text.length === 0 ? 0 : encode(text).length;
}

// gpt-tokenizer decodes through one module-level streaming TextDecoder that it never flushes: the bytes of a
// character cut at a token boundary would surface at the start of the next decode, anywhere in the process.
// Every decode here flushes before (dropping what others left) and after (a cut character becomes U+FFFD).
function flush(): string {
  return sharedDecoder.decode();
}

export function decode(tokens: readonly number[]): string {
  flush();
  return decodeRaw(tokens) + flush();
}

/** A run of tokens that decodes to whole characters: the unit of one stream chunk. */
export interface TokenPiece {
  text: string;
  tokens: number[];
}

/**
 * Splits tokens into stream pieces. Usually one token per piece; a character spread over several tokens
 * (rare scripts, emoji) stays in one piece so no chunk carries half a UTF-8 sequence.
 */
export function tokenPieces(tokens: readonly number[]): TokenPiece[] {
  flush();
  const pieces: TokenPiece[] = [];
  let consumed = 0;
  let start = 0;
  function* counted() {
    for (const token of tokens) {
      consumed += 1;
      yield token;
    }
  }
  for (const text of decodeGenerator(counted())) {
    pieces.push({ text, tokens: tokens.slice(start, consumed) });
    start = consumed;
  }
  const rest = flush();
  if (start < tokens.length || rest) {
    const tail = { text: rest, tokens: tokens.slice(start) };
    const last = pieces.at(-1);
    if (last) {
      last.text += tail.text;
      last.tokens = [...last.tokens, ...tail.tokens];
    } else pieces.push(tail);
  }
  return pieces;
}

/** Splits text into stream pieces (see tokenPieces). */
export function textPieces(text: string): TokenPiece[] {
  return tokenPieces(encode(text));
}

// Single-token words (with their leading space) that never merge with a neighbour: padding built from them
// has exactly as many tokens as words.
const FILLER = [" the", " model", " reply", " is", " a", " test", " of", " token", " data", " and", " stream", " for"];

function filler(count: number): string {
  let out = "";
  for (let i = 0; i < count; i += 1) out += FILLER[i % FILLER.length];
  return out;
}

/**
 * Text of exactly `count` tokens: `base` padded with filler words, or the start of `base` when it is longer.
 * A cut start can re-encode to a different count (merges across the cut), so it is checked and replaced by
 * filler alone in that case.
 */
export function textOfTokens(base: string, count: number): string {
  if (count <= 0) return "";
  const tokens = encode(base);
  if (tokens.length <= count) return base + filler(count - tokens.length);
  const head = decode(tokens.slice(0, count));
  return countTokens(head) === count && !head.includes("\uFFFD") ? head : filler(count).trimStart();
}

/** Keeps the first `max` tokens of `tokens` (decoded), reporting whether anything was cut. */
export function truncateTokens(tokens: readonly number[], max: number): { text: string; tokens: number[]; truncated: boolean } {
  if (tokens.length <= max) return { text: decode(tokens), tokens: [...tokens], truncated: false };
  const kept = tokens.slice(0, Math.max(0, max));
  return { text: decode(kept), tokens: kept, truncated: true };
}
