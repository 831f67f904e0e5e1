/**
 * Fault injection. A fault comes from the `x-sim-fault` request header (one request) or from a schedule that
 * tests — or another process, through the admin API — fill in advance: each rule matches requests by
 * protocol, model, operation and streaming, and applies to the next N matching requests or to all of them.
 */
import { z } from "zod";

export const FAULT_KINDS = [
  "rate_limit",
  "server_error",
  "unavailable",
  "timeout",
  "slow_first_byte",
  "reset",
  "stream_cut",
  "stream_stall",
  "malformed_chunk",
  "context_length",
  "content_filter",
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];
export type Protocol = "openai" | "anthropic" | "gemini";
/** What a request asks for: generation, embeddings, token counting, model listing, Gemini cache management. */
export type Operation = "chat" | "embeddings" | "count_tokens" | "models" | "cache";

const faultSpecShape = {
  fault: z.enum(FAULT_KINDS),
  /** rate_limit: `retry-after` header, in seconds. */
  retryAfterSeconds: z.number().nonnegative().optional(),
  /** rate_limit: `retry-after-ms` header (OpenAI only; its SDK prefers it). */
  retryAfterMs: z.number().nonnegative().optional(),
  /** slow_first_byte: extra delay before anything is sent, in ms (default 1000). */
  delayMs: z.number().int().nonnegative().optional(),
  /** stream_cut / stream_stall / malformed_chunk: chunks sent before the fault (default 2). */
  afterChunks: z.number().int().nonnegative().optional(),
  /** unavailable: HTTP status; 529 renders Anthropic's overloaded_error status (default 503). */
  status: z.number().int().min(400).max(599).optional(),
  /** content_filter: "prompt" rejects the request, "output" (default) stops the reply part-way. */
  on: z.enum(["prompt", "output"]).optional(),
};

export const faultSpecSchema = z.object(faultSpecShape);
export type FaultSpec = z.infer<typeof faultSpecSchema>;

export const faultRuleSchema = z.object({
  ...faultSpecShape,
  protocol: z.enum(["openai", "anthropic", "gemini"]).optional(),
  /** Exact model id, or a glob with `*` (e.g. "claude-*"). */
  model: z.string().min(1).optional(),
  /** Default: generation and embeddings only, so listing models or managing caches is never hit by surprise. */
  operation: z.enum(["chat", "embeddings", "count_tokens", "models", "cache"]).optional(),
  /** Only streaming (true) or only non-streaming (false) requests. */
  stream: z.boolean().optional(),
  /** How many matching requests the rule applies to (default 1), or "always". */
  times: z.union([z.number().int().positive(), z.literal("always")]).optional(),
});
export type FaultRule = z.input<typeof faultRuleSchema>;

export interface ScheduledFault extends z.infer<typeof faultRuleSchema> {
  id: string;
  /** Requests still to be faulted, or "always". */
  remaining: number | "always";
}

export interface FaultTarget {
  protocol: Protocol;
  operation: Operation;
  model?: string;
  stream: boolean;
}

const DEFAULT_OPERATIONS: readonly Operation[] = ["chat", "embeddings"];

function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes("*")) return pattern === value;
  const regex = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return regex.test(value);
}

function matches(rule: ScheduledFault, target: FaultTarget): boolean {
  if (rule.protocol && rule.protocol !== target.protocol) return false;
  if (rule.operation ? rule.operation !== target.operation : !DEFAULT_OPERATIONS.includes(target.operation)) return false;
  if (rule.stream !== undefined && rule.stream !== target.stream) return false;
  if (rule.model && !(target.model && globMatch(rule.model, target.model))) return false;
  return true;
}

function specOf(rule: ScheduledFault): FaultSpec {
  const { fault, retryAfterSeconds, retryAfterMs, delayMs, afterChunks, status, on } = rule;
  return faultSpecSchema.parse({ fault, retryAfterSeconds, retryAfterMs, delayMs, afterChunks, status, on });
}

/** The fault schedule of one simulator. */
export class FaultController {
  #rules: ScheduledFault[] = [];
  #seq = 0;

  /** Schedules a fault; throws a ZodError for an invalid rule. Rules are tried in the order they were added. */
  add(rule: FaultRule): ScheduledFault {
    const parsed = faultRuleSchema.parse(rule);
    this.#seq += 1;
    const scheduled: ScheduledFault = { ...parsed, id: `fault_${this.#seq}`, remaining: parsed.times ?? 1 };
    this.#rules.push(scheduled);
    return { ...scheduled };
  }

  list(): ScheduledFault[] {
    return this.#rules.map((r) => ({ ...r }));
  }

  remove(id: string): boolean {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((r) => r.id !== id);
    return this.#rules.length < before;
  }

  clear(): void {
    this.#rules = [];
  }

  /** The fault for this request, consuming one use of the first matching rule. */
  take(target: FaultTarget): FaultSpec | undefined {
    const rule = this.#rules.find((r) => matches(r, target));
    if (!rule) return undefined;
    if (rule.remaining !== "always") {
      rule.remaining -= 1;
      if (rule.remaining <= 0) this.#rules = this.#rules.filter((r) => r !== rule);
    }
    return specOf(rule);
  }
}

const HEADER_PARAMS: Record<string, keyof FaultSpec> = {
  "retry-after": "retryAfterSeconds",
  "retry-after-ms": "retryAfterMs",
  delay: "delayMs",
  after: "afterChunks",
  status: "status",
  on: "on",
};

/**
 * Parses `x-sim-fault: kind[; param=value]*`, e.g. `rate_limit; retry-after=2`, `stream_cut; after=3`,
 * `unavailable; status=529`, `content_filter; on=prompt`. Throws on an unknown kind or parameter.
 */
export function parseFaultHeader(value: string): FaultSpec {
  const [kind = "", ...params] = value.split(";").map((s) => s.trim());
  const spec: Record<string, unknown> = { fault: kind };
  for (const param of params) {
    if (!param) continue;
    const [rawKey = "", rawValue = ""] = param.split("=", 2).map((s) => s.trim());
    const key = HEADER_PARAMS[rawKey.toLowerCase()];
    if (!key) throw new Error(`unknown x-sim-fault parameter "${rawKey}"`);
    spec[key] = key === "on" ? rawValue : Number(rawValue);
  }
  const parsed = faultSpecSchema.safeParse(spec);
  if (!parsed.success) throw new Error(`invalid x-sim-fault "${value}": ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}
