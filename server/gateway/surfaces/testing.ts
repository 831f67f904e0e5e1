/** Test helpers shared by the surface tests (not used by production code). */
import { createServer } from "node:http";
import type { ChatChunk, ChatUsage, ChunkDelta, FinishReason } from "../../providers/types";
import { SSE_HEADERS } from "../sse";

export interface ParsedFrame {
  event: string;
  data: Record<string, unknown>;
}

/** Splits encoder output (`event: x\ndata: {...}\n\n` frames) back into events, failing on anything malformed. */
export function parseFrames(frames: string | string[]): ParsedFrame[] {
  const text = Array.isArray(frames) ? frames.join("") : frames;
  if (text === "") return [];
  if (!text.endsWith("\n\n")) throw new Error(`frames must end with a blank line: ${JSON.stringify(text.slice(-40))}`);
  return text
    .slice(0, -2)
    .split("\n\n")
    .map((frame) => {
      const match = /^event: ([^\n]+)\ndata: ([^\n]+)$/.exec(frame);
      if (!match) throw new Error(`malformed frame: ${JSON.stringify(frame)}`);
      return { event: match[1]!, data: JSON.parse(match[2]!) as Record<string, unknown> };
    });
}

/** Builds canonical stream chunks the way the upstream stream parsers emit them. */
export function chunkFactory(id = "chatcmpl-test") {
  const base = { id, object: "chat.completion.chunk" as const, created: 1_700_000_000, model: "upstream-model" };
  return {
    delta: (delta: ChunkDelta, finish: FinishReason | null = null): ChatChunk => ({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] }),
    usage: (usage: ChatUsage): ChatChunk => ({ ...base, choices: [], usage }),
  };
}

/** What a scripted test endpoint answers: a JSON body, or SSE frames written one by one. */
export type ScriptedReply = { status: number; json: unknown } | { frames: string[] };

export interface ScriptedServer {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  close(): Promise<void>;
}

/**
 * A real HTTP server on a random port whose POST handler gets the parsed JSON body and the path; used to put the
 * surface translators behind the official SDKs. Frames are written separately so clients see a genuine stream.
 */
export async function startScriptedServer(handle: (path: string, body: unknown) => Promise<ScriptedReply>): Promise<ScriptedServer> {
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (part: Buffer) => parts.push(part));
    req.on("end", () => {
      void (async () => {
        const reply = await handle(req.url ?? "/", JSON.parse(Buffer.concat(parts).toString("utf8")) as unknown);
        if ("json" in reply) {
          res.writeHead(reply.status, { "content-type": "application/json" }).end(JSON.stringify(reply.json));
          return;
        }
        res.writeHead(200, SSE_HEADERS);
        for (const frame of reply.frames) {
          res.write(frame);
          await new Promise((resolve) => setImmediate(resolve));
        }
        res.end();
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("server has no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Clients keep connections alive; without this, close waits for their idle timeout.
        server.closeAllConnections();
      }),
  };
}
