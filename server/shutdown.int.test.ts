import { request as httpRequest } from "node:http";
import { describe, expect, it } from "vitest";
import { createHttpServer } from "./http";
import { createRuntime } from "./runtime";
import { LogCapture, createTestDatabase, tempDir, testEnv } from "./testing/harness";

describe("graceful shutdown", () => {
  it("finishes in-flight requests, refuses new connections, then resolves", async () => {
    const db = await createTestDatabase();
    const dir = tempDir();
    const rt = await createRuntime(testEnv({ DATABASE_URL: db.url, SWITCHYARD_DATA_DIR: dir.path }), {
      log: new LogCapture().logger, seedDemo: false,
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const inHandler = new Promise<void>((resolve) => (started = resolve));
    const http = createHttpServer({
      rt,
      gateway: async () => {
        started();
        await gate;
        return Response.json({ finished: true });
      },
    });
    const { port } = await http.listen(0, "127.0.0.1");
    const inflight = fetch(`http://127.0.0.1:${port}/api/v1/slow`);
    await inHandler;
    expect(http.inFlight()).toBe(1);

    const stopping = http.shutdown(5_000);
    // New connections are refused once the listener is closed.
    await expect(
      new Promise((resolve, reject) => httpRequest({ port, host: "127.0.0.1", path: "/api/health", agent: false }, resolve).on("error", reject).end()),
    ).rejects.toThrow(/ECONNREFUSED/);
    release();
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ finished: true });
    expect(await stopping).toEqual({ forced: false });
    await rt.close();
    await db.drop();
    dir.remove();
  });

  it("gives up on a request that outlives the timeout", async () => {
    const db = await createTestDatabase();
    const dir = tempDir();
    const rt = await createRuntime(testEnv({ DATABASE_URL: db.url, SWITCHYARD_DATA_DIR: dir.path }), {
      log: new LogCapture().logger, seedDemo: false,
    });
    let started!: () => void;
    const inHandler = new Promise<void>((resolve) => (started = resolve));
    const http = createHttpServer({
      rt,
      gateway: () => {
        started();
        return new Promise<Response>(() => {});
      },
    });
    const { port } = await http.listen(0, "127.0.0.1");
    const hanging = fetch(`http://127.0.0.1:${port}/api/v1/hang`).catch((error) => error);
    await inHandler;
    expect(await http.shutdown(50)).toEqual({ forced: true });
    expect(await hanging).toBeInstanceOf(Error);
    await rt.close();
    await db.drop();
    dir.remove();
  });
});
