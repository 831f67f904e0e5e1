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
  const declared = request.headers.get("content-length");
  // Unread bodies are not cancelled here: cancelling destroys the socket before the error response is sent.
  // The HTTP server discards what is left (bounded) and closes the connection after answering.
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) throw new AppError(400, "invalid_json", "The request body is empty; expected a JSON object");

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      reader.releaseLock();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  if (size === 0) throw new AppError(400, "invalid_json", "The request body is empty; expected a JSON object");
  const text = utf8.decode(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError(400, "invalid_json", `The request body is not valid JSON: ${(error as Error).message}`);
  }
}

function tooLarge(maxBytes: number): AppError {
  return new AppError(413, "request_too_large", `The request body exceeds the limit of ${maxBytes} bytes`);
}
