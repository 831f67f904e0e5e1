import { describe, expect, it } from "vitest";
import { CAPABILITY_NAMES as CATALOG_CAPABILITIES } from "@/server/catalog/model";
import { BudgetPeriod, BudgetScope, Role } from "@/server/db/generated/enums";
import {
  BUDGET_PERIODS,
  BUDGET_SCOPES,
  CAPABILITY_NAMES,
  PROVIDER_KINDS,
  ROLES,
  formatIssuePath,
  formatIssues,
  parseConfigFile,
  type ConfigIssue,
} from "./config-file";

const good = {
  version: 1,
  teams: [{ slug: "research", name: "Research" }],
  providers: [
    { name: "openai-main", kind: "openai", apiKeyEnv: "OPENAI_API_KEY" },
    { name: "local", kind: "ollama", baseUrl: "http://localhost:11434/v1", allowPrivate: true, config: { headers: { "x-team": "r" } } },
  ],
  models: [
    { provider: "openai-main", model: "gpt-4o-mini", inputPrice: 0.12, outputPrice: "0.5", contextWindow: 128000 },
    { model: "gpt-4o", enabled: false },
  ],
  policies: [
    {
      name: "support-bot",
      team: "research",
      description: "cheap first",
      targets: [
        { provider: "local", model: "llama3" },
        { provider: "openai-main", model: "gpt-4o-mini" },
      ],
      reference: { provider: "openai-main", model: "gpt-4o" },
    },
  ],
  cacheRules: [{ name: "support", policy: "support-bot", semantic: true, threshold: 0.95, endpoints: ["chat.completions", "responses"] }],
  budgets: [
    { scope: "organization", period: "monthly", limitUsd: 5000 },
    { scope: "team", team: "research", period: "daily", limitUsd: "25.50", hard: false, alertThresholds: [80], timezone: "Europe/Paris" },
    { scope: "end_user", endUser: "user-42", period: "weekly", limitUsd: 1 },
  ],
  users: [{ email: "ada@example.com", role: "admin", team: "research", passwordEnv: "ADA_PASSWORD" }],
};

function issuesOf(input: unknown): ConfigIssue[] {
  const result = parseConfigFile(input);
  if (result.ok) throw new Error("expected the file to be invalid");
  return result.issues;
}

