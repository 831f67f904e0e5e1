/**
 * The most a call can cost, before it runs: what a budget reserves. Pure.
 *
 * Upper bound = prompt tokens × the highest input-side price (input or cache write) + output tokens × the highest
 * output-side price (output or reasoning), at the most expensive target of the plan (a fallback may run there),
 * rounded up. Output tokens = choices (`n`) × the request's cap (`max_completion_tokens`, else `max_tokens`), else
 * the model's maximum output, else what its context window leaves, else FALLBACK_MAX_OUTPUT.
 *
 * Prompt tokens are counted with o200k_base (server/gateway/tokens.ts) and inflated by PROMPT_MARGIN, because other
 * providers' tokenizers count the same text into more tokens (Claude's and Gemini's run up to ~20% higher on prose).
 */
import type { CatalogModel } from "../catalog/model";
import { parseDecimal } from "../catalog/money";
import type { ChatRequest } from "../providers/types";

/** Output cap assumed for a model whose catalog entry gives neither a maximum output nor a context window. */
export const FALLBACK_MAX_OUTPUT = 32_768;
/** Prompt estimate multiplier (×5/4) covering tokenizer differences between providers. */
const PROMPT_MARGIN_NUM = 5n;
const PROMPT_MARGIN_DEN = 4n;
const PER_MILLION = 1_000_000n;

export interface CostEstimate {
  /** Prompt tokens reserved for (the o200k count with the margin). */
  promptTokens: number;
  /** Generated tokens the request may produce, all choices together. */
  outputTokens: number;
  /** Upper bound of the cost, 10^-10 USD. */
  amount: bigint;
  /** The cost of the prompt and one token per choice: with less than this left, the call cannot run at all. */
  minimum: bigint;
  /**
   * The largest per-choice output cap whose worst case fits in `grant` on every target, or null when the request's
   * own cap already fits. Only meaningful for grant ≥ minimum.
   */
  capFor(grant: bigint): number | null;
}

interface Rates {
  input: bigint;
  output: bigint;
  /** Per-choice output cap on this target. */
  perChoice: number;
}

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;

/** Input- and output-side worst-case prices of a model (USD × 10^10 per 1M tokens); zero for uncatalogued ones. */
function rates(model: CatalogModel | null, requestCap: number | null, promptTokens: number): Rates {
  if (!model) return { input: 0n, output: 0n, perChoice: requestCap ?? FALLBACK_MAX_OUTPUT };
  const p = model.prices;
  const max = (...values: Array<string | undefined>) =>
    values.filter((v): v is string => v !== undefined).map(parseDecimal).reduce((a, b) => (a > b ? a : b), 0n);
  const modelCap = model.maxOutput ?? (model.contextWindow !== null ? Math.max(1, model.contextWindow - promptTokens) : FALLBACK_MAX_OUTPUT);
  return {
    input: max(p.input, p.cacheWrite),
    output: max(p.output, p.reasoning),
    perChoice: requestCap !== null ? requestCap : modelCap,
  };
}

export function estimateMaxCost(request: ChatRequest, models: ReadonlyArray<CatalogModel | null>, o200kPromptTokens: number): CostEstimate {
  const promptTokens = Number(ceilDiv(BigInt(o200kPromptTokens) * PROMPT_MARGIN_NUM, PROMPT_MARGIN_DEN));
  const requestCap = request.max_completion_tokens ?? request.max_tokens ?? null;
  const choices = BigInt(Math.max(1, request.n ?? 1));
  const targets = (models.length > 0 ? models : [null]).map((m) => rates(m, requestCap, promptTokens));
  const prompt = BigInt(promptTokens);
  const cost = (r: Rates, perChoice: bigint) => ceilDiv(prompt * r.input + choices * perChoice * r.output, PER_MILLION);
  let amount = 0n;
  let minimum = 0n;
  let outputTokens = 0;
  for (const r of targets) {
    const c = cost(r, BigInt(r.perChoice));
    if (c > amount) amount = c;
    const m = cost(r, 1n);
    if (m > minimum) minimum = m;
    outputTokens = Math.max(outputTokens, Number(choices) * r.perChoice);
  }
  return {
    promptTokens,
    outputTokens,
    amount,
    minimum,
    capFor(grant) {
      if (amount <= grant) return null;
      let cap: bigint | null = null;
      for (const r of targets) {
        const bound = BigInt(r.perChoice);
        // cost ≤ grant ⇔ prompt·in + n·cap·out ≤ grant·1M (the cost rounds up to whole units).
        const room = grant * PER_MILLION - prompt * r.input;
        const fit = r.output === 0n ? bound : room <= 0n ? 0n : room / (choices * r.output);
        const c = fit < bound ? fit : bound;
        if (cap === null || c < cap) cap = c;
      }
      return Math.max(1, Number(cap));
    },
  };
}
