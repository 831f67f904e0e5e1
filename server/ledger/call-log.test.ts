import { readdirSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { Db } from "../db/client";
import { waitUntil } from "../state/store.contract";
import { LogCapture, tempDir } from "../testing/harness";
import { createCallLogWriter, type CallRecord } from "./call-log";

/** A stand-in for the database insert that can be switched off like a failing database. */
function fakeDb() {
  const rows = new Map<string, unknown>();
  const state = { down: false, inserts: 0 };
  const insert = async (data: CallRecord[]) => {
    if (state.down) throw new Error("connection refused");
    state.inserts += 1;
    for (const row of data) if (!rows.has(row.id)) rows.set(row.id, row);
  };
  return { db: {} as Db, insert, rows, state };
}

const record = (i: number): CallRecord => ({
  id: `call_${i}`,
  requestId: `req_${i}`,
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60)),
  surface: "openai",
  endpoint: "chat.completions",
  status: 200,
  upstreamId: "chatcmpl-same",
  costUsd: "0.0000150000",
});

describe("call log writer", () => {
  const dirs: Array<{ remove(): void }> = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));
  const spillDir = () => {
    const d = tempDir();
    dirs.push(d);
    return d.path;
  };

  it("writes rows in batches", async () => {
    const { db, insert, rows, state } = fakeDb();
    const writer = createCallLogWriter({ db, insert, log: new LogCapture().logger, spillDir: spillDir(), batchSize: 100 });
    for (let i = 0; i < 1000; i++) writer.write(record(i));
    await writer.close();
    expect(rows.size).toBe(1000);
    expect(state.inserts).toBeLessThanOrEqual(11);
  });

  it("keeps rows through a database outage and writes them once it recovers", async () => {
    const { db, insert, rows, state } = fakeDb();
    state.down = true;
    const writer = createCallLogWriter({ db, insert, log: new LogCapture().logger, spillDir: spillDir(), flushIntervalMs: 5, maxBackoffMs: 20 });
    for (let i = 0; i < 50; i++) writer.write(record(i));
    await writer.flush();
    expect(rows.size).toBe(0);
    expect(writer.pending()).toBe(50);
    state.down = false;
    await waitUntil(() => rows.size === 50);
    await writer.close();
  });

  it("spills to disk when the queue overflows or at shutdown, and replays at the next start", async () => {
    const dir = spillDir();
    const first = fakeDb();
    first.state.down = true;
    const writer = createCallLogWriter({ db: first.db, insert: first.insert, log: new LogCapture().logger, spillDir: dir, maxQueue: 10, flushIntervalMs: 5, maxBackoffMs: 10 });
    for (let i = 0; i < 40; i++) writer.write(record(i));
    await writer.close();
    expect(first.rows.size).toBe(0);
    expect(readdirSync(dir).length).toBeGreaterThan(0);

    const second = fakeDb();
    const next = createCallLogWriter({ db: second.db, insert: second.insert, log: new LogCapture().logger, spillDir: dir });
    await waitUntil(() => second.rows.size === 40);
    expect(readdirSync(dir)).toEqual([]);
    await next.close();
  });

  it("never writes a row twice when a replay overlaps rows already stored", async () => {
    const { db, insert, rows } = fakeDb();
    const writer = createCallLogWriter({ db, insert, log: new LogCapture().logger, spillDir: spillDir() });
    writer.write(record(1));
    writer.write(record(1));
    writer.write(record(2));
    await writer.close();
    expect([...rows.keys()].sort()).toEqual(["call_1", "call_2"]);
  });
});
