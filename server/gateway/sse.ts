/** Server-sent events: decoding upstream streams (eventsource-parser) and encoding ours. */
import { createParser } from "eventsource-parser";
import type { SseEvent } from "../providers/adapter";

const encoder = new TextEncoder();

/** Reads SSE events from an upstream body, one at a time; comment lines and keep-alives never reach the caller. */
export interface SseReader {
  /** The next event, or null at the end of the stream. Errors of the body (timeouts, resets) propagate. */
  next(): Promise<SseEvent | null>;
  cancel(): Promise<void>;
}

export function readSse(body: ReadableStream<Uint8Array>): SseReader {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const queue: SseEvent[] = [];
  const parser = createParser({
    onEvent: (message) => queue.push(message.event ? { event: message.event, data: message.data } : { data: message.data }),
  });
  let ended = false;
  return {
    async next() {
      while (queue.length === 0) {
        if (ended) return null;
        const { done, value } = await reader.read();
        if (done) {
          parser.feed(decoder.decode() + "\n\n"); // dispatch an event the upstream did not terminate
          ended = true;
        } else {
          parser.feed(decoder.decode(value, { stream: true }));
        }
      }
      return queue.shift()!;
    },
    cancel: () => reader.cancel().catch(() => {}),
  };
}

export function sseData(value: unknown): Uint8Array {
  return encoder.encode(`data: ${typeof value === "string" ? value : JSON.stringify(value)}\n\n`);
}

export function sseEvent(event: string, value: unknown): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(value)}\n\n`);
}

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
} as const;
