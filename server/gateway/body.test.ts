import { describe, expect, it } from "vitest";
import { readCappedBody, readJsonBody } from "./body";
import { AppError } from "./errors";

const req = (body: BodyInit | null, headers: Record<string, string> = { "content-type": "application/json" }) =>
  new Request("http://x/api/v1/chat/completions", { method: "POST", body, headers, // @ts-expect-error duplex for streams
    duplex: "half" });

async function codeOf(promise: Promise<unknown>): Promise<[number, string]> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return [error.status, error.code];
    throw error;
  }
  throw new Error("expected a rejection");
}

describe("readJsonBody", () => {
  it("parses JSON", async () => {
    expect(await readJsonBody(req('{"a":1}'), 100)).toEqual({ a: 1 });
    expect(await readJsonBody(req('{"a":1}', { "content-type": "application/json; charset=utf-8" }), 100)).toEqual({ a: 1 });
  });

  it("rejects wrong media types and compressed bodies with 415", async () => {
    expect(await codeOf(readJsonBody(req("a=1", { "content-type": "application/x-www-form-urlencoded" }), 100))).toEqual([415, "unsupported_media_type"]);
    expect(await codeOf(readJsonBody(req("{}", { "content-type": "text/plain" }), 100))).toEqual([415, "unsupported_media_type"]);
    expect(await codeOf(readJsonBody(req("{}", { "content-type": "application/json", "content-encoding": "gzip" }), 100))).toEqual([415, "unsupported_content_encoding"]);
  });

  it("rejects malformed, truncated and empty JSON with 400", async () => {
    expect(await codeOf(readJsonBody(req('{"model": "x", '), 100))).toEqual([400, "invalid_json"]);
    expect(await codeOf(readJsonBody(req("not json"), 100))).toEqual([400, "invalid_json"]);
    expect(await codeOf(readJsonBody(req(""), 100))).toEqual([400, "invalid_json"]);
  });

  it("rejects bodies over the cap by declared length and while streaming, without reading the rest", async () => {
    expect(await codeOf(readJsonBody(req("x".repeat(200), { "content-type": "application/json", "content-length": "200" }), 100))).toEqual([413, "request_too_large"]);
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new Uint8Array(64).fill(32));
      },
    });
    expect(await codeOf(readJsonBody(req(endless), 1000))).toEqual([413, "request_too_large"]);
    expect(pulled).toBeLessThan(40);
  });
});

describe("readCappedBody", () => {
  const capped = () => new AppError(413, "capped", "over");

  it("returns every chunk's bytes in order, and none for a request without a body", async () => {
    const parts = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("ab"));
        controller.enqueue(new TextEncoder().encode("cd"));
        controller.close();
      },
    });
    expect(new TextDecoder().decode(await readCappedBody(req(parts), 4, capped))).toBe("abcd");
    expect((await readCappedBody(new Request("http://x/", { method: "POST" }), 4, capped)).byteLength).toBe(0);
  });

  it("throws the caller's error past the cap, by declared length or by count", async () => {
    expect(await codeOf(readCappedBody(req("x", { "content-length": "5" }), 4, capped))).toEqual([413, "capped"]);
    expect(await codeOf(readCappedBody(req("xxxxx"), 4, capped))).toEqual([413, "capped"]);
  });
});
