/**
 * End-to-end savings replay (issue #8): `npm run -s bench:savings [-- --requests N] [--train N] [--seed S] [--chart]
 * [--quick]`. Prints ONE JSON object on stdout (progress on stderr): `savings_pct`, `quality_retained`, cost per
 * lever, and baseline vs actual per workload segment.
 *
 * A real Switchyard (server/start.ts: runtime, gateway, call log, batch worker; embedded database in a temp dir)
 * runs in this process in front of the provider simulator (deterministic answers, real token counts, prompt
 * caching, batch APIs). Upstream models are the simulator's catalog mirrors, priced exactly like the real ones:
 * `sim-claude` = Claude Sonnet 4 (the flagship), `sim-small` = GPT-4o mini (the cheap tier). Every policy names
 * the flagship as its `reference`, so the call log's `baselineCostUsd` is "the same tokens at the flagship's catalog
 * prices, no caching" — the comparison the issue asks for — and every figure below is summed from the call rows
 * (the baseline is also recomputed from the rows' tokens as a check).
 *
 * The workload (shares of requests, chosen before any run; README "Savings replay"):
 * - support   40%: a support bot (flagship only, exact + semantic response cache) answering a stream of questions
 *                  built from ../shared/data/qqp-dev.jsonl: new questions, exact repeats of earlier ones,
 *                  paraphrases (pairs labelled duplicate) and look-alikes that ask something else (non-duplicates).
 *                  Quality: an answer served for a different question (read from the answer, which quotes the
 *                  question it answered) is wrong; everything else is right.
 * - routed    25%: mixed-difficulty prompts (../shared/data/routing/routellm-dev.jsonl) through a `cascade` policy
 *                  (GPT-4o mini → flagship) with the learned classifier. Quality from the labels: the model that
 *                  answered was right or wrong on that prompt.
 * - long_ctx  20%: the same kind of prompts behind one long static system prompt (~4.1k tokens), same policy:
 *                  provider prompt caching (Anthropic cache_control breakpoints, OpenAI prompt_cache_key) on top of
 *                  routing.
 * - batch     15%: non-urgent jobs of the same kind (another disjoint slice of the routing prompts) sent with
 *                  `x-switchyard-defer` to the same cascade policy: the batch tier plans every line with the live
 *                  planner (the same trained classifier picks its tier), then runs it through that tier's provider
 *                  batch API at batch prices. Quality from the labels of the model that answered, as above.
 * In every labelled segment the answering model is read from the call row's route (its final target).
 * One policy (`assistant`) serves all three labelled segments, so they share one classifier and one feedback set
 * (learned cascades are trained per policy, from that policy's feedback). It is trained first, through the public
 * API, on a training split disjoint from every replayed prompt: each training prompt is sent once forced to the
 * cheap tier and once to the strong tier, the label of the tier that answered (read from the call row) is posted to
 * POST /api/v1/feedback, then the policy is trained from that feedback (`routingFor(rt).classifiers.train`). No
 * replayed prompt's label is ever posted: the labels of replayed prompts are used only to score the answers.
 *
 * Prompt compression (issue #8's other lever) is switched on, lossless (`compression: {}`), on every policy when
 * the gateway's policy schema has the option (COMPRESSION_AVAILABLE); its savings column is summed with the others
 * (the lever table sums every `savings*` column of the call log). Output caps are not configured: the ledger books
 * no spend savings for a cap by definition, and a cap that cut a scored answer short would be a quality loss.
 * TODO(savings): a workload segment with long multi-turn histories would exercise the lossy `trimHistory` option,
 * but its quality cost cannot be scored from these data sets.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { decimalToString, parseDecimal } from "../server/catalog/money";
import { applyConfig } from "../server/cli/apply";
import { loadEnv } from "../server/env";
import { createApiKey } from "../server/keys/service";
import { computeCost } from "../server/ledger/cost";
import { createLogger } from "../server/obs/log";
import { quoteOf } from "../server/providers/simulator/compose";
import { startSimulator, type Simulator } from "../server/providers/simulator";
import { configureRouting, routingFor } from "../server/routing";
import { mulberry32 } from "../server/routing/classifier/logistic";
import { runningResponseCache } from "../server/cache/response-cache";
import type { Runtime } from "../server/runtime";
import { startSwitchyard, type Switchyard } from "../server/start";
import { ensureDefaultTenant } from "../server/tenant";
import { policyDocument } from "../lib/policy";
import { readJsonLines, type PairRow } from "./cache";
import { readRows } from "./routing";

const ROOT = path.resolve(import.meta.dirname, "..");
const DATA = path.resolve(ROOT, "../shared/data");
export const CHART_FILE = path.join(ROOT, "bench/savings.svg");

export const TARGET = { minSavingsPct: 70, minQualityRetained: 0.95 } as const;

/** Shares of requests per segment (a support-heavy product mix; see the module comment). */
export const WEIGHTS = { support: 0.4, routed: 0.25, long_ctx: 0.2, batch: 0.15 } as const;
export type Segment = keyof typeof WEIGHTS;
const SEGMENTS = Object.keys(WEIGHTS) as Segment[];

