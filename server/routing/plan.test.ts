import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { policyDocument, type PolicyDocumentInput, type Requirement, type TargetRef } from "@/lib/policy";
import type { CatalogModel } from "../catalog/model";
import type { ProviderConfig } from "../gateway/config";
import type { DifficultyClassifier } from "./classifier/types";
import type { RequestFacts } from "./conditions";
import { estimateCostUsd } from "./estimate";
import { UNKNOWN_HEALTH, type TargetHealth } from "./health";
import { planRoute, unitHash, type PlanInput, type PlannerEnv, type RequestOverrides } from "./plan";
import type { RequestProfile } from "./profile";
import { targetLabel, type Target } from "./types";

interface ModelSpec {
  provider?: string;
  region?: string | null;
  input?: string;
  output?: string;
  contextWindow?: number | null;
  maxOutput?: number | null;
  caps?: Partial<Record<Requirement | "embeddings", boolean>>;
  known?: boolean;
}

function makeTarget(id: string, spec: ModelSpec = {}): Target {
  const providerName = spec.provider ?? "p";
  const provider: ProviderConfig = {
    id: `id-${providerName}`,
    orgId: "org",
    name: providerName,
    kind: "openai",
    baseUrl: "http://x",
    apiKey: null,
    allowPrivate: false,
    region: spec.region ?? null,
    config: {},
  };
  const model: CatalogModel | null =
    spec.known === false
      ? null
      : {
          kind: "openai",
          id,
          name: id,
          prices: { input: spec.input ?? "1", output: spec.output ?? "2" },
          derivedPrices: [],
          contextWindow: spec.contextWindow === undefined ? 128_000 : spec.contextWindow,
          maxOutput: spec.maxOutput === undefined ? 16_384 : spec.maxOutput,
          capabilities: { tools: true, vision: false, json: true, reasoning: false, streaming: true, embeddings: false, ...spec.caps },
          source: "custom",
          providerId: null,
          overridden: false,
          enabled: true,
        };
  return { provider, modelId: id, model };
}

function profile(over: Partial<RequestProfile> = {}): RequestProfile {
  const promptTokens = over.promptTokens ?? 100;
  return { promptTokens, promptTokensAtMost: promptTokens, maxOutputTokens: null, needs: new Set(), stream: false, lastUserText: "hello", allText: "hello", ...over };
}

function facts(over: Partial<RequestFacts> = {}, p: Partial<RequestProfile> = {}): RequestFacts {
  return { apiKeyId: "key1", teamId: "team1", user: null, metadata: {}, headers: {}, profile: profile(p), ...over };
}

function env(over: Partial<PlannerEnv> & { healthOf?: Record<string, Partial<TargetHealth>> } = {}): PlannerEnv {
  const { healthOf, ...rest } = over;
  return {
    now: 1_000_000,
    random: () => 0.5,
    health: (t) => ({ ...UNKNOWN_HEALTH, ...healthOf?.[targetLabel(t)] }),
    estimateCostUsd,
    minSamples: 5,
    ...rest,
  };
}

/** A planner input over `targets` (resolved by label), with the document parsed as the gateway would. */
function input(targets: Target[], document: PolicyDocumentInput | null, over: Partial<PlanInput> = {}): PlanInput {
  const byLabel = new Map(targets.map((t) => [targetLabel(t), t]));
  return {
    requested: "policy",
    policyName: document ? "policy" : null,
    document: document ? policyDocument.parse(document) : null,
    resolve: (ref: TargetRef) => byLabel.get(`${ref.provider}/${ref.model}`) ?? `model '${ref.model}' is unknown`,
    requestFallbacks: [],
    overrides: {},
    facts: facts(),
    ...over,
  };
}

const ref = (t: Target) => ({ provider: t.provider.name, model: t.modelId });
const labels = (decision: { candidates: Array<{ label: string }> }) => decision.candidates.map((c) => c.label);

