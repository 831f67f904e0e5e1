import { createMemoryStore } from "./memory";
import { stateStoreContract } from "./store.contract";

stateStoreContract("memory", async () => createMemoryStore());
