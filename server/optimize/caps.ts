/**
 * Output caps per policy and per task type (`parameters.maxTokens`, `parameters.maxTokensByTask` in
 * lib/policy.ts). Pure.
 *
 * The task type of a request, first answer wins:
 * 1. the `x-switchyard-task` header (the client says what it is doing);
 * 2. the policy's `parameters.taskRules` (conditions as in conditional routing);
 * 3. built-in cues, unless `parameters.taskCues` is false — cheap and visible in the call log (`route.cap.source`):
 *    - classification: a JSON schema whose answer is a closed choice (a top-level `enum`, or an object whose 1–4
 *      properties are all enums or booleans); or an instruction in the system text or the last user message that
 *      starts a sentence with "classify", "categorize"/"categorise" or "label this/the/each…", or asks to answer "with one word",
 *      "with a single word", "with yes or no", "with only the label/category", "with one of";
 *    - extraction: any other JSON `response_format` (json_schema or json_object); a `tool_choice` forcing one
 *      function (structured output through a tool); or a sentence starting with "extract".
 *
 * The cap in force is the smaller of the policy-wide cap and the task's cap. It lowers `max_completion_tokens`
 * (else `max_tokens`) when the request asks for more, and sets `max_completion_tokens` when it asks for nothing.
 * Task caps are not applied to requests that ask for reasoning (`reasoning_effort` other than "none"): reasoning
 * tokens count against the cap, so a classification-sized cap would cut the answer off.
 */
import { taskName, type PolicyDocument } from "@/lib/policy";
import { decimalToString } from "../catalog/money";
import { computeCost } from "../ledger/cost";
import type { ChatRequest, JsonSchema } from "../providers/types";
import { matchCondition, type RequestFacts } from "../routing/conditions";
import type { Target } from "../routing/types";

/** Header naming the task type of a request. */
export const TASK_HEADER = "x-switchyard-task";
/** Text the prompt cues read, per part (system text, last user message). */
const CUE_CHARS = 4_000;

export interface TaskVerdict {
  task: string;
  /** "header", "rule:<index>", or "cue:<what matched>". */
  source: string;
}

/** The cap decided for one request, before it runs. */
export interface CapDecision {
  task: string | null;
  source: string | null;
  /** The cap in force (output tokens per choice). */
  cap: number;
  /** Where the cap came from: the policy-wide `maxTokens` or the task's entry in `maxTokensByTask`. */
  from: "policy" | "task";
  /** What the client asked for (max_completion_tokens, else max_tokens), null when nothing. */
  requested: number | null;
  /** True when the request was lowered to (or given) the cap. */
  applied: boolean;
}

/** The call log's `route.cap`: the decision and how the answer ended. */
export interface CapRecord extends CapDecision {
  finishReason: string | null;
  /**
   * `within`: the cap was applied and the answer finished before it (it truncated nothing);
   * `truncated`: the cap was applied and the answer stopped at it (finish_reason "length");
   * `not-applied`: the request already asked for no more than the cap;
   * `unfinished`: applied, but no answer finished (an error, a cut stream, the client left).
   */
  outcome: "within" | "truncated" | "not-applied" | "unfinished";
  /**
   * For `within`: output tokens the budget reservation no longer had to hold (the client's max, else the model's
   * maximum output, minus the cap, times the choices) and their price at the target. Budget headroom, NOT spend:
   * an answer that finished within the cap would have been the same without it.
   */
  headroomTokens: number | null;
  headroomUsd: string | null;
}

const CLASSIFY_SENTENCE = /(?:^|[.!?:;]\s+|\n\s*)(?:please\s+)?(?:classify|categori[sz]e|label\s+(?:this|these|the|each|every|it)\b)/i;
const CLASSIFY_ANSWER = /\b(?:answer|respond|reply|output)\s+(?:only\s+)?with\s+(?:one word|a single word|yes or no|only the (?:label|category|class)|one of)\b/i;
const EXTRACT_SENTENCE = /(?:^|[.!?:;]\s+|\n\s*)(?:please\s+)?extract\b/i;

function closedChoice(schema: JsonSchema | undefined): boolean {
  if (!schema) return false;
  if (Array.isArray(schema.enum)) return true;
  const properties = schema.properties;
  if (typeof properties !== "object" || properties === null) return false;
  const values = Object.values(properties as Record<string, JsonSchema>);
  return values.length >= 1 && values.length <= 4 && values.every((p) => typeof p === "object" && p !== null && (Array.isArray(p.enum) || p.type === "boolean"));
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content.slice(0, CUE_CHARS);
  if (!Array.isArray(content)) return "";
  return content
    .map((part: { type?: string; text?: string }) => (part.type === "text" ? (part.text ?? "") : ""))
    .join("\n")
    .slice(0, CUE_CHARS);
}

