import { describe, expect, it } from "vitest";
import { createRedisStore } from "./redis";
import { stateStoreContract } from "./store.contract";

const url = process.env.REDIS_URL;
stateStoreContract("redis", () => createRedisStore(url!, { prefix: `sytest:${process.pid}:` }), { skip: !url });

describe.skipIf(!url)("redis store failures", () => {
  it("fails fast instead of queueing when the server is unreachable", async () => {
    await expect(createRedisStore("redis://127.0.0.1:1")).rejects.toThrow();
  });
});
