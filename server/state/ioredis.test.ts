import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadRedis } from "./ioredis";

const ioredisLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes(`${path.sep}ioredis${path.sep}`));

describe("ioredis", () => {
  // Loading it slows every charCodeAt in the process (see ./ioredis.ts): only an instance with REDIS_URL may pay that.
  it("is not loaded by the runtime or the gateway until Redis is used", async () => {
    await import("../runtime");
    await import("../gateway/handler");
    await import("../http");
    expect(ioredisLoaded()).toBe(false);
    expect(typeof (await loadRedis())).toBe("function");
    expect(ioredisLoaded()).toBe(true);
  });
});
