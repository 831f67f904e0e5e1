import { describe, expect, it } from "vitest";
import { canonicalJson } from "@/lib/json";
import type { CallRecord } from "../ledger/call-log";
import { createMemoryStore } from "../state/memory";
import type { Gateway } from "./context";
import { REPLAY_HEADER, RETENTION_MS, createIdempotency, fingerprint, streamCompleted } from "./idempotency";

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

describe("the 24-hour window", () => {
  it("replays a key for 24 hours and refuses it with another body, then forgets it", async () => {
    let clock = Date.parse("2026-03-14T09:00:00Z");
    const rows: CallRecord[] = [];
    const gw = {
      auth: { authenticate: async () => ({ orgId: "org1", teamId: "team1", apiKeyId: "key1" }) },
      rt: { env: { SWITCHYARD_MAX_BODY_BYTES: 1_000_000 }, calls: { write: (r: CallRecord) => rows.push(r) }, log: { warn: () => {} }, state: { kind: "memory" } },
    } as unknown as Gateway;
    const idempotency = createIdempotency(gw, { store: createMemoryStore({ now: () => clock }) });
    let runs = 0;
    const run = async () => Response.json({ id: `answer-${++runs}` });
    const send = (content: string) =>
      idempotency.handle(
        new Request("http://gw/api/v1/chat/completions", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Bearer sy-x", "idempotency-key": "nightly-report-42" },
          body: JSON.stringify({ model: "m", messages: [{ role: "user", content }] }),
        }),
        `req-${clock}`,
        "/chat/completions",
        run,
      );

    expect(await (await send("first")).json()).toEqual({ id: "answer-1" });
    clock += RETENTION_MS - 1_000;
    const replay = await send("first");
    expect(replay.headers.get(REPLAY_HEADER)).toBe("true");
    expect(await replay.json()).toEqual({ id: "answer-1" });
    await expect(send("other")).rejects.toMatchObject({ status: 422, code: "idempotency_key_reused" });
    expect(runs).toBe(1);

    clock += 2_000; // 24 h and a second after the first call: a new request, whatever its body
    const fresh = await send("other");
    expect(fresh.headers.get(REPLAY_HEADER)).toBeNull();
    expect(await fresh.json()).toEqual({ id: "answer-2" });
    expect(runs).toBe(2);
    expect(rows.map((r) => [r.status, r.cacheOutcome ?? null])).toEqual([
      [200, "replay"],
      [422, null],
    ]);
  });
});
