/** The contract every ExactStore passes (memory and Redis run the same cases). */
import { describe, expect, it } from "vitest";
import { waitUntil } from "../state/store.contract";
import { storeKey, type ExactEntry, type ExactStore, type KeyParts } from "./exact-store";

function entry(text: string, createdAt = Date.now()): ExactEntry {
  return {
    answer: {
      response: {
        id: "chatcmpl-1",
        object: "chat.completion",
        created: 1,
        model: "m",
        choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, finish_reason: "stop", logprobs: null }],
      },
      usage: { input: 3, cachedInput: 0, cacheWrite: 0, output: 2, reasoning: 0 },
      originalCostUsd: "0.001",
    },
    createdAt,
    expiresAt: createdAt + 60_000,
    bytes: 200,
  };
}

export function exactStoreContract(name: string, make: () => Promise<ExactStore>, options: { skip?: boolean } = {}) {
  describe.skipIf(options.skip ?? false)(`ExactStore contract: ${name}`, () => {
    const org = () => `org${Math.random().toString(36).slice(2)}`;
    const parts = (over: Partial<KeyParts>): KeyParts => ({
      orgId: "o",
      teamId: "t",
      keyScope: "*",
      rule: "default",
      generation: 0,
      namespace: "",
      hash: Math.random().toString(36).slice(2),
      ...over,
    });

    it("stores and returns an entry", async () => {
      const store = await make();
      const key = storeKey(parts({ orgId: org() }));
      expect(await store.get(key)).toBeNull();
      await store.set(key, entry("hello"), 60_000);
      const got = await store.get(key);
      expect(got?.answer.response.choices[0]!.message.content).toBe("hello");
      expect(got?.answer.usage.output).toBe(2);
      await store.close();
    });

    it("expires entries after their TTL", async () => {
      const store = await make();
      const key = storeKey(parts({ orgId: org() }));
      await store.set(key, entry("short"), 30);
      await waitUntil(async () => (await store.get(key)) === null);
      await store.close();
    });

    it("purges by team, by rule and by age, and nothing of other organizations", async () => {
      const store = await make();
      const o = org();
      const other = org();
      const old = Date.now() - 3_600_000;
      const keys = {
        teamA: storeKey(parts({ orgId: o, teamId: "A", rule: "r1" })),
        teamAOld: storeKey(parts({ orgId: o, teamId: "A", rule: "r2" })),
        teamB: storeKey(parts({ orgId: o, teamId: "B", rule: "r1" })),
        teamBOld: storeKey(parts({ orgId: o, teamId: "B", rule: "r2", keyScope: "key1" })),
        otherOrg: storeKey(parts({ orgId: other, teamId: "A", rule: "r1" })),
      };
      await store.set(keys.teamA, entry("a"), 60_000);
      await store.set(keys.teamAOld, entry("a-old", old), 60_000);
      await store.set(keys.teamB, entry("b"), 60_000);
      await store.set(keys.teamBOld, entry("b-old", old), 60_000);
      await store.set(keys.otherOrg, entry("x"), 60_000);

      expect(await store.purge({ orgId: o, before: Date.now() - 60_000 })).toBe(2);
      expect(await store.get(keys.teamAOld)).toBeNull();
      expect(await store.get(keys.teamBOld)).toBeNull();
      expect(await store.get(keys.teamA)).not.toBeNull();

      expect(await store.purge({ orgId: o, ruleId: "r1", teamId: "B" })).toBe(1);
      expect(await store.get(keys.teamB)).toBeNull();
      expect(await store.get(keys.teamA)).not.toBeNull();

      expect(await store.purge({ orgId: o, teamId: "A" })).toBe(1);
      expect(await store.get(keys.teamA)).toBeNull();
      expect(await store.get(keys.otherOrg)).not.toBeNull();
      await store.close();
    });
  });
}
