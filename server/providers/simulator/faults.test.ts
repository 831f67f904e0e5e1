import { describe, expect, it } from "vitest";
import { FaultController, parseFaultHeader } from "./faults";

const chat = { protocol: "openai" as const, operation: "chat" as const, model: "gpt-4o", stream: false };

describe("x-sim-fault header", () => {
  it("parses a kind with parameters", () => {
    expect(parseFaultHeader("rate_limit; retry-after=2; retry-after-ms=1500")).toEqual({ fault: "rate_limit", retryAfterSeconds: 2, retryAfterMs: 1500 });
    expect(parseFaultHeader("stream_cut;after=3")).toEqual({ fault: "stream_cut", afterChunks: 3 });
    expect(parseFaultHeader("unavailable; status=529")).toEqual({ fault: "unavailable", status: 529 });
    expect(parseFaultHeader("content_filter; on=prompt")).toEqual({ fault: "content_filter", on: "prompt" });
    expect(parseFaultHeader("slow_first_byte; delay=20")).toEqual({ fault: "slow_first_byte", delayMs: 20 });
  });

  it("rejects unknown kinds, parameters and values", () => {
    expect(() => parseFaultHeader("explode")).toThrow(/invalid x-sim-fault/);
    expect(() => parseFaultHeader("rate_limit; colour=red")).toThrow(/unknown x-sim-fault parameter/);
    expect(() => parseFaultHeader("stream_cut; after=-1")).toThrow(/invalid/);
  });
});

describe("fault schedule", () => {
  it("applies a rule to the next N matching requests, then forgets it", () => {
    const faults = new FaultController();
    faults.add({ fault: "server_error", times: 2 });
    expect(faults.take(chat)?.fault).toBe("server_error");
    expect(faults.take(chat)?.fault).toBe("server_error");
    expect(faults.take(chat)).toBeUndefined();
    expect(faults.list()).toEqual([]);
  });

  it("matches protocol, model globs, streaming and operation; default operations are chat and embeddings", () => {
    const faults = new FaultController();
    faults.add({ fault: "rate_limit", protocol: "anthropic", model: "claude-*", stream: true, times: "always", retryAfterSeconds: 1 });
    expect(faults.take(chat)).toBeUndefined();
    expect(faults.take({ ...chat, protocol: "anthropic", model: "claude-haiku-4-5" })).toBeUndefined();
    const hit = faults.take({ protocol: "anthropic", operation: "chat", model: "claude-haiku-4-5", stream: true });
    expect(hit).toEqual({ fault: "rate_limit", retryAfterSeconds: 1 });
    expect(faults.take({ protocol: "anthropic", operation: "chat", model: "claude-haiku-4-5", stream: true })).toBeDefined();

    const other = new FaultController();
    other.add({ fault: "timeout" });
    expect(other.take({ ...chat, operation: "models" })).toBeUndefined();
    expect(other.take({ ...chat, operation: "embeddings" })?.fault).toBe("timeout");
    other.add({ fault: "timeout", operation: "count_tokens" });
    expect(other.take(chat)).toBeUndefined();
    expect(other.take({ ...chat, operation: "count_tokens" })?.fault).toBe("timeout");
  });

  it("tries rules in insertion order and can remove or clear them", () => {
    const faults = new FaultController();
    const first = faults.add({ fault: "reset", model: "gpt-4o" });
    faults.add({ fault: "server_error" });
    expect(faults.remove(first.id)).toBe(true);
    expect(faults.remove(first.id)).toBe(false);
    expect(faults.take(chat)?.fault).toBe("server_error");
    faults.add({ fault: "server_error", times: "always" });
    faults.clear();
    expect(faults.take(chat)).toBeUndefined();
  });

  it("rejects invalid rules", () => {
    const faults = new FaultController();
    expect(() => faults.add({ fault: "nope" as "reset" })).toThrow();
    expect(() => faults.add({ fault: "reset", times: 0 })).toThrow();
  });
});
