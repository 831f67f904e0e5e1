/**
 * Reads a request body as JSON under a byte cap, before anything else is done with the request:
 * wrong media type → 415, compressed bodies → 415 (no inflating untrusted input), over the cap → 413 without
 * buffering past it (declared Content-Length or counted while streaming), malformed JSON → 400.
 */
import { AppError } from "./errors";

/** Shared: a non-streaming decode keeps no state between calls (and, like before, drops a leading BOM). */
const utf8 = new TextDecoder("utf-8", { fatal: false });

export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const type = (request.headers.get("content-type") ?? "").split(";", 1)[0]!.trim().toLowerCase();
  if (type !== "application/json" && !type.endsWith("+json")) {
    throw new AppError(415, "unsupported_media_type", `Content-Type must be application/json (got ${type || "none"})`);
  }
  const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "") {
    throw new AppError(415, "unsupported_content_encoding", `Content-Encoding ${encoding} is not accepted; send the body uncompressed`);
  }
  const bytes = await readCappedBody(request, maxBytes, () => tooLarge(maxBytes));
  if (bytes.byteLength === 0) throw new AppError(400, "invalid_json", "The request body is empty; expected a JSON object");
  const text = utf8.decode(bytes);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError(400, "invalid_json", `The request body is not valid JSON: ${(error as Error).message}`);
  }
}

function tooLarge(maxBytes: number): AppError {
  return new AppError(413, "request_too_large", `The request body exceeds the limit of ${maxBytes} bytes`);
}

/**
 * The body's bytes (empty when there is none), never buffering more than `maxBytes`: a declared Content-Length
 * over the cap, or the count passing it while streaming, throws `tooLarge()` without reading further.
 */
export async function readCappedBody(request: Request, maxBytes: number, tooLarge: () => Error): Promise<Uint8Array<ArrayBuffer>> {
  // Unread bodies are not cancelled here: cancelling destroys the socket before the error response is sent.
  // The HTTP server discards what is left (bounded) and closes the connection after answering.
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      reader.releaseLock();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}