describe("config file schema", () => {
  it("keeps lib's enums equal to the Prisma schema's and the catalog's", () => {
    expect([...ROLES]).toEqual(Object.values(Role));
    expect([...BUDGET_SCOPES]).toEqual(Object.values(BudgetScope));
    expect([...BUDGET_PERIODS]).toEqual(Object.values(BudgetPeriod));
    expect([...CAPABILITY_NAMES]).toEqual([...CATALOG_CAPABILITIES]);
  });

  it("accepts a complete file and fills the schema defaults", () => {
    const result = parseConfigFile(good);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { config } = result;
    expect(config.providers[0]).toEqual({
      name: "openai-main",
      kind: "openai",
      apiKeyEnv: "OPENAI_API_KEY",
      allowPrivate: false,
      enabled: true,
      config: {},
    });
    // Prices stay decimal strings: nothing on the way to a Decimal(20, 10) column is a float.
    expect(config.models[0]).toMatchObject({ inputPrice: "0.12", outputPrice: "0.5", enabled: true, capabilities: {} });
    expect(config.policies[0]).toMatchObject({ strategy: "ordered", dropParams: [], enabled: true });
    expect(config.cacheRules[0]).toMatchObject({ exact: true, ttlSeconds: 3600, maxEntryBytes: 262144, scope: "team", shadow: false });
    expect(config.budgets[0]).toMatchObject({ hard: true, alertThresholds: [50, 80, 100], timezone: "UTC" });
  });

  it("treats an empty document as an empty configuration", () => {
    const result = parseConfigFile(null);
    expect(result.ok && result.config).toEqual({
      teams: [],
      providers: [],
      models: [],
      policies: [],
      cacheRules: [],
      budgets: [],
      users: [],
    });
  });

  it.each<[string, unknown, string, RegExp]>([
    ["an unknown provider kind", { providers: [good.providers[0], { name: "x", kind: "nope" }] }, "providers[1].kind", /^must be one of openai, anthropic, .*simulator$/],
    ["a missing field", { teams: [{ slug: "a" }] }, "teams[0].name", /^required$/],
    ["a wrong type", { providers: [{ name: "x", kind: "openai", enabled: "yes" }] }, "providers[0].enabled", /^must be true or false$/],
    ["a bad slug", { teams: [{ slug: "Not A Slug", name: "x" }] }, "teams[0].slug", /lowercase/],
    ["a non-http base URL", { providers: [{ name: "x", kind: "openai", baseUrl: "file:///etc/passwd" }] }, "providers[0].baseUrl", /http\(s\) URL/],
    ["a bad env var name", { providers: [{ name: "x", kind: "openai", apiKeyEnv: "not a var" }] }, "providers[0].apiKeyEnv", /environment variable/],
    ["a negative price", { models: [{ model: "m", inputPrice: -1 }] }, "models[0].inputPrice", /non-negative decimal/],
    ["a non-integer limit", { models: [{ model: "m", maxOutput: 1.5 }] }, "models[0].maxOutput", /^must be an integer$/],
    ["an empty target list", { policies: [{ name: "p", targets: [] }] }, "policies[0].targets", /at least 1/],
    ["a bad target inside a policy", { policies: [{ name: "p", targets: [{ provider: "a" }] }] }, "policies[0].targets[0].model", /^required$/],
    ["a policy name with a slash", { policies: [{ name: "a/b", targets: [{ provider: "a", model: "b" }] }] }, "policies[0].name", /letters, digits/],
    ["a threshold above 1", { cacheRules: [{ name: "r", threshold: 1.5 }] }, "cacheRules[0].threshold", /^must be at most 1$/],
    ["an unknown endpoint", { cacheRules: [{ name: "r", endpoints: ["images"] }] }, "cacheRules[0].endpoints[0]", /must be one of chat.completions/],
    ["an unknown time zone", { budgets: [{ scope: "organization", period: "monthly", limitUsd: 1, timezone: "Mars/Olympus" }] }, "budgets[0].timezone", /IANA/],
    ["a team budget without a team", { budgets: [{ scope: "team", period: "monthly", limitUsd: 1 }] }, "budgets[0].team", /^required for scope team$/],
    ["an organization budget with a team", { budgets: [{ scope: "organization", team: "a", period: "monthly", limitUsd: 1 }] }, "budgets[0].team", /not allowed/],
    ["an api_key budget without a key", { budgets: [{ scope: "api_key", period: "monthly", limitUsd: 1 }] }, "budgets[0].apiKey", /required/],
    ["a bad email", { users: [{ email: "nope", role: "admin" }] }, "users[0].email", /^must be an email address$/],
    ["an unknown role", { users: [{ email: "a@example.com", role: "root" }] }, "users[0].role", /^must be one of admin, developer, finance$/],
    ["an unknown section", { provider: [] }, "provider", /^unknown field$/],
    ["an unknown version", { version: 2 }, "version", /^must be 1$/],
    ["a duplicate provider name", { providers: [{ name: "x", kind: "openai" }, { name: "x", kind: "groq" }] }, "providers[1].name", /duplicate provider name \(also providers\[0\]\)/],
    ["a duplicate budget", { budgets: [{ scope: "organization", period: "daily", limitUsd: 1 }, { scope: "organization", period: "daily", limitUsd: 2 }] }, "budgets[1].period", /duplicate budget/],
    ["a duplicate email", { users: [{ email: "a@example.com", role: "admin" }, { email: "A@example.com", role: "finance" }] }, "users[1].email", /duplicate/],
    ["a non-mapping document", "just text", "(file)", /^must be a mapping$/],
  ])("reports %s at its path", (_name, input, path, message) => {
    const issues = issuesOf(input);
    const issue = issues.find((i) => i.path === path);
    expect(issue, `issues: ${formatIssues(issues)}`).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  it("points a key written into the file at apiKeyEnv, without echoing it", () => {
    const issues = issuesOf({ providers: [{ name: "x", kind: "openai", apiKey: "sk-live-abcdefghijklmnop" }] });
    expect(issues).toEqual([{ path: "providers[0].apiKey", message: expect.stringMatching(/unknown field .*apiKeyEnv/) }]);
    expect(formatIssues(issues)).not.toContain("sk-live");
  });

  it("never echoes an invalid value", () => {
    const secret = "sk should/not appear 0123456789";
    const text = formatIssues(issuesOf({ providers: [{ name: secret, kind: secret, baseUrl: secret, apiKeyEnv: secret, region: 5 }] }));
    expect(text).not.toContain(secret);
    expect(text.split("\n").map((line) => line.split(":")[0])).toEqual([
      "providers[0].name",
      "providers[0].kind",
      "providers[0].baseUrl",
      "providers[0].apiKeyEnv",
      "providers[0].region",
    ]);
  });

  it("reports every error of a file at once, one 'path: reason' line each", () => {
    const text = formatIssues(issuesOf({ teams: [{ slug: "ok", name: "" }], providers: [{ name: "p", kind: "nope" }] }));
    expect(text).toBe(["teams[0].name: must not be empty", `providers[0].kind: must be one of ${PROVIDER_KINDS.join(", ")}`].join("\n"));
  });

  it("formats paths like the file reads", () => {
    expect(formatIssuePath(["policies", 2, "targets", 0, "provider"])).toBe("policies[2].targets[0].provider");
    expect(formatIssuePath([])).toBe("(file)");
  });
});