/** The built-in cues (see the module comment); null when none matches. */
export function taskCue(request: ChatRequest): TaskVerdict | null {
  const format = request.response_format;
  if (format?.type === "json_schema" && closedChoice(format.json_schema.schema)) return { task: "classification", source: "cue:response_format" };
  const system = request.messages.filter((m) => m.role === "system" || m.role === "developer").map((m) => textOf(m.content)).join("\n").slice(0, CUE_CHARS);
  const lastUser = request.messages.findLast((m) => m.role === "user");
  const texts = [system, lastUser ? textOf(lastUser.content) : ""];
  if (texts.some((t) => CLASSIFY_SENTENCE.test(t) || CLASSIFY_ANSWER.test(t))) return { task: "classification", source: "cue:prompt" };
  if (format?.type === "json_schema" || format?.type === "json_object") return { task: "extraction", source: "cue:response_format" };
  const choice = request.tool_choice;
  if (typeof choice === "object" && choice !== null && choice.type === "function") return { task: "extraction", source: "cue:tool_choice" };
  if (texts.some((t) => EXTRACT_SENTENCE.test(t))) return { task: "extraction", source: "cue:prompt" };
  return null;
}

/** The request's task type per the policy (header, rules, cues), or null. */
export function detectTask(document: PolicyDocument, request: ChatRequest, headers: Headers, facts: RequestFacts | null): TaskVerdict | null {
  const header = headers.get(TASK_HEADER)?.trim().toLowerCase();
  if (header && taskName.safeParse(header).success) return { task: header, source: "header" };
  const rules = document.parameters?.taskRules ?? [];
  if (facts) {
    const index = rules.findIndex((rule) => matchCondition(rule.when, facts));
    if (index >= 0) return { task: rules[index]!.task, source: `rule:${index}` };
  }
  return document.parameters?.taskCues === false ? null : taskCue(request);
}

/** The cap for this request, or null when the policy sets none that applies. */
export function decideCap(document: PolicyDocument | null, request: ChatRequest, headers: Headers, facts: RequestFacts | null): CapDecision | null {
  const parameters = document?.parameters;
  if (!document || !parameters || (parameters.maxTokens === undefined && !parameters.maxTokensByTask)) return null;
  const reasoning = request.reasoning_effort != null && request.reasoning_effort !== "none";
  const verdict = parameters.maxTokensByTask ? detectTask(document, request, headers, facts) : null;
  const taskCap = verdict && !reasoning ? parameters.maxTokensByTask?.[verdict.task] : undefined;
  const policyCap = parameters.maxTokens;
  if (taskCap === undefined && policyCap === undefined) return null;
  const fromTask = taskCap !== undefined && (policyCap === undefined || taskCap <= policyCap);
  const cap = fromTask ? taskCap! : policyCap!;
  const requested = request.max_completion_tokens ?? request.max_tokens ?? null;
  return {
    task: verdict?.task ?? null,
    source: verdict?.source ?? null,
    cap,
    from: fromTask ? "task" : "policy",
    requested,
    applied: requested === null || requested > cap,
  };
}

/** The request with the cap in force (unchanged when it already asks for no more). */
export function applyCap(request: ChatRequest, decision: CapDecision): ChatRequest {
  if (!decision.applied) return request;
  const out: ChatRequest = { ...request };
  if (out.max_completion_tokens != null) out.max_completion_tokens = decision.cap;
  else if (out.max_tokens != null) out.max_tokens = decision.cap;
  else out.max_completion_tokens = decision.cap;
  return out;
}

/** How a capped call ended, for the call log (see CapRecord). */
export function capRecord(decision: CapDecision, finishReason: string | null | undefined, target: Target | null, choices = 1): CapRecord {
  const finish = finishReason ?? null;
  const outcome: CapRecord["outcome"] = !decision.applied ? "not-applied" : finish === null ? "unfinished" : finish === "length" ? "truncated" : "within";
  let headroomTokens: number | null = null;
  let headroomUsd: string | null = null;
  const ceiling = decision.requested ?? target?.model?.maxOutput ?? null;
  if (outcome === "within" && ceiling !== null && ceiling > decision.cap) {
    headroomTokens = (ceiling - decision.cap) * Math.max(1, choices);
    if (target?.model) {
      headroomUsd = decimalToString(computeCost({ input: 0, cachedInput: 0, cacheWrite: 0, output: headroomTokens, reasoning: 0 }, target.model.prices).total);
    }
  }
  return { ...decision, finishReason: finish, outcome, headroomTokens, headroomUsd };
}
