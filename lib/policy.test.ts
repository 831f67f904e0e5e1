import { describe, expect, it } from "vitest";
import { z } from "zod";
import { extendPolicyDocument, policyDocument, policyTargetRefs } from "./policy";

const t = (model: string) => ({ provider: "p", model });

describe("policyDocument", () => {
  it("reads documents without a strategy as ordered chains (the original shape)", () => {
    expect(policyDocument.parse({ targets: [t("a")] })).toEqual({ strategy: "ordered", targets: [t("a")], dropParams: [] });
  });

  it("accepts every strategy with its own fields", () => {
    const docs = [
      { strategy: "cheapest", targets: [t("a"), t("b")], constraints: { maxCostUsd: 0.01, require: ["tools"], latency: { ttftMs: 500 } } },
      { strategy: "fastest", targets: [t("a")], percentile: "p95" },
      { strategy: "weighted", targets: [t("a"), t("b")], weights: [80, 20] },
      { strategy: "conditional", targets: [t("a")], rules: [{ when: { metadata: { tier: ["gold", "silver"] }, not: { content: { pattern: "^hi" } } }, targets: [t("b")] }] },
      { strategy: "cascade", targets: [t("a"), t("b")], classifier: { kind: "learned" }, escalate: [{ when: { promptTokens: { min: 4000 } }, minTier: 1 }] },
    ];
    for (const doc of docs) expect(policyDocument.safeParse(doc).error?.issues ?? []).toEqual([]);
    expect(policyDocument.parse(docs[1])).toMatchObject({ metric: "ttft", percentile: "p95" });
    expect(policyDocument.parse(docs[2])).toMatchObject({ sticky: "user" });
    expect(policyDocument.parse(docs[4])).toMatchObject({ classifier: { kind: "learned", minQualityRatio: 0.95, minSamples: 200 } });
  });

  it("rejects what the planner could not honour", () => {
    const issues = (doc: unknown) => policyDocument.safeParse(doc).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];
    expect(issues({ strategy: "weighted", targets: [t("a"), t("b")], weights: [1] })).toEqual(["weights: needs one weight per target"]);
    expect(issues({ strategy: "weighted", targets: [t("a")], weights: [0] })).toEqual(["weights: at least one weight must be positive"]);
    expect(issues({ strategy: "cascade", targets: [t("a")] })[0]).toMatch(/^targets: /);
    expect(issues({ strategy: "conditional", targets: [t("a")], rules: [{ when: { content: { pattern: "(" } }, targets: [t("b")] }] })).toEqual([
      "rules.0.when.content.pattern: must be a valid regular expression",
    ]);
    expect(issues({ strategy: "random", targets: [t("a")] })[0]).toMatch(/^strategy: /);
    expect(issues({ targets: [t("a")], retry: { retryOn: ["sometimes"] } })[0]).toMatch(/^retry.retryOn.0/);
    expect(issues({ targets: [t("a")], extra: true })[0]).toMatch(/Unrecognized key/);
  });

  it("lists every target reference with its path", () => {
    const doc = policyDocument.parse({
      strategy: "conditional",
      targets: [t("a")],
      reference: t("ref"),
      fallbacks: { contextLength: [t("long")], contentFilter: [t("lenient")] },
      rules: [{ when: { users: ["u"] }, targets: [t("b")] }],
    });
    expect(policyTargetRefs(doc).map((r) => `${r.path}=${r.ref.model}`)).toEqual([
      "targets.0=a",
      "reference=ref",
      "fallbacks.contextLength.0=long",
      "fallbacks.contentFilter.0=lenient",
      "rules.0.targets.0=b",
    ]);
  });

  it("extends every variant with extra fields", () => {
    const spec = extendPolicyDocument({ name: z.string() });
    expect(spec.safeParse({ strategy: "cheapest", targets: [t("a")], name: "ordered" }).success).toBe(true);
    expect(spec.safeParse({ strategy: "cheapest", targets: [t("a")] }).success).toBe(false);
  });
});

describe("compression and task caps", () => {
  it("accepts a compression block and caps per task type, on every strategy", () => {
    const doc = {
      strategy: "cheapest",
      targets: [t("a")],
      compression: { whitespace: true, dedupe: false, trimHistory: { maxTokens: 8000, keepLastMessages: 4 } },
      parameters: { maxTokens: 4096, maxTokensByTask: { classification: 16, "my-task": 200 }, taskRules: [{ when: { metadata: { kind: "x" } }, task: "my-task" }], taskCues: false },
    };
    expect(policyDocument.safeParse(doc).error?.issues ?? []).toEqual([]);
    expect(policyDocument.parse({ targets: [t("a")], compression: {} }).compression).toEqual({});
  });

  it("rejects unknown compression fields, tiny history budgets and malformed task names", () => {
    expect(policyDocument.safeParse({ targets: [t("a")], compression: { summarize: true } }).success).toBe(false);
    expect(policyDocument.safeParse({ targets: [t("a")], compression: { trimHistory: { maxTokens: 10 } } }).success).toBe(false);
    expect(policyDocument.safeParse({ targets: [t("a")], parameters: { maxTokensByTask: { "Bad Name": 5 } } }).success).toBe(false);
    expect(policyDocument.safeParse({ targets: [t("a")], parameters: { maxTokensByTask: { classification: 0 } } }).success).toBe(false);
  });
});