describe("planRoute strategies", () => {
  const a = makeTarget("a", { input: "5", output: "20" });
  const b = makeTarget("b", { input: "0.1", output: "0.4" });
  const c = makeTarget("c", { input: "1", output: "4" });

  it("ordered keeps the chain; unresolvable targets are rejected with the reason", () => {
    const decision = planRoute(input([a, b], { targets: [ref(a), { provider: "p", model: "gone" }, ref(b)] }), env());
    expect(labels(decision)).toEqual(["p/a", "p/b"]);
    expect(decision.rejected).toEqual([{ label: "p/gone", reasons: ["model 'gone' is unknown"] }]);
    expect(decision.strategy).toBe("ordered");
  });

  it("cheapest ranks by the estimate for this request (prompt tokens + output cap)", () => {
    const decision = planRoute(input([a, b, c], { strategy: "cheapest", targets: [ref(a), ref(b), ref(c)] }), env());
    expect(labels(decision)).toEqual(["p/b", "p/c", "p/a"]);
    // 100 prompt tokens at $0.1/M + 512 assumed output tokens at $0.4/M.
    expect(decision.estimatedCostUsd).toBeCloseTo(100 * 0.1e-6 + 512 * 0.4e-6, 12);
  });

  it("fastest ranks by the live percentile and explores targets without statistics now and then", () => {
    const stats = (p50: number) => ({ ttft: { ewmaMs: p50, p50Ms: p50, p95Ms: p50 * 2, samples: 10 }, calls: 10 });
    const healthOf = { "p/a": stats(300), "p/b": stats(100) };
    const doc: PolicyDocumentInput = { strategy: "fastest", targets: [ref(a), ref(b), ref(c)] };
    expect(labels(planRoute(input([a, b, c], doc), env({ healthOf })))).toEqual(["p/b", "p/a", "p/c"]);
    expect(labels(planRoute(input([a, b, c], doc), env({ healthOf, random: () => 0.01 })))).toEqual(["p/c", "p/b", "p/a"]);
  });

  it("weighted follows the weights, sticky per user", () => {
    const doc: PolicyDocumentInput = { strategy: "weighted", targets: [ref(a), ref(b)], weights: [3, 1], sticky: "none" };
    const counts = { "p/a": 0, "p/b": 0 };
    for (let i = 0; i < 1000; i++) counts[labels(planRoute(input([a, b], doc), env({ random: () => i / 1000 })))[0] as "p/a"] += 1;
    expect(counts).toEqual({ "p/a": 750, "p/b": 250 });
    const sticky: PolicyDocumentInput = { strategy: "weighted", targets: [ref(a), ref(b)], weights: [3, 1], sticky: "user" };
    for (const user of ["u1", "u2", "u3"]) {
      const firsts = new Set(Array.from({ length: 5 }, (_, i) => labels(planRoute(input([a, b], sticky, { facts: facts({ user }) }), env({ random: () => i / 5 })))[0]));
      expect(firsts.size).toBe(1);
    }
    expect(unitHash("x")).toBeGreaterThanOrEqual(0);
    expect(unitHash("x")).toBeLessThan(1);
  });

  it("conditional picks the first matching rule's chain, else the default", () => {
    const doc: PolicyDocumentInput = {
      strategy: "conditional",
      targets: [ref(a)],
      rules: [
        { name: "big", when: { promptTokens: { min: 1000 } }, targets: [ref(c)] },
        { when: { metadata: { team: "gold" } }, targets: [ref(a), ref(b)], strategy: "cheapest" },
      ],
    };
    expect(planRoute(input([a, b, c], doc), env())).toMatchObject({ rule: "default", candidates: [{ label: "p/a" }] });
    expect(labels(planRoute(input([a, b, c], doc, { facts: facts({}, { promptTokens: 5_000 }) }), env()))).toEqual(["p/c"]);
    const gold = planRoute(input([a, b, c], doc, { facts: facts({ metadata: { team: "gold" } }) }), env());
    expect(gold.rule).toBe("rules[1]");
    expect(labels(gold)).toEqual(["p/b", "p/a"]);
  });

  it("cascade starts at the classifier's tier, escalates by rule, and keeps lower tiers as a last resort", () => {
    const classifier = (tier: number): DifficultyClassifier => ({ name: "fixed", classify: () => ({ tier, score: tier / 2, classifier: "fixed" }) });
    const doc: PolicyDocumentInput = { strategy: "cascade", targets: [ref(b), ref(c), ref(a)], escalate: [{ when: { metadata: { vip: "1" } }, minTier: 2 }] };
    expect(labels(planRoute(input([a, b, c], doc, { classifier: classifier(0) }), env()))).toEqual(["p/b", "p/c", "p/a"]);
    const mid = planRoute(input([a, b, c], doc, { classifier: classifier(1) }), env());
    expect(labels(mid)).toEqual(["p/c", "p/a", "p/b"]);
    expect(mid.difficulty).toMatchObject({ tier: 1, startTier: 1 });
    const vip = planRoute(input([a, b, c], doc, { classifier: classifier(0), facts: facts({ metadata: { vip: "1" } }) }), env());
    expect(labels(vip)[0]).toBe("p/a");
    expect(vip.difficulty!.detail).toMatch(/escalated to tier 2/);
  });

  it("moves cooling, degraded and slow targets after healthy ones, and rejects open circuits", () => {
    const doc: PolicyDocumentInput = { targets: [ref(a), ref(b), ref(c)], constraints: { latency: { ttftMs: 200 } } };
    const healthOf: Record<string, Partial<TargetHealth>> = {
      "p/a": { coolingUntil: 1_005_000 },
      "p/b": { breaker: "open", openUntil: 1_010_000 },
    };
    const decision = planRoute(input([a, b, c], doc), env({ healthOf }));
    expect(labels(decision)).toEqual(["p/c", "p/a"]);
    expect(decision.candidates[1]!.demoted).toEqual(["rate limited: cooling down for 5s (Retry-After)"]);
    expect(decision.rejected[0]!.reasons[0]).toMatch(/^circuit open until/);
    const slow = planRoute(input([a, b, c], doc), env({ healthOf: { "p/a": { ttft: { ewmaMs: 900, p50Ms: 800, p95Ms: 900, samples: 20 } }, "p/b": { calls: 10, failures: 4, errorRate: 0.4 } } }));
    expect(labels(slow)).toEqual(["p/c", "p/a", "p/b"]);
    expect(slow.candidates[1]!.demoted).toEqual(["p95 time to first token 900ms is over the 200ms budget"]);
    expect(slow.candidates[2]!.demoted).toEqual(["degraded: 40% errors over the window"]);
  });

  it("applies the request's own needs to policy targets but not to the model the client named", () => {
    const blind = makeTarget("blind", { caps: { vision: false } });
    const seeing = makeTarget("seeing", { caps: { vision: true } });
    const needsVision = facts({}, { needs: new Set<Requirement>(["vision"]) });
    const policy = planRoute(input([blind, seeing], { targets: [ref(blind), ref(seeing)] }, { facts: needsVision }), env());
    expect(labels(policy)).toEqual(["p/seeing"]);
    expect(policy.rejected).toEqual([{ label: "p/blind", reasons: ["the request needs vision, which the model lacks"] }]);
    const direct = planRoute(input([blind], null, { direct: blind, facts: needsVision }), env());
    expect(labels(direct)).toEqual(["p/blind"]);
    expect(direct.strategy).toBe("direct");
  });

  it("checks the context window and max output against the request", () => {
    const small = makeTarget("small", { contextWindow: 4_000, maxOutput: 1_000 });
    const large = makeTarget("large", { contextWindow: 200_000, maxOutput: 8_000 });
    const decision = planRoute(input([small, large], { targets: [ref(small), ref(large)] }, { facts: facts({}, { promptTokens: 3_500, maxOutputTokens: 2_000 }) }), env());
    expect(labels(decision)).toEqual(["p/large"]);
    expect(decision.rejected[0]!.reasons).toEqual(["prompt 3500 + output 2000 tokens exceed the context window of 4000", "max output 2000 tokens exceeds the model's 1000"]);
  });

  it("tightens the policy with request overrides and applies the max_tokens cap to estimates", () => {
    const doc: PolicyDocumentInput = { targets: [ref(a), ref(b)], constraints: { maxCostUsd: 1 }, parameters: { maxTokens: 100 } };
    const decision = planRoute(input([a, b], doc, { overrides: { maxCostUsd: 0.0005 } }), env());
    expect(decision.constraints).toMatchObject({ maxCostUsd: 0.0005, maxOutputTokens: 100, outputTokens: 100 });
    // a: 100 × $5/M + 100 × $20/M = $0.0025 > $0.0005.
    expect(labels(decision)).toEqual(["p/b"]);
    expect(decision.rejected[0]!.reasons[0]).toMatch(/^estimated \$0.00250 exceeds the max cost of \$0.0005$/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Properties

const REQS: Requirement[] = ["tools", "vision", "json", "json_schema", "reasoning", "streaming"];
const PROVIDERS = ["p1", "p2", "p3"];
const REGIONS = ["eu", "us", null];

/** Mostly true: so that a fair share of scenarios keep candidates (an empty plan proves nothing). */
const likely = fc.constantFrom(true, true, true, false);
/** Absent three times out of four. */
const sometimes = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: arb, weight: 1 });

const targetArb = fc.record({
  provider: fc.constantFrom(...PROVIDERS),
  region: fc.constantFrom(...REGIONS),
  input: fc.constantFrom("0", "0.1", "1", "3", "15"),
  output: fc.constantFrom("0", "0.4", "4", "15", "75"),
  contextWindow: fc.option(fc.integer({ min: 500, max: 200_000 }), { nil: null, freq: 4 }),
  maxOutput: fc.option(fc.integer({ min: 100, max: 64_000 }), { nil: null, freq: 4 }),
  caps: fc.record({ tools: likely, vision: likely, json: likely, reasoning: likely, streaming: likely }),
  known: likely,
  health: fc.record({
    breaker: fc.constantFrom("closed", "closed", "closed", "open", "half_open"),
    cooling: fc.boolean(),
    errorRate: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
});

const scenarioArb = fc.record({
  targets: fc.array(targetArb, { minLength: 1, maxLength: 6 }),
  strategy: fc.constantFrom("ordered", "cheapest", "fastest", "weighted", "cascade"),
  require: fc.oneof({ arbitrary: fc.constant([] as Requirement[]), weight: 2 }, { arbitrary: fc.subarray(REQS, { maxLength: 2 }), weight: 1 }),
  needs: fc.oneof({ arbitrary: fc.constant([] as Requirement[]), weight: 2 }, { arbitrary: fc.subarray(REQS, { maxLength: 2 }), weight: 1 }),
  maxCostUsd: sometimes(fc.double({ min: 1e-5, max: 0.1, noNaN: true, noDefaultInfinity: true }).map((x) => Math.round(x * 1e6) / 1e6 || 1e-5)),
  overrideCost: sometimes(fc.constantFrom(0.00005, 0.0002, 0.001, 0.005, 0.02, 0.1)),
  allow: sometimes(fc.subarray(PROVIDERS, { minLength: 1 })),
  deny: sometimes(fc.subarray(PROVIDERS, { minLength: 1 })),
  regionAllow: sometimes(fc.subarray(["eu", "us"], { minLength: 1 })),
  promptTokens: fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 150_000 })),
  maxOutputTokens: fc.option(fc.integer({ min: 1, max: 50_000 }), { nil: null }),
  cap: sometimes(fc.integer({ min: 1, max: 20_000 })),
  draw: fc.double({ min: 0, max: 0.999, noNaN: true }),
  tier: fc.integer({ min: 0, max: 5 }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario) {
  const targets = s.targets.map((t, i) => makeTarget(`m${i}`, t));
  const health = new Map(
    targets.map((t, i) => {
      const h = s.targets[i]!.health;
      return [
        targetLabel(t),
        {
          ...UNKNOWN_HEALTH,
          breaker: h.breaker,
          openUntil: h.breaker === "closed" ? null : 2_000_000,
          coolingUntil: h.cooling ? 1_500_000 : null,
          calls: 10,
          failures: h.errorRate * 10,
          errorRate: h.errorRate,
        } as TargetHealth,
      ];
    }),
  );
  const refs = targets.map(ref);
  const common = {
    targets: refs,
    constraints: {
      require: s.require,
      ...(s.maxCostUsd !== undefined ? { maxCostUsd: s.maxCostUsd } : {}),
      providers: { ...(s.allow ? { allow: s.allow } : {}), ...(s.deny ? { deny: s.deny } : {}) },
      ...(s.regionAllow ? { regions: { allow: s.regionAllow } } : {}),
    },
    ...(s.cap !== undefined ? { parameters: { maxTokens: s.cap } } : {}),
  };
  const doc: PolicyDocumentInput =
    s.strategy === "weighted"
      ? { ...common, strategy: "weighted", weights: refs.map((_, i) => i + 1), sticky: "none" }
      : s.strategy === "cascade"
        ? { ...common, strategy: "cascade", targets: refs.length > 1 ? refs : [refs[0]!, refs[0]!] }
        : { ...common, strategy: s.strategy };
  const overrides: RequestOverrides = s.overrideCost !== undefined ? { maxCostUsd: s.overrideCost } : {};
  const classifier: DifficultyClassifier = { name: "fixed", classify: (_p, tiers) => ({ tier: Math.min(s.tier, tiers - 1), score: 0.5, classifier: "fixed" }) };
  const plannerInput = input(targets, doc, { overrides, classifier, facts: facts({}, { promptTokens: s.promptTokens, maxOutputTokens: s.maxOutputTokens, needs: new Set(s.needs) }) });
  const plannerEnv = env({ health: (t) => health.get(targetLabel(t))!, random: () => s.draw });
  return { targets, plannerInput, plannerEnv };
}

/** An independent statement of the hard constraints (not the planner's own code). */
function violations(target: Target, s: Scenario): string[] {
  const out: string[] = [];
  const spec = s.targets[Number(target.modelId.slice(1))]!;
  if (s.allow && !s.allow.includes(spec.provider)) out.push("provider not allowed");
  if (s.deny?.includes(spec.provider)) out.push("provider denied");
  if (s.regionAllow && !(spec.region && s.regionAllow.includes(spec.region))) out.push("region");
  const caps = target.model?.capabilities;
  const has = (r: Requirement) => (caps ? (r === "json_schema" || r === "json" ? caps.json : caps[r]) : null);
  for (const r of s.require) if (has(r) !== true) out.push(`requires ${r}`);
  if (caps) for (const r of s.needs) if (has(r) === false) out.push(`needs ${r}`);
  const output = s.maxOutputTokens !== null && s.cap !== undefined ? Math.min(s.maxOutputTokens, s.cap) : (s.maxOutputTokens ?? s.cap ?? null);
  if (target.model?.contextWindow != null && s.promptTokens + (output ?? 0) > target.model.contextWindow) out.push("context");
  if (output !== null && target.model?.maxOutput != null && output > target.model.maxOutput) out.push("max output");
  if (spec.health.breaker === "open") out.push("open circuit");
  return out;
}

describe("planRoute properties", () => {
  it("never returns a candidate that violates a hard constraint", () => {
    let planned = 0;
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { plannerInput, plannerEnv } = build(s);
        const decision = planRoute(plannerInput, plannerEnv);
        if (decision.candidates.length > 0) planned += 1;
        for (const c of [...decision.candidates, ...decision.fallbacks.contextLength, ...decision.fallbacks.contentFilter]) {
          expect(violations(c.target, s), c.label).toEqual([]);
        }
      }),
      { numRuns: 400 },
    );
    expect(planned).toBeGreaterThan(100); // most runs must have something to check
  });

  it("never exceeds the cost ceiling (policy or request, whichever is lower) with any candidate", () => {
    let checked = 0;
    // Every run has a ceiling; the other constraints stay out of the way so plans are rarely empty.
    const withCeiling = scenarioArb.map((s) => ({ ...s, require: [], needs: [], allow: undefined, deny: undefined, regionAllow: undefined, maxCostUsd: s.maxCostUsd ?? 0.002 }));
    fc.assert(
      fc.property(withCeiling, (s) => {
        const { plannerInput, plannerEnv } = build(s);
        const decision = planRoute(plannerInput, plannerEnv);
        const ceilings = [s.maxCostUsd, s.overrideCost].filter((x): x is number => x !== undefined);
        if (ceilings.length === 0) return;
        if (decision.candidates.length > 0) checked += 1;
        const ceiling = Math.min(...ceilings);
        for (const c of decision.candidates) {
          expect(c.estimatedCostUsd).not.toBeNull();
          expect(c.estimatedCostUsd!).toBeLessThanOrEqual(ceiling);
        }
        expect(decision.estimatedCostUsd ?? 0).toBeLessThanOrEqual(ceiling);
      }),
      { numRuns: 400 },
    );
    expect(checked).toBeGreaterThan(50);
  });

  it("accounts for every target exactly once, and is deterministic", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { targets, plannerInput, plannerEnv } = build(s);
        const decision = planRoute(plannerInput, plannerEnv);
        const seen = [...labels(decision), ...decision.rejected.map((r) => r.label)];
        expect(new Set(seen).size).toBe(seen.length);
        expect(new Set(seen)).toEqual(new Set(targets.map(targetLabel)));
        expect(planRoute(plannerInput, plannerEnv)).toEqual(decision);
      }),
      { numRuns: 200 },
    );
  });
});

