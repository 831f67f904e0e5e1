import { createMemoryExactStore } from "./exact-store";
import { exactStoreContract } from "./exact-store.contract";

exactStoreContract("memory", async () => createMemoryExactStore());
