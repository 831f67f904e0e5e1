import { describe, expect, it } from "vitest";
import type { Condition } from "@/lib/policy";
import { matchCondition, type RequestFacts } from "./conditions";
import { profileRequest } from "./profile";

const facts = (over: Partial<RequestFacts> = {}, content = "Please review this code"): RequestFacts => ({
  apiKeyId: "key1",
  teamId: "team1",
  user: "alice",
  metadata: { env: "prod", app: "support" },
  headers: { "x-task": "summarize" },
  profile: profileRequest({
    model: "m",
    messages: [
      { role: "system", content: "You are terse." },
      { role: "user", content },
    ],
  }),
  ...over,
});

describe("matchCondition", () => {
  const cases: Array<[string, Condition, boolean]> = [
    ["empty condition", {}, true],
    ["metadata equal", { metadata: { env: "prod" } }, true],
    ["metadata one of", { metadata: { env: ["dev", "prod"] } }, true],
    ["metadata missing", { metadata: { region: "eu" } }, false],
    ["header regex", { headers: { "x-task": "^summ" } }, true],
    ["header absent", { headers: { "x-other": "." } }, false],
    ["api key", { apiKeys: ["key2"] }, false],
    ["team", { teams: ["team1"] }, true],
    ["user", { users: ["bob"] }, false],
    ["content, case-insensitive by default", { content: { pattern: "REVIEW" } }, true],
    ["content, case-sensitive", { content: { pattern: "REVIEW", ignoreCase: false } }, false],
    ["content in the system prompt only with scope all", { content: { pattern: "terse" } }, false],
    ["content scope all", { content: { pattern: "terse", scope: "all" } }, true],
    ["prompt tokens within", { promptTokens: { min: 5, max: 100 } }, true],
    ["prompt tokens below", { promptTokens: { min: 1_000 } }, false],
    ["requires tools (not needed)", { requires: ["tools"] }, false],
    ["any", { any: [{ users: ["bob"] }, { teams: ["team1"] }] }, true],
    ["not", { not: { metadata: { env: "prod" } } }, false],
    ["all fields must hold", { metadata: { env: "prod" }, users: ["bob"] }, false],
  ];
  it.each(cases)("%s", (_name, condition, expected) => {
    expect(matchCondition(condition, facts())).toBe(expected);
  });

  it("sees what the request needs", () => {
    const f = facts({
      profile: profileRequest({
        model: "m",
        messages: [{ role: "user", content: [{ type: "text", text: "what is this" }, { type: "image_url", image_url: { url: "data:image/png;base64,AA==" } }] }],
        tools: [{ type: "function", function: { name: "f" } }],
        response_format: { type: "json_schema", json_schema: { name: "s" } },
        reasoning_effort: "low",
        stream: true,
      }),
    });
    expect([...f.profile.needs].sort()).toEqual(["json_schema", "reasoning", "streaming", "tools", "vision"]);
    expect(matchCondition({ requires: ["vision", "tools"] }, f)).toBe(true);
    expect(f.profile.lastUserText).toBe("what is this");
  });
});
