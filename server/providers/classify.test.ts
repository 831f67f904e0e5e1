import { describe, expect, it } from "vitest";
import { classifyHttpError, parseDurationMs, retryAfterFromHeaders } from "./classify";
import { UpstreamError } from "./types";

const headers = (h: Record<string, string>) => new Headers(h);

describe("retry-after", () => {
  const now = Date.parse("2026-11-20T10:00:00Z");

  it("reads milliseconds, seconds and HTTP dates, preferring milliseconds", () => {
    expect(retryAfterFromHeaders(headers({ "retry-after-ms": "1500", "retry-after": "9" }), now)).toBe(1500);
    expect(retryAfterFromHeaders(headers({ "retry-after": "2.5" }), now)).toBe(2500);
    expect(retryAfterFromHeaders(headers({ "retry-after": "Fri, 20 Nov 2026 10:00:30 GMT" }), now)).toBe(30_000);
    expect(retryAfterFromHeaders(headers({ "retry-after": "Fri, 20 Nov 2026 09:59:00 GMT" }), now)).toBe(0);
  });

  it("ignores absent and unparseable values", () => {
    expect(retryAfterFromHeaders(headers({}), now)).toBeUndefined();
    expect(retryAfterFromHeaders(headers({ "retry-after": "soon" }), now)).toBeUndefined();
    expect(retryAfterFromHeaders(headers({ "retry-after": "-3" }), now)).toBeUndefined();
    expect(retryAfterFromHeaders(headers({ "retry-after-ms": "x", "retry-after": "1" }), now)).toBe(1000);
  });

  it("parses protobuf durations", () => {
    expect(parseDurationMs("37s")).toBe(37_000);
    expect(parseDurationMs("0.25s")).toBe(250);
    expect(parseDurationMs("37")).toBeUndefined();
    expect(parseDurationMs(37)).toBeUndefined();
  });
});

describe("classifyHttpError", () => {
  const classify = (status: number, message = "", codes: string[] = []) => classifyHttpError(status, { message, codes }, new Headers());

  it("maps statuses to kinds", () => {
    expect(classify(401).kind).toBe("auth");
    expect(classify(402).kind).toBe("auth");
    expect(classify(403).kind).toBe("auth");
    expect(classify(404).kind).toBe("not_found");
    expect(classify(408).kind).toBe("timeout");
    expect(classify(422).kind).toBe("bad_request");
    expect(classify(429).kind).toBe("rate_limited");
    expect(classify(500).kind).toBe("server_error");
    expect(classify(502).kind).toBe("server_error");
    expect(classify(503).kind).toBe("overloaded");
    expect(classify(504).kind).toBe("timeout");
    expect(classify(529).kind).toBe("overloaded");
  });

  it("reads context-length and content-filter signals only on client errors", () => {
    expect(classify(400, "", ["context_length_exceeded"]).kind).toBe("context_length");
    expect(classify(413, "prompt is too long: 300000 tokens > 200000 maximum").kind).toBe("context_length");
    expect(classify(400, "Your request was rejected as a result of our safety system.").kind).toBe("content_filter");
    expect(classify(500, "maximum context length exceeded while retrying").kind).toBe("server_error");
  });

  it("keeps a scrubbed, bounded message and the first provider code", () => {
    const error = classifyHttpError(400, { message: `bad key sk-${"a".repeat(40)} ${"x".repeat(600)}`, codes: ["invalid_request_error", "other"] }, new Headers());
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.message).not.toContain("a".repeat(40));
    expect(error.message.length).toBeLessThanOrEqual(500);
    expect(error.providerCode).toBe("invalid_request_error");
    expect(classify(500).message).toBe("upstream returned HTTP 500");
  });
});