describe("prefix-sticky routing", () => {
  // Cache-read prices make the sticky target's cached prefix cheaper than its list price suggests.
  const a = makeTarget("a", { provider: "pa", input: "1", output: "2" });
  const b = makeTarget("b", { provider: "pb", input: "1", output: "2" });
  const c = makeTarget("c", { provider: "pc", input: "0.5", output: "1" });
  const withCacheRead = (t: Target, cacheRead: string): Target => ({ ...t, model: { ...t.model!, prices: { ...t.model!.prices, cacheRead } } });
  const idOf = (t: Target) => `${t.provider.id}:${t.modelId}`;
  const sticky = (t: Target, prefixTokens = 2000) => ({ sticky: { targetId: idOf(t), prefixTokens } });
  const big = { facts: facts({}, { promptTokens: 3000, promptTokensAtMost: 3000 }) };

  it("ordered and direct plans never reorder: the chain is the admin's preference", () => {
    const doc: PolicyDocumentInput = { targets: [ref(a), ref(b)] };
    expect(labels(planRoute(input([a, b], doc, { ...big, ...sticky(b) }), env()))).toEqual(["pa/a", "pb/b"]);
  });

  it("cheapest: the sticky target goes first when its estimate with the prefix at its cache-read rate is no higher", () => {
    const doc = (x: Target, y: Target): PolicyDocumentInput => ({ strategy: "cheapest", targets: [ref(x), ref(y)] });
    // Equal prices: b (sticky) goes first.
    const tie = planRoute(input([a, b], doc(a, b), { ...big, ...sticky(b) }), env());
    expect(labels(tie)).toEqual(["pb/b", "pa/a"]);
    expect(tie.candidates[0]!.notes.join()).toContain("prefix-sticky");
    // c is cheaper by (3000·0.5 + 512·1)/1M = $0.002012; b's cache discount (2000 tokens × (1 − 0.1)/1M = $0.0018) is not enough …
    const b1 = withCacheRead(b, "0.1");
    expect(labels(planRoute(input([c, b1], doc(c, b1), { ...big, ...sticky(b1) }), env()))).toEqual(["pc/c", "pb/b"]);
    // … but with a 3000-token cached prefix ($0.0027) it is.
    expect(labels(planRoute(input([c, b1], doc(c, b1), { ...big, ...sticky(b1, 3000) }), env()))).toEqual(["pb/b", "pc/c"]);
    // Without a cache-read price there is no discount: the cheaper target stays first.
    expect(labels(planRoute(input([c, b], doc(c, b), { ...big, ...sticky(b, 3000) }), env()))).toEqual(["pc/c", "pb/b"]);
  });

  it("cheapest: a cost ceiling still rejects the sticky target", () => {
    const doc: PolicyDocumentInput = { strategy: "cheapest", targets: [ref(c), ref(a)], constraints: { maxCostUsd: 0.003 } };
    const decision = planRoute(input([a, c], doc, { ...big, ...sticky(a) }), env());
    expect(labels(decision)).toEqual(["pc/c"]);
    expect(decision.rejected.map((r) => r.label)).toEqual(["pa/a"]);
  });

  it("fastest: the sticky target goes first only within the latency tolerance", () => {
    const stats = (p50: number) => ({ ttft: { ewmaMs: p50, p50Ms: p50, p95Ms: p50 * 2, samples: 10 }, calls: 10 });
    const doc: PolicyDocumentInput = { strategy: "fastest", targets: [ref(a), ref(b)] };
    expect(labels(planRoute(input([a, b], doc, sticky(b)), env({ healthOf: { "pa/a": stats(100), "pb/b": stats(120) } })))).toEqual(["pb/b", "pa/a"]);
    expect(labels(planRoute(input([a, b], doc, sticky(b)), env({ healthOf: { "pa/a": stats(100), "pb/b": stats(200) } })))).toEqual(["pa/a", "pb/b"]);
  });

  it("weighted: the sticky target replaces the draw unless its weight is 0", () => {
    const doc: PolicyDocumentInput = { strategy: "weighted", targets: [ref(a), ref(b)], weights: [9, 1], sticky: "none" };
    for (const r of [0.1, 0.5, 0.95]) expect(labels(planRoute(input([a, b], doc, sticky(b)), env({ random: () => r })))[0]).toBe("pb/b");
    const zero: PolicyDocumentInput = { strategy: "weighted", targets: [ref(a), ref(b)], weights: [1, 0], sticky: "none" };
    expect(labels(planRoute(input([a, b], zero, sticky(b)), env()))[0]).toBe("pa/a");
  });

  it("health still wins: a degraded sticky target goes after the healthy ones; a client fallback is never promoted", () => {
    const doc: PolicyDocumentInput = { strategy: "cheapest", targets: [ref(a), ref(b)] };
    const degraded = { calls: 10, failures: 5, errorRate: 0.5 };
    expect(labels(planRoute(input([a, b], doc, { ...big, ...sticky(b) }), env({ healthOf: { "pb/b": degraded } })))).toEqual(["pa/a", "pb/b"]);
    const fallback = planRoute(input([a, b], { strategy: "cheapest", targets: [ref(a)] }, { ...big, requestFallbacks: [b], ...sticky(b) }), env());
    expect(labels(fallback)).toEqual(["pa/a", "pb/b"]);
  });

  it("never breaks a hard constraint (property): the sticky target is first only when it is an eligible candidate", () => {
    fc.assert(
      fc.property(fc.constantFrom("ordered", "cheapest", "fastest", "weighted"), fc.integer({ min: 0, max: 2 }), fc.boolean(), (strategy, pick, deny) => {
        const targets = [a, b, c];
        const doc: PolicyDocumentInput =
          strategy === "weighted"
            ? { strategy, targets: targets.map(ref), weights: [1, 1, 1], sticky: "none", ...(deny ? { constraints: { providers: { deny: [targets[pick]!.provider.name] } } } : {}) }
            : { strategy: strategy as "ordered", targets: targets.map(ref), ...(deny ? { constraints: { providers: { deny: [targets[pick]!.provider.name] } } } : {}) };
        const decision = planRoute(input(targets, doc, { ...big, ...sticky(targets[pick]!) }), env());
        if (deny) expect(decision.candidates.map((x) => x.label)).not.toContain(targetLabel(targets[pick]!));
      }),
    );
  });
});
