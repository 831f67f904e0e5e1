import { describe, expect, it } from "vitest";
import type { AuthContext } from "../gateway/auth";
import type { Plan, Target } from "../gateway/resolve";
import type { LedgerConfig, RateRule } from "./budgets";
import { applyRateLimits, formatResetDuration, rateLimitHeaders } from "./rate-limits";

const key: AuthContext = { apiKeyId: "k1", orgId: "o1", teamId: "t1", ownerId: null, allowedModels: [], allowStore: false, rpmLimit: 60, tpmLimit: 1_000 };
const target = { provider: { name: "openai" }, modelId: "gpt-4o-mini", model: null } as unknown as Target;
const plan = (requested: string): Plan => ({ requested, policy: null, targets: [target], reference: target, dropParams: new Set() });
const rule = (id: string, teamId: string | null, model: string | null): RateRule => ({ id, orgId: "o1", teamId, model, rpm: 10, tpm: null });
const config = (rules: RateRule[]): LedgerConfig => ({ budgets: new Map(), rateRules: new Map([["o1", rules]]) });

describe("applyRateLimits", () => {
  it("applies the key's limits and every matching rule", () => {
    const rules = [
      rule("team", "t1", null),
      rule("other-team", "t2", null),
      rule("policy", null, "support-bot"),
      rule("model", null, "gpt-4o-mini"),
      rule("qualified", "t1", "openai/gpt-4o-mini"),
      rule("other-model", null, "gpt-4o"),
    ];
    const limits = applyRateLimits(config(rules), key, plan("support-bot"), () => 42);
    expect(limits.map((l) => [l.key, l.amount])).toEqual([
      ["rl:key:k1:r", 1],
      ["rl:key:k1:t", 42],
      ["rl:rule:team:r", 1],
      ["rl:rule:policy:r", 1],
      ["rl:rule:model:r", 1],
      ["rl:rule:qualified:r", 1],
    ]);
    expect(limits.map((l) => l.owner)).toContain("team t1 on model openai/gpt-4o-mini");
  });

  it("counts tokens only when a token limit applies", () => {
    let counted = 0;
    applyRateLimits(config([]), { ...key, tpmLimit: null }, plan("x"), () => ++counted);
    expect(counted).toBe(0);
  });
});

describe("rate-limit headers", () => {
  it("formats reset durations the way OpenAI does", () => {
    expect(formatResetDuration(0)).toBe("0ms");
    expect(formatResetDuration(20)).toBe("20ms");
    expect(formatResetDuration(1_000)).toBe("1s");
    expect(formatResetDuration(12_345)).toBe("12.345s");
    expect(formatResetDuration(360_000)).toBe("6m0s");
    expect(formatResetDuration(90_500)).toBe("1m30.5s");
  });

  it("reports, per kind, the limit with the least room left", () => {
    const limits = [
      { kind: "requests" as const, owner: "a", key: "a", limit: 100, amount: 1 },
      { kind: "requests" as const, owner: "b", key: "b", limit: 10, amount: 1 },
      { kind: "tokens" as const, owner: "c", key: "c", limit: 1_000, amount: 30 },
    ];
    const headers = rateLimitHeaders(limits, [
      { count: 50, resetMs: 61_000 },
      { count: 8.4, resetMs: 90_000 },
      { count: 30, resetMs: 120_000 },
    ]);
    expect(headers).toEqual({
      "x-ratelimit-limit-requests": "10",
      "x-ratelimit-remaining-requests": "1",
      "x-ratelimit-reset-requests": "1m30s",
      "x-ratelimit-limit-tokens": "1000",
      "x-ratelimit-remaining-tokens": "970",
      "x-ratelimit-reset-tokens": "2m0s",
    });
  });
});
