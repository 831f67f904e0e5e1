/**
 * SIGTERM with streams in flight (reliability case 21): the production entry (server/main.ts, its own process)
 * drains the streams to their end, flushes the call log, and exits 0 — every call has its row.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { createDatabase } from "../db/open";
import { startSimulator } from "../providers/simulator";
import { createRuntime } from "../runtime";
import type { Switchyard } from "../start";
import { LogCapture, createTestDatabase, seedSimulatorProviders, tempDir, testEnv } from "../testing/harness";

const ROOT = path.resolve(import.meta.dirname, "../..");

describe("SIGTERM with streams in flight", () => {
  it("finishes every stream, writes every row, and exits 0", { timeout: 120_000 }, async () => {
    // 30 tokens at 60 tokens/s: each stream lasts about half a second after its first chunk.
    const sim = await startSimulator({ tokensPerSecond: 60 });
    const database = await createTestDatabase();
    const dir = tempDir();
    const env = testEnv({ DATABASE_URL: database.url, SWITCHYARD_DATA_DIR: dir.path });
    try {
      const rt = await createRuntime(env, { log: new LogCapture().logger, seedDemo: false });
      const { key } = await seedSimulatorProviders({ rt } as Switchyard, sim.url);
      await rt.close();

      const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "",
          NODE_ENV: "production",
          PORT: "0",
          HOST: "127.0.0.1",
          LOG_LEVEL: "warn",
          SWITCHYARD_NO_UI: "1",
          SWITCHYARD_DATA_DIR: dir.path,
          SWITCHYARD_SECRET: env.SWITCHYARD_SECRET!,
          ...(database.url ? { DATABASE_URL: database.url } : {}),
          ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
        },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", () => {
          const match = /Switchyard is running at (http:\/\/\S+)/.exec(stdout);
          if (match) resolve(match[1]!);
        });
        void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
      });

      const client = new OpenAI({ apiKey: key, baseURL: `${url}/api/v1`, maxRetries: 0 });
      const streams = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const stream = await client.chat.completions.create({
            model: "sim-openai/sim-small",
            messages: [{ role: "user", content: "Stream please [[sim:tokens=30]]" }],
            stream: true,
          });
          const iterator = stream[Symbol.asyncIterator]();
          const first = await iterator.next();
          return { iterator, text: first.value?.choices[0]?.delta.content ?? "" };
        }),
      );
      child.kill("SIGTERM");
      const texts = await Promise.all(
        streams.map(async ({ iterator, text }) => {
          for (let next = await iterator.next(); !next.done; next = await iterator.next()) text += next.value.choices[0]?.delta.content ?? "";
          return text;
        }),
      );
      expect(texts.every((t) => t.startsWith("Simulated reply"))).toBe(true);
      expect(await exited).toBe(0);

      const db = await createDatabase(env);
      try {
        const rows = await db.prisma.call.findMany({ select: { status: true, streamed: true, partial: true, outputTokens: true } });
        expect(rows).toHaveLength(8);
        expect(rows.every((r) => r.status === 200 && r.streamed && !r.partial && r.outputTokens === 30)).toBe(true);
        expect(await db.prisma.rollupDaily.aggregate({ _sum: { calls: true } })).toEqual({ _sum: { calls: 8 } });
      } finally {
        await db.close();
      }
    } finally {
      await sim.close();
      await database.drop();
      dir.remove();
    }
  });
});
