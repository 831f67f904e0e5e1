import { describe, expect, it } from "vitest";
import type { ChatRequest } from "../providers/types";
import { createMemoryStore } from "../state/memory";
import { createPrefixAffinity, stickyPrefix } from "./prefix-affinity";

const SYSTEM = "You are the dispatcher of a large freight switchyard. Answer questions about its tracks. ".repeat(90);
const req = (question: string, system = SYSTEM, tools?: ChatRequest["tools"]): ChatRequest => ({
  model: "x",
  messages: [{ role: "system", content: system }, { role: "user", content: question }],
  ...(tools ? { tools } : {}),
});
const tool = (name: string) => [{ type: "function" as const, function: { name, parameters: { type: "object", properties: {} } } }];

describe("stickyPrefix", () => {
  it("hashes the system prompt and tools, not the conversation", () => {
    const a = stickyPrefix(req("Which track?"))!;
    expect(a.tokens).toBeGreaterThan(1024);
    expect(stickyPrefix(req("Another question entirely"))!.hash).toBe(a.hash);
    expect(stickyPrefix(req("Which track?", `${SYSTEM}!`))!.hash).not.toBe(a.hash);
    expect(stickyPrefix(req("Which track?", SYSTEM, tool("lookup")))!.hash).not.toBe(a.hash);
    expect(stickyPrefix(req("Which track?", SYSTEM, tool("lookup")))!.hash).not.toBe(stickyPrefix(req("Which track?", SYSTEM, tool("other")))!.hash);
  });
  it("is null below the smallest cacheable prefix", () => {
    expect(stickyPrefix(req("Which track?", "Be brief."))).toBeNull();
    expect(stickyPrefix({ model: "x", messages: [{ role: "user", content: SYSTEM }] })).toBeNull();
  });
});

describe("createPrefixAffinity", () => {
  it("remembers the last target per organization and prefix, refreshed with the TTL on every use", async () => {
    const store = createMemoryStore();
    const ttls: Array<number | undefined> = [];
    const spy = { ...store, set: (key: string, value: string, ttlMs?: number) => (ttls.push(ttlMs), store.set(key, value, ttlMs)) };
    const affinity = createPrefixAffinity(spy, { ttlMs: 1000 });
    expect(await affinity.lookup("org1", "h")).toBeNull();
    await affinity.record("org1", "h", "p1:m");
    expect(await affinity.lookup("org1", "h")).toBe("p1:m");
    expect(await affinity.lookup("org2", "h")).toBeNull();
    expect(await affinity.lookup("org1", "h2")).toBeNull();
    await affinity.record("org1", "h", "p2:m");
    expect(await affinity.lookup("org1", "h")).toBe("p2:m");
    expect(ttls).toEqual([1000, 1000]);
  });

  it("treats a store outage as no affinity", async () => {
    const store = createMemoryStore();
    const broken = { ...store, get: async () => Promise.reject(new Error("down")), set: async () => Promise.reject(new Error("down")) };
    const affinity = createPrefixAffinity(broken);
    await expect(affinity.record("o", "h", "t")).resolves.toBeUndefined();
    await expect(affinity.lookup("o", "h")).resolves.toBeNull();
  });
});
