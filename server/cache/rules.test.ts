import { describe, expect, it } from "vitest";
import { defaultRule, matchRule, notCacheableReason, type CacheRuleConfig } from "./rules";

const rule = (over: Partial<CacheRuleConfig>): CacheRuleConfig => ({
  ...defaultRule("org"),
  id: `r-${Math.random().toString(36).slice(2)}`,
  name: "r",
  requireZeroTemperature: false,
  endpoints: ["chat.completions"],
  ...over,
});
const q = { orgId: "org", teamId: "team", policyId: "pol", endpoint: "chat.completions" };

describe("matchRule", () => {
  it("prefers team and policy over policy over team over organization-wide, oldest among equals", () => {
    const orgWide = rule({ name: "org" });
    const team = rule({ name: "team", teamId: "team" });
    const policy = rule({ name: "policy", policyId: "pol" });
    const both = rule({ name: "both", teamId: "team", policyId: "pol" });
    const older = rule({ name: "older", teamId: "team", policyId: "pol", createdAt: -5 });
    expect(matchRule([orgWide, team, policy, both], q).name).toBe("both");
    expect(matchRule([orgWide, team, policy, both, older], q).name).toBe("older");
    expect(matchRule([orgWide, team, policy], q).name).toBe("policy");
    expect(matchRule([orgWide, team], q).name).toBe("team");
    expect(matchRule([orgWide], q).name).toBe("org");
  });

  it("skips rules of other organizations, teams, policies and endpoints", () => {
    const rules = [
      rule({ name: "other-org", orgId: "x" }),
      rule({ name: "other-team", teamId: "t2" }),
      rule({ name: "other-policy", policyId: "p2" }),
      rule({ name: "other-endpoint", endpoints: ["messages"] }),
    ];
    expect(matchRule(rules, q).id).toBeNull();
    expect(matchRule(rules, { ...q, endpoint: "messages" }).name).toBe("other-endpoint");
  });

  it("falls back to the built-in default: exact cache for temperature 0 only", () => {
    const fallback = matchRule([], q);
    expect(fallback).toMatchObject({ id: null, exact: true, semantic: false, scope: "team" });
    const req = { model: "m", messages: [{ role: "user" as const, content: "hi" }] };
    expect(notCacheableReason(fallback, { ...req, temperature: 0 })).toBeNull();
    expect(notCacheableReason(fallback, req)).toBe("temperature_not_zero");
    expect(notCacheableReason(fallback, { ...req, temperature: 0.3 })).toBe("temperature_not_zero");
  });

  it("lets a rule cache unset temperatures, and sampled ones only when it allows them", () => {
    const req = { model: "m", messages: [{ role: "user" as const, content: "hi" }] };
    expect(notCacheableReason(rule({}), req)).toBeNull();
    expect(notCacheableReason(rule({}), { ...req, temperature: 0.7 })).toBe("temperature_not_zero");
    expect(notCacheableReason(rule({ allowNonZeroTemperature: true }), { ...req, temperature: 0.7 })).toBeNull();
    expect(notCacheableReason(rule({ exact: false, semantic: false }), req)).toBe("rule_disabled");
  });
});
