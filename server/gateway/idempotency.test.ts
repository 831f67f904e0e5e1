import { describe, expect, it } from "vitest";
import { canonicalJson, fingerprint, streamCompleted } from "./idempotency";

describe("idempotency fingerprints", () => {
  it("ignores key order and whitespace but not values, arrays order or the endpoint", () => {
    const a = { model: "m", messages: [{ role: "user", content: "hi" }], temperature: 0.5 };
    const b = JSON.parse('{ "temperature": 0.5, "messages": [ {"content": "hi", "role": "user"} ], "model": "m" }');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
    expect(fingerprint("/chat/completions", b)).toBe(fingerprint("/chat/completions", a));
    expect(fingerprint("/responses", a)).not.toBe(fingerprint("/chat/completions", a));
    expect(fingerprint("/chat/completions", { ...a, temperature: 0.6 })).not.toBe(fingerprint("/chat/completions", a));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
    expect(canonicalJson({ a: null, b: "x" })).toBe('{"a":null,"b":"x"}');
  });
});

describe("streamCompleted", () => {
  it("accepts each surface's normal ending only", () => {
    expect(streamCompleted("chat.completions", 'data: {"id":"x"}\n\ndata: [DONE]\n\n')).toBe(true);
    expect(streamCompleted("chat.completions", 'data: {"id":"x"}\n\ndata: {"error":{"message":"cut"}}\n\n')).toBe(false);
    expect(streamCompleted("messages", 'event: message_delta\ndata: {}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n')).toBe(true);
    expect(streamCompleted("messages", 'event: error\ndata: {"type":"error"}\n\n')).toBe(false);
    expect(streamCompleted("responses", 'event: response.completed\ndata: {}\n\n')).toBe(true);
    expect(streamCompleted("responses", 'event: response.incomplete\ndata: {}\n\n')).toBe(true);
    expect(streamCompleted("responses", 'event: error\ndata: {}\n\nevent: response.failed\ndata: {}\n\n')).toBe(false);
    expect(streamCompleted("chat.completions", "")).toBe(false);
  });
});