/** Support traffic: what each next question is (shares of the support stream). */
export const SUPPORT_MIX = { new: 0.45, repeat: 0.25, paraphrase: 0.2, lookalike: 0.1 } as const;

/** The flagship every request is compared with, and the cheap tier, as the simulator's catalog mirrors name them. */
const FLAGSHIP = { provider: "sim-anthropic", model: "sim-claude", mirrors: "anthropic/claude-sonnet-4-20250514" } as const;
const CHEAP = { provider: "sim-openai", model: "sim-small", mirrors: "openai/gpt-4o-mini" } as const;
/** Length of every routed / batch answer (simulator directive); support answers keep the simulator's short default. */
const ANSWER_TOKENS = 150;
/** A per-request cost ceiling that only the cheap tier meets: how training prompts are sent to the cheap tier. */
const CHEAP_ONLY_MAX_COST_USD = 0.002;
const FORCE_STRONG_HEADER = "x-bench-tier";

export interface SavingsOptions {
  /** Replayed requests over all segments (split by WEIGHTS). */
  requests: number;
  /** Training prompts for the classifier (each sent twice: cheap tier and strong tier). */
  train: number;
  seed: number;
  dataDir?: string;
  progress?: (line: string) => void;
  /** Called with the running server before it stops (tests inspect the call log). */
  inspect?: (ctx: { rt: Runtime; apiKeyIds: Record<Segment, string> }) => Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Data

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

interface RoutedRow {
  prompt: string;
  strong_correct: boolean;
  weak_correct: boolean;
}

export interface SupportQuestion {
  text: string;
  kind: keyof typeof SUPPORT_MIX;
  /** Questions with the same class ask the same thing (QQP duplicate labels). */
  cls: number;
}

/**
 * The support stream: each next question is new (a pair's `a`), an exact repeat of an earlier question (popular
 * ones more often), a paraphrase of an earlier `a` (its pair is labelled duplicate) or a look-alike that asks
 * something else (the `b` of a pair labelled non-duplicate). Deterministic for a seed.
 */
export function supportStream(pairs: readonly PairRow[], n: number, random: () => number): SupportQuestion[] {
  const order = shuffled(pairs, random);
  const classOf = new Map<string, number>();
  const cls = (text: string) => {
    const key = text.trim().toLowerCase();
    let c = classOf.get(key);
    if (c === undefined) classOf.set(key, (c = classOf.size));
    return c;
  };
  const asked: SupportQuestion[] = [];
  const openDuplicates: PairRow[] = [];
  const openLookalikes: PairRow[] = [];
  let next = 0;
  const out: SupportQuestion[] = [];
  while (out.length < n) {
    const r = random();
    let q: SupportQuestion | null = null;
    if (asked.length >= 5 && r >= SUPPORT_MIX.new) {
      if (r < SUPPORT_MIX.new + SUPPORT_MIX.repeat) {
        // Popularity: earlier (FAQ-like) questions come back more often.
        const prior = asked[Math.floor(asked.length * random() ** 2)]!;
        q = { text: prior.text, kind: "repeat", cls: prior.cls };
      } else if (r < SUPPORT_MIX.new + SUPPORT_MIX.repeat + SUPPORT_MIX.paraphrase) {
        const pair = openDuplicates.splice(Math.floor(random() * openDuplicates.length), 1)[0];
        if (pair) {
          const c = cls(pair.a);
          classOf.set(pair.b.trim().toLowerCase(), c);
          q = { text: pair.b, kind: "paraphrase", cls: c };
        }
      } else {
        const pair = openLookalikes.splice(Math.floor(random() * openLookalikes.length), 1)[0];
        if (pair) q = { text: pair.b, kind: "lookalike", cls: cls(pair.b) };
      }
    }
    if (!q) {
      const pair = order[next++ % order.length]!;
      q = { text: pair.a, kind: "new", cls: cls(pair.a) };
      (pair.duplicate ? openDuplicates : openLookalikes).push(pair);
    }
    asked.push(q);
    out.push(q);
  }
  return out;
}

const SUPPORT_SYSTEM =
  "You are the help-desk assistant of a questions-and-answers community. Answer the member's question in a friendly, " +
  "factual way, in at most three short paragraphs. If the question is about the site's rules, quote the rule.";

/** A long static system prompt (~4.1k o200k tokens): the same for every call of the long-context segment. */
export function longSystemPrompt(): string {
  const subjects = ["arithmetic", "algebra", "geometry", "statistics", "physics", "chemistry", "biology", "history", "law", "economics", "philosophy", "computer science"];
  const habits = [
    "restate what is being asked in one sentence before answering",
    "name the concept the question tests and recall its definition",
    "work through the problem step by step, keeping units and signs",
    "eliminate answer options that contradict a known fact, one at a time",
    "check the final answer against the question's constraints",
    "say which option is correct and why the closest distractor is wrong",
  ];
  const lines = ["# Tutor handbook", "You are a patient tutor for students preparing for exams. Follow this handbook in every answer.", ""];
  subjects.forEach((subject, s) => {
    lines.push(`## ${s + 1}. Questions on ${subject}`);
    habits.forEach((habit, h) => {
      lines.push(`${s + 1}.${h + 1} For ${subject}, ${habit}; when the student's wording is ambiguous, state the reading you chose and keep to it. Prefer the textbook convention used in ${subject} courses, and mention a common mistake students make at this step.`);
    });
    lines.push("");
  });
  lines.push("Finish with a line 'Answer: <option or number>'.");
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Server

/**
 * Lossless prompt compression (`compression: {}`: whitespace and duplicate removal), on every policy when this
 * gateway's policy schema has the option. Output caps are not configured: the ledger counts no spend savings for a
 * cap by definition (server/ledger/README.md), and a cap that truncates a scored answer would be a quality loss.
 */
export const COMPRESSION_AVAILABLE = policyDocument.safeParse({ targets: [{ provider: "p", model: "m" }], compression: {} }).success;

function configDocument(simUrl: string, minSamples: number) {
  const flagship = { provider: FLAGSHIP.provider, model: FLAGSHIP.model };
  const compression = COMPRESSION_AVAILABLE ? { compression: {} } : {};
  return {
    version: 1,
    providers: [
      { name: CHEAP.provider, kind: "simulator", baseUrl: `${simUrl}/openai/v1`, allowPrivate: true, config: { protocol: "openai" } },
      { name: FLAGSHIP.provider, kind: "simulator", baseUrl: `${simUrl}/anthropic/v1`, allowPrivate: true, config: { protocol: "anthropic" } },
    ],
    policies: [
      { name: "support-bot", targets: [flagship], reference: flagship, ...compression },
      {
        name: "assistant",
        strategy: "cascade",
        targets: [{ provider: CHEAP.provider, model: CHEAP.model }, flagship],
        reference: flagship,
        ...compression,
        classifier: { kind: "learned", minQualityRatio: 0.95, minSamples },
        // Training only: the header sends a prompt to the strong tier so both tiers get labelled.
        escalate: [{ when: { headers: { [FORCE_STRONG_HEADER]: "^strong$" } }, minTier: 1 }],
      },
    ],
    cacheRules: [{ name: "support-answers", policy: "support-bot", exact: true, semantic: true, ttlSeconds: 86_400 }],
  };
}

interface Started {
  sim: Simulator;
  app: Switchyard;
  dir: string;
  orgId: string;
  keys: Record<Segment | "trainer", { id: string; key: string }>;
}

async function startServers(minSamples: number, progress: (line: string) => void): Promise<Started> {
  const sim = await startSimulator({ recordLimit: 100, batch: { polls: 1, durationMs: 0 } });
  const dir = mkdtempSync(path.join(os.tmpdir(), "switchyard-bench-savings-"));
  try {
    const env = loadEnv({
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "error",
      NODE_ENV: "production",
      SWITCHYARD_NO_UI: "1",
      SWITCHYARD_DATA_DIR: dir,
      SWITCHYARD_MIGRATIONS_DIR: path.join(ROOT, "prisma/migrations"),
      SWITCHYARD_SECRET: "5a".repeat(32),
    });
    const app = await startSwitchyard(env, { log: createLogger({ level: "error", destination: process.stderr }), ui: false, seedDemo: false });
    // Background retraining every 50 feedback samples is switched off: the replay trains once, explicitly.
    configureRouting(app.rt, { retrainEvery: 1_000_000_000 });
    // Deferred requests: a short grouping window and quick polls (timing only; prices and routing are unchanged).
    app.rt.batch.configure({ tickMs: 100, deferWindowMs: 300, pollInitialMs: 200, pollMaxMs: 1_000, pollFactor: 1.5 });
    const db = app.rt.db.prisma;
    const tenant = await ensureDefaultTenant(db);
    await applyConfig(db, app.rt.secrets, configDocument(sim.url, minSamples), {});
    await app.rt.snapshot.refresh();
    await runningResponseCache(app.rt)?.reload();
    const keys = {} as Started["keys"];
    for (const name of [...SEGMENTS, "trainer"] as const) {
      const created = await createApiKey(db, { ...tenant, name: `bench-savings-${name}` });
      keys[name] = { id: created.record.id, key: created.key };
    }
    progress(`switchyard at ${app.url}, simulator at ${sim.url}`);
    return { sim, app, dir, orgId: tenant.orgId, keys };
  } catch (error) {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

interface Reply {
  status: number;
  headers: Headers;
  body: { choices?: Array<{ message?: { content?: string | null } }>; id?: string; error?: unknown };
}

async function post(app: Switchyard, key: string, route: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${app.url}/api/v1${route}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Reply["body"] };
}

async function pool<T>(items: readonly T[], concurrency: number, run: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await run(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

function expectOk(reply: Reply, what: string): void {
  if (reply.status < 200 || reply.status > 299) throw new Error(`${what}: HTTP ${reply.status} ${JSON.stringify(reply.body).slice(0, 300)}`);
}

const routedMessages = (prompt: string, system?: string) => [
  ...(system ? [{ role: "system", content: system }] : []),
  { role: "user", content: `${prompt}\n[[sim:tokens=${ANSWER_TOKENS}]]` },
];

// ---------------------------------------------------------------------------------------------------------------
// Phases

/** Sends every training prompt to both tiers, posts each answer's label as feedback, and trains the policy. */
async function trainClassifier(s: Started, rows: RoutedRow[], progress: (line: string) => void) {
  const { app, keys } = s;
  const started = performance.now();
  const sends = rows.flatMap((row, i) => [
    { i, tier: "strong" as const, row },
    { i, tier: "cheap" as const, row },
  ]);
  await pool(sends, 8, async ({ i, tier, row }) => {
    const body = { model: "assistant", user: `train-${i}-${tier}`, messages: routedMessages(row.prompt), ...(tier === "cheap" ? { switchyard: { max_cost_usd: CHEAP_ONLY_MAX_COST_USD } } : {}) };
    expectOk(await post(app, keys.trainer.key, "/chat/completions", body, tier === "strong" ? { [FORCE_STRONG_HEADER]: "strong" } : {}), "training call");
  });
  progress(`classifier: ${sends.length} training calls in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await app.rt.calls.flush();
  const calls = await app.rt.db.prisma.call.findMany({ where: { apiKeyId: keys.trainer.id }, select: { id: true, endUser: true, route: true } });
  const byUser = new Map(calls.map((c) => [c.endUser, c]));
  let posted = 0;
  const tiers = [0, 0];
  // Sequential, in split order: the stored feedback (and so the cross-validation folds) is the same every run.
  for (const { i, tier, row } of sends) {
    const call = byUser.get(`train-${i}-${tier}`);
    const answeredTier = (call?.route as { tier?: number } | null)?.tier;
    if (!call || (answeredTier !== 0 && answeredTier !== 1)) throw new Error(`training call train-${i}-${tier} has no cascade tier in the call log`);
    tiers[answeredTier]! += 1;
    const right = answeredTier === 1 ? row.strong_correct : row.weak_correct;
    expectOk(await post(app, keys.trainer.key, "/feedback", { call_id: call.id, label: right ? "pass" : "fail" }), "feedback");
    posted += 1;
  }
  progress(`classifier: ${rows.length} training prompts, ${posted} feedback labels (tier 0: ${tiers[0]}, tier 1: ${tiers[1]})`);
  const metrics = await routingFor(app.rt).classifiers.train(s.orgId, "assistant");
  if (!metrics) throw new Error("the cascade policy could not be trained from its feedback");
  return {
    training_prompts: rows.length,
    feedback_labels: posted,
    labelled_per_tier: metrics.labelled,
    threshold: Math.round(metrics.threshold * 10_000) / 10_000,
    cv_quality_ratio: round(metrics.qualityRatio),
    cv_strong_share: round(metrics.tierShares[1] ?? 0),
    seconds: round((performance.now() - started) / 1000, 1),
  };
}

interface SupportOutcome {
  cache: string;
  /** The answer served was written for a question of another class. */
  wrong: boolean;
}

async function replaySupport(s: Started, questions: SupportQuestion[]): Promise<SupportOutcome[]> {
  // Which question an answer was written for: the simulator's answer quotes the first words of its question.
  const classesOfQuote = new Map<string, Set<number>>();
  for (const q of questions) {
    const quote = quoteOf(q.text.replace(/\s+/g, " ").trim());
    let set = classesOfQuote.get(quote);
    if (!set) classesOfQuote.set(quote, (set = new Set()));
    set.add(q.cls);
  }
  const out: SupportOutcome[] = [];
  // One at a time, in order: whether a question finds an earlier answer must not depend on timing.
  for (const [i, q] of questions.entries()) {
    const reply = await post(s.app, s.keys.support.key, "/chat/completions", {
      model: "support-bot",
      user: `support-${i}`,
      messages: [
        { role: "system", content: SUPPORT_SYSTEM },
        { role: "user", content: `${q.text}\n[[sim:tokens=${ANSWER_TOKENS}]]` },
      ],
    });
    expectOk(reply, "support call");
    const text = reply.body.choices?.[0]?.message?.content ?? "";
    // `…: you said "<quote>".` then filler; the quote may itself contain `".`, so every end is tried.
    const start = text.indexOf('you said "') + 'you said "'.length;
    let served: Set<number> | undefined;
    for (let end = text.indexOf('".', start); start >= 10 && end >= 0 && !served; end = text.indexOf('".', end + 1)) {
      served = classesOfQuote.get(text.slice(start, end));
    }
    out.push({ cache: reply.headers.get("x-switchyard-cache") ?? "none", wrong: !served || !served.has(q.cls) });
  }
  return out;
}

async function replayRouted(s: Started, segment: "routed" | "long_ctx", rows: RoutedRow[]): Promise<void> {
  const system = segment === "long_ctx" ? longSystemPrompt() : undefined;
  // One at a time: the first call per model writes the provider's prompt cache, later ones read it.
  for (const [i, row] of rows.entries()) {
    expectOk(await post(s.app, s.keys[segment].key, "/chat/completions", { model: "assistant", user: `${segment}-${i}`, messages: routedMessages(row.prompt, system) }), `${segment} call`);
  }
}

async function replayBatch(s: Started, rows: RoutedRow[], progress: (line: string) => void): Promise<number> {
  const started = performance.now();
  await pool(rows, 4, async (row, i) => {
    // The same cascade policy as the routed segments (and so the same trained classifier): the batch tier plans
    // each deferred line with the live planner, then sends it through its tier's provider batch API.
    const reply = await post(s.app, s.keys.batch.key, "/chat/completions", { model: "assistant", user: `batch-${i}`, messages: routedMessages(row.prompt) }, { "x-switchyard-defer": "3600" });
    if (reply.status !== 202) throw new Error(`deferred request: expected 202, got ${reply.status} ${JSON.stringify(reply.body).slice(0, 300)}`);
  });
  progress(`batch: ${rows.length} deferred requests accepted; waiting for the batch tier`);
  const deadline = Date.now() + 240_000;
  for (;;) {
    await s.app.rt.calls.flush();
    const done = await s.app.rt.db.prisma.call.count({ where: { apiKeyId: s.keys.batch.id } });
    if (done >= rows.length) break;
    if (Date.now() > deadline) throw new Error(`batch tier: only ${done} of ${rows.length} deferred requests finished in time`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return (performance.now() - started) / 1000;
}

// ---------------------------------------------------------------------------------------------------------------
// Figures from the call log

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;
const usd = (units: bigint) => Number(decimalToString(units));

type CallRow = Record<string, unknown> & {
  endUser: string | null;
  status: number;
  model: string | null;
  batch: boolean;
  cacheOutcome: string | null;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
};

/** The savings columns of the call log (`savingsRoutingUsd` → `routing`), found on the rows themselves. */
function leverColumns(row: Record<string, unknown>): string[] {
  return Object.keys(row).filter((k) => /^savings[A-Z]\w*Usd$/.test(k));
}

const LEVER_NAMES: Record<string, string> = {
  savingsRoutingUsd: "routing",
  savingsCacheUsd: "response_cache",
  savingsPromptCacheUsd: "prompt_cache",
  savingsBatchUsd: "batch",
  savingsCapsUsd: "output_caps",
};
const leverName = (column: string) => LEVER_NAMES[column] ?? column.replace(/^savings/, "").replace(/Usd$/, "").replace(/[A-Z]/g, (c, i) => (i ? "_" : "") + c.toLowerCase());

interface Money {
  baseline: bigint;
  actual: bigint;
  levers: Map<string, bigint>;
}

function sumRows(rows: CallRow[], columns: string[]): Money & { inconsistent: number } {
  const money: Money & { inconsistent: number } = { baseline: 0n, actual: 0n, levers: new Map(columns.map((c) => [c, 0n])), inconsistent: 0 };
  for (const row of rows) {
    const baseline = parseDecimal(String(row.baselineCostUsd ?? "0"));
    const actual = parseDecimal(String(row.costUsd ?? "0"));
    let levers = 0n;
    for (const c of columns) {
      const v = parseDecimal(String(row[c] ?? "0"));
      levers += v;
      money.levers.set(c, money.levers.get(c)! + v);
    }
    // Every row must add up: baseline − actual = the sum of its levers.
    if (baseline - actual !== levers) money.inconsistent += 1;
    money.baseline += baseline;
    money.actual += actual;
  }
  return money;
}

function moneyReport(m: Money) {
  const pct = (x: bigint) => (m.baseline === 0n ? 0 : round((Number(x) / Number(m.baseline)) * 100, 2));
  return {
    baseline_usd: usd(m.baseline),
    actual_usd: usd(m.actual),
    saved_usd: usd(m.baseline - m.actual),
    savings_pct: pct(m.baseline - m.actual),
    levers: Object.fromEntries([...m.levers].map(([c, v]) => [leverName(c), { saved_usd: usd(v), pct_of_baseline: pct(v) }])),
  };
}

// ---------------------------------------------------------------------------------------------------------------

export async function runSavingsReplay(options: SavingsOptions) {
  const say = options.progress ?? (() => {});
  const cpu0 = process.cpuUsage();
  // Progress lines carry the CPU time used so far (this process runs the gateway and the simulator).
  const progress = (line: string) => {
    const used = process.cpuUsage(cpu0);
    say(`${line} [cpu ${((used.user + used.system) / 1e6).toFixed(1)} s]`);
  };
  const started = performance.now();
  const dataDir = options.dataDir ?? DATA;
  const random = mulberry32(options.seed);
  const sizes = Object.fromEntries(SEGMENTS.map((seg) => [seg, Math.max(1, Math.round(options.requests * WEIGHTS[seg]))])) as Record<Segment, number>;

  // Disjoint splits of the routing data: training, then one slice per replayed segment.
  const routing = shuffled(readRows(path.join(dataDir, "routing/routellm-dev.jsonl")), random);
  const need = options.train + sizes.routed + sizes.long_ctx + sizes.batch;
  if (need > routing.length) throw new Error(`needs ${need} routing prompts, the file has ${routing.length}`);
  let at = 0;
  const take = (n: number) => routing.slice(at, (at += n));
  const split = { train: take(options.train), routed: take(sizes.routed), long_ctx: take(sizes.long_ctx), batch: take(sizes.batch) };
  const questions = supportStream(readJsonLines<PairRow>(path.join(dataDir, "qqp-dev.jsonl")), sizes.support, random);
  progress(`samples: ${JSON.stringify({ ...sizes, training_prompts: options.train })}`);

  const s = await startServers(Math.max(20, Math.min(200, Math.floor(options.train / 2))), progress);
  try {
    const classifier = await trainClassifier(s, split.train, progress);
    progress(`classifier trained: threshold ${classifier.threshold}, cross-validated quality ratio ${classifier.cv_quality_ratio}`);

    const timings: Record<string, number> = {};
    let t = performance.now();
    const support = await replaySupport(s, questions);
    timings.support = (performance.now() - t) / 1000;
    progress(`support: ${support.length} questions in ${timings.support.toFixed(1)} s`);
    t = performance.now();
    await replayRouted(s, "routed", split.routed);
    timings.routed = (performance.now() - t) / 1000;
    t = performance.now();
    await replayRouted(s, "long_ctx", split.long_ctx);
    timings.long_ctx = (performance.now() - t) / 1000;
    progress(`routed: ${split.routed.length}, long context: ${split.long_ctx.length} calls`);
    timings.batch = await replayBatch(s, split.batch, progress);

    await s.app.rt.calls.flush();
    const db = s.app.rt.db.prisma;
    const rowsBySegment = {} as Record<Segment, CallRow[]>;
    for (const seg of SEGMENTS) {
      rowsBySegment[seg] = (await db.call.findMany({ where: { apiKeyId: s.keys[seg].id } })) as unknown as CallRow[];
      if (rowsBySegment[seg].length !== sizes[seg]) throw new Error(`${seg}: expected ${sizes[seg]} call rows, found ${rowsBySegment[seg].length}`);
    }
    const allRows = SEGMENTS.flatMap((seg) => rowsBySegment[seg]);
    const columns = leverColumns(allRows[0]!);

    // Quality: per request, the flagship's expected correctness (baseline) and what was served (achieved).
    const quality = {} as Record<Segment, { baseline: number; achieved: number }>;
    const segmentDetail = {} as Record<Segment, Record<string, unknown>>;
    {
      let wrong = 0;
      const outcomes: Record<string, number> = {};
      const wrongByKind: Record<string, number> = {};
      support.forEach((o, i) => {
        outcomes[o.cache] = (outcomes[o.cache] ?? 0) + 1;
        if (o.wrong) {
          wrong += 1;
          wrongByKind[questions[i]!.kind] = (wrongByKind[questions[i]!.kind] ?? 0) + 1;
        }
      });
      const kinds: Record<string, number> = {};
      for (const q of questions) kinds[q.kind] = (kinds[q.kind] ?? 0) + 1;
      quality.support = { baseline: support.length, achieved: support.length - wrong };
      segmentDetail.support = { questions_by_kind: kinds, cache_outcomes: outcomes, wrong_answers: wrong, wrong_by_kind: wrongByKind };
    }
    for (const seg of ["routed", "long_ctx", "batch"] as const) {
      const rows = split[seg];
      let baseline = 0;
      let achieved = 0;
      let strong = 0;
      let failed = 0;
      const byUser = new Map(rowsBySegment[seg].map((r) => [r.endUser, r]));
      rows.forEach((row, i) => {
        const call = byUser.get(`${seg}-${i}`);
        if (!call) throw new Error(`${seg}-${i}: no call row`);
        baseline += Number(row.strong_correct);
        if (call.status !== 200) {
          failed += 1;
          return;
        }
        // Which model answered: the final target of the row's route (a batch line's too), checked against its model.
        const answered = (call.route as { target?: string } | null)?.target;
        const flagship = answered === `${FLAGSHIP.provider}/${FLAGSHIP.model}`;
        if (!flagship && answered !== `${CHEAP.provider}/${CHEAP.model}`) throw new Error(`${seg}-${i}: answered by ${answered ?? "no target"}`);
        if (call.model !== (flagship ? FLAGSHIP.model : CHEAP.model)) throw new Error(`${seg}-${i}: route target ${answered} but model ${call.model}`);
        strong += Number(flagship);
        achieved += Number(flagship ? row.strong_correct : row.weak_correct);
      });
      quality[seg] = { baseline, achieved };
      const cachedInput = rowsBySegment[seg].reduce((n, r) => n + Number(r.cachedInputTokens ?? 0), 0);
      const input = rowsBySegment[seg].reduce((n, r) => n + r.inputTokens, 0);
      const classifiers: Record<string, number> = {};
      for (const r of rowsBySegment[seg]) {
        const name = (r.route as { difficulty?: { classifier?: string } } | null)?.difficulty?.classifier;
        if (name) classifiers[name] = (classifiers[name] ?? 0) + 1;
      }
      segmentDetail[seg] = {
        flagship_share: round(strong / rows.length),
        ...(Object.keys(classifiers).length > 0 ? { routed_by: classifiers } : {}),
        failed_calls: failed,
        cached_input_token_share: round(cachedInput / Math.max(1, input)),
        ...(seg === "batch"
          ? {
              batch_rows: rowsBySegment[seg].filter((r) => r.batch).length,
              // Lines a provider batch API answered (billed at batch prices); the rest ran directly at list prices.
              provider_batch_lines: rowsBySegment[seg].filter((r) => (r.route as { mode?: string } | null)?.mode === "provider-batch").length,
            }
          : {}),
      };
    }

    // Cross-check: the baseline recomputed from each row's tokens at the flagship's catalog prices, uncached.
    const org = s.app.rt.snapshot.current().orgs.get(s.orgId)!;
    const flagshipModel = org.catalog.get("simulator", FLAGSHIP.model)!;
    let recomputed = 0n;
    for (const r of allRows) {
      // Compression: the baseline is the prompt as the client wrote it (the row's route keeps the tokens removed).
      const removed = Number((r.route as { compression?: { tokensSaved?: number } } | null)?.compression?.tokensSaved ?? 0);
      recomputed += computeCost({ input: r.inputTokens + removed, cachedInput: 0, cacheWrite: 0, output: r.outputTokens, reasoning: r.reasoningTokens }, flagshipModel.prices).total;
    }

    const total = sumRows(allRows, columns);
    const totalQuality = SEGMENTS.reduce((q, seg) => ({ baseline: q.baseline + quality[seg].baseline, achieved: q.achieved + quality[seg].achieved }), { baseline: 0, achieved: 0 });
    const segments = Object.fromEntries(
      SEGMENTS.map((seg) => {
        const m = sumRows(rowsBySegment[seg], columns);
        const q = quality[seg];
        return [
          seg,
          {
            weight: WEIGHTS[seg],
            requests: sizes[seg],
            ...moneyReport(m),
            quality: { baseline: round(q.baseline / sizes[seg]), achieved: round(q.achieved / sizes[seg]), retained: round(q.achieved / Math.max(1, q.baseline)) },
            ...segmentDetail[seg],
            seconds: round(timings[seg]!, 1),
          },
        ];
      }),
    );
    const overall = moneyReport(total);
    const qualityRetained = round(totalQuality.achieved / totalQuality.baseline);
    // The labelled prompts alone (every segment the cascade routes): pooling them with the support bot, whose answers
    // are nearly all right, flatters the routing.
    const labelled = (["routed", "long_ctx", "batch"] as const).reduce((q, seg) => ({ baseline: q.baseline + quality[seg].baseline, achieved: q.achieved + quality[seg].achieved }), { baseline: 0, achieved: 0 });
    const catalogPrices = (model: string) => {
      const p = org.catalog.get("simulator", model)!.prices;
      return { input: p.input, output: p.output, cache_read: p.cacheRead ?? null, cache_write: p.cacheWrite ?? null, batch_input: p.batchInput ?? null, batch_output: p.batchOutput ?? null };
    };
    if (options.inspect) await options.inspect({ rt: s.app.rt, apiKeyIds: Object.fromEntries(SEGMENTS.map((seg) => [seg, s.keys[seg].id])) as Record<Segment, string> });
    return {
      savings_pct: overall.savings_pct,
      quality_retained: qualityRetained,
      cascade_quality: { right_answers: labelled.achieved, flagship_right_answers: labelled.baseline, retained: round(labelled.achieved / Math.max(1, labelled.baseline)) },
      target: { min_savings_pct: TARGET.minSavingsPct, min_quality_retained: TARGET.minQualityRetained },
      meets_target: overall.savings_pct >= TARGET.minSavingsPct && qualityRetained >= TARGET.minQualityRetained,
      baseline_usd: overall.baseline_usd,
      actual_usd: overall.actual_usd,
      saved_usd: overall.saved_usd,
      levers: overall.levers,
      lever_notes: {
        compression: COMPRESSION_AVAILABLE ? "lossless compression ({}) on every policy; these prompts carry little redundant whitespace or repetition" : "TODO: this gateway has no `compression` policy option yet",
        output_caps: "not configured: the ledger books no spend savings for caps (budget headroom only), and a cap that truncates a scored answer would cost quality",
      },
      baseline_definition: `every request on ${FLAGSHIP.mirrors} (simulator ${FLAGSHIP.model}) at catalog prices, same tokens, no response or prompt caching, no batch`,
      weights: WEIGHTS,
      samples: { ...sizes, total: SEGMENTS.reduce((n, seg) => n + sizes[seg], 0), training_prompts: options.train },
      segments,
      models: {
        flagship: { target: `${FLAGSHIP.provider}/${FLAGSHIP.model}`, priced_as: FLAGSHIP.mirrors, usd_per_1m: catalogPrices(FLAGSHIP.model) },
        cheap_tier: { target: `${CHEAP.provider}/${CHEAP.model}`, priced_as: CHEAP.mirrors, usd_per_1m: catalogPrices(CHEAP.model) },
      },
      classifier,
      support_mix: SUPPORT_MIX,
      ledger: {
        call_rows: allRows.length,
        rows_not_adding_up: total.inconsistent,
        baseline_recomputed_usd: usd(recomputed),
        baseline_matches_recomputed: recomputed === total.baseline,
      },
      seed: options.seed,
      seconds: round((performance.now() - started) / 1000, 1),
      cpu_seconds: round(((cpu) => (cpu.user + cpu.system) / 1e6)(process.cpuUsage(cpu0)), 1),
    };
  } finally {
    await s.app.stop().catch(() => {});
    await s.sim.close().catch(() => {});
    rmSync(s.dir, { recursive: true, force: true });
  }
}

export type SavingsReport = Awaited<ReturnType<typeof runSavingsReplay>>;

// ---------------------------------------------------------------------------------------------------------------
// Chart

const escapeXml = (text: string) => text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);

/** A horizontal bar chart: baseline vs actual cost per segment and in total, per 1,000 requests of the mix. */
export function renderChart(report: SavingsReport): string {
  const perK = (usdAmount: number) => (usdAmount / report.samples.total) * 1000;
  const labels: Record<Segment, string> = { support: "Support bot (response cache)", routed: "Mixed difficulty (cascade)", long_ctx: "Long system prompt (cascade + prompt cache)", batch: "Background jobs (cascade + batch tier)" };
  const bars = [
    ...SEGMENTS.map((seg) => ({ label: `${labels[seg]} · ${Math.round(WEIGHTS[seg] * 100)}% of requests`, seg: report.segments[seg] as { baseline_usd: number; actual_usd: number; savings_pct: number; quality: { retained: number } } })),
    { label: "Whole workload", seg: { baseline_usd: report.baseline_usd, actual_usd: report.actual_usd, savings_pct: report.savings_pct, quality: { retained: report.quality_retained } } },
  ];
  const max = Math.max(...bars.map((b) => perK(b.seg.baseline_usd)));
  const width = 900;
  const left = 20;
  const plot = 560;
  const rowH = 74;
  const top = 86;
  const leverSummary = Object.entries(report.levers)
    .filter(([, l]) => l.saved_usd > 0)
    .sort((a, b) => b[1].saved_usd - a[1].saved_usd)
    .map(([name, l]) => `${name.replace(/_/g, " ")} ${l.pct_of_baseline}%`)
    .join(", ");
  const height = top + bars.length * rowH + 40;
  const x = (v: number) => (v / max) * plot;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${left}" y="26" font-size="17" font-weight="600">Savings replay: ${report.savings_pct}% saved, ${round(report.quality_retained * 100, 1)}% quality retained (target ≥ ${TARGET.minSavingsPct}% at ≥ ${TARGET.minQualityRetained * 100}%: ${report.meets_target ? "met" : "not met"})</text>`,
    `<text x="${left}" y="46" fill="#555">USD per 1,000 requests of the mix · grey: all on the flagship (${escapeXml(report.models.flagship.priced_as.split("/").pop()!)}), no caching · blue: Switchyard</text>`,
    `<text x="${left}" y="64" fill="#555">Saved by lever (share of the baseline): ${escapeXml(leverSummary)}</text>`,
  ];
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const base = perK(b.seg.baseline_usd);
    const actual = perK(b.seg.actual_usd);
    const bold = i === bars.length - 1 ? ' font-weight="600"' : "";
    parts.push(`<text x="${left}" y="${y + 12}"${bold}>${escapeXml(b.label)}</text>`);
    parts.push(`<rect x="${left}" y="${y + 18}" width="${x(base).toFixed(1)}" height="18" fill="#c8ccd2"/>`);
    parts.push(`<text x="${left + x(base) + 6}" y="${y + 32}" fill="#444">$${base.toFixed(2)}</text>`);
    parts.push(`<rect x="${left}" y="${y + 40}" width="${Math.max(1, x(actual)).toFixed(1)}" height="18" fill="#2563eb"/>`);
    parts.push(`<text x="${left + Math.max(1, x(actual)) + 6}" y="${y + 54}" fill="#1e3a8a">$${actual.toFixed(2)} · −${b.seg.savings_pct}% · quality ${round(b.seg.quality.retained * 100, 1)}%</text>`);
  });
  parts.push(`<text x="${left}" y="${height - 14}" fill="#777" font-size="11">npm run -s bench:savings -- --chart · ${report.samples.total} requests, seed ${report.seed}; target ≥ ${TARGET.minSavingsPct}% saved at ≥ ${TARGET.minQualityRetained * 100}% quality</text>`);
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: "string" },
      train: { type: "string" },
      seed: { type: "string" },
      chart: { type: "boolean", default: false },
      "chart-file": { type: "string" },
      quick: { type: "boolean", default: false },
    },
  });
  const int = (value: string | undefined, fallback: number, flag: string, min: number) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} must be an integer ≥ ${min}`);
    return n;
  };
  const quick = values.quick ?? false;
  const report = await runSavingsReplay({
    requests: int(values.requests, quick ? 60 : 2_000, "requests", 4),
    train: int(values.train, quick ? 120 : 2_000, "train", 40),
    seed: int(values.seed, 1, "seed", 0),
    progress: (line) => process.stderr.write(`[bench:savings] ${line}\n`),
  });
  if (values.chart || values["chart-file"]) {
    const file = path.resolve(values["chart-file"] ?? CHART_FILE);
    writeFileSync(file, renderChart(report));
    process.stderr.write(`[bench:savings] chart written to ${path.relative(process.cwd(), file)}\n`);
  }
  process.stdout.write(`${JSON.stringify({ ...report, quick }, null, 2)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    process.stderr.write(`bench:savings failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
