/**
 * JSON answers whose encoded bytes the HTTP server can send as they are.
 *
 * `jsonResponse` is `Response.json` (same status, headers and body, `content-type: application/json` unless given)
 * that also remembers the encoded body, so server/http.ts writes it without reading the Response's stream back
 * (`arrayBuffer()` costs ~13 µs per call on the hot path). The Response is an ordinary one: every other consumer
 * (the Next route, idempotency storing a clone, tests) reads its body as usual, and once anyone has read it the
 * remembered bytes are no longer offered.
 */
const encoded = new WeakMap<Response, Uint8Array>();

export function jsonResponse(body: unknown, init: { status?: number; headers?: Record<string, string> } = {}): Response {
  const text = JSON.stringify(body);
  // Response.json refuses what JSON cannot encode (undefined, a function) the same way.
  if (text === undefined) throw new TypeError("Value is not JSON serializable");
  const bytes = Buffer.from(text, "utf8");
  const headers = init.headers ?? {};
  const hasType = Object.keys(headers).some((name) => name.toLowerCase() === "content-type");
  const response = new Response(bytes, {
    ...(init.status !== undefined ? { status: init.status } : {}),
    headers: hasType ? headers : { ...headers, "content-type": "application/json" },
  });
  encoded.set(response, bytes);
  return response;
}

/** The complete body of a `jsonResponse` nobody has read yet; undefined for any other Response. */
export function encodedBody(response: Response): Uint8Array | undefined {
  return response.bodyUsed ? undefined : encoded.get(response);
}
