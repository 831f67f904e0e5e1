import { createRedisExactStore } from "./exact-store";
import { exactStoreContract } from "./exact-store.contract";

const url = process.env.REDIS_URL;
exactStoreContract("redis", () => createRedisExactStore(url!, { prefix: `sytest:rc:${process.pid}:` }), { skip: !url });
