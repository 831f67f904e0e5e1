/**
 * The OpenAI Chat Completions request, validated strictly: an unknown parameter is a 400 naming it (a policy may
 * list parameters to drop instead). The parsed value is the canonical request every provider adapter receives.
 */
import { z } from "zod";
import { safeString } from "./common";

/** Upper bounds that keep one request from exhausting memory or tokenizer time. */
export const LIMITS = { messages: 10_000, tools: 128, stop: 4, n: 128, metadataKeys: 16 } as const;

const text = safeString();
const name = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -");

const textPart = z.strictObject({ type: z.literal("text"), text });
const imagePart = z.strictObject({
  type: z.literal("image_url"),
  image_url: z.strictObject({ url: safeString(), detail: z.enum(["auto", "low", "high"]).optional() }),
});
const audioPart = z.strictObject({
  type: z.literal("input_audio"),
  input_audio: z.strictObject({ data: z.string(), format: z.enum(["wav", "mp3"]) }),
});
const filePart = z.strictObject({
  type: z.literal("file"),
  file: z.strictObject({ file_data: z.string().optional(), file_id: z.string().optional(), filename: z.string().optional() }),
});
const userPart = z.discriminatedUnion("type", [textPart, imagePart, audioPart, filePart]);

const toolCall = z.strictObject({
  id: z.string().min(1).max(256),
  type: z.literal("function"),
  function: z.strictObject({ name, arguments: z.string() }),
});

const systemMessage = z.strictObject({ role: z.literal("system"), content: z.union([text, z.array(textPart).min(1)]), name: name.optional() });
const developerMessage = z.strictObject({ role: z.literal("developer"), content: z.union([text, z.array(textPart).min(1)]), name: name.optional() });
const userMessage = z.strictObject({ role: z.literal("user"), content: z.union([text, z.array(userPart).min(1)]), name: name.optional() });
const assistantMessage = z.strictObject({
  role: z.literal("assistant"),
  content: z.union([text, z.array(z.discriminatedUnion("type", [textPart, z.strictObject({ type: z.literal("refusal"), refusal: text })])), z.null()]).optional(),
  name: name.optional(),
  refusal: z.union([text, z.null()]).optional(),
  tool_calls: z.array(toolCall).max(LIMITS.tools).optional(),
});
const toolMessage = z.strictObject({
  role: z.literal("tool"),
  content: z.union([text, z.array(textPart).min(1)]),
  tool_call_id: z.string().min(1).max(256),
});

export const chatMessage = z.discriminatedUnion("role", [systemMessage, developerMessage, userMessage, assistantMessage, toolMessage]);

const jsonSchemaObject = z.record(z.string(), z.unknown());

const tool = z.strictObject({
  type: z.literal("function"),
  function: z.strictObject({
    name,
    description: safeString(100_000).optional(),
    parameters: jsonSchemaObject.optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

/** Per-request routing overrides (removed before the request goes upstream). */
export const switchyardOptions = z.strictObject({
  max_cost_usd: z.number().positive().optional(),
  max_latency_ms: z.number().int().positive().optional(),
  require: z.array(z.enum(["tools", "vision", "json", "json_schema", "reasoning", "streaming"])).optional(),
  fallbacks: z.array(z.string().min(1).max(256)).max(16).optional(),
});

export const chatCompletionRequest = z.strictObject({
  model: z.string().min(1).max(256),
  messages: z.array(chatMessage).min(1).max(LIMITS.messages),
  tools: z.array(tool).max(LIMITS.tools).optional(),
  tool_choice: z
    .union([z.enum(["none", "auto", "required"]), z.strictObject({ type: z.literal("function"), function: z.strictObject({ name }) })])
    .optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: z
    .discriminatedUnion("type", [
      z.strictObject({ type: z.literal("text") }),
      z.strictObject({ type: z.literal("json_object") }),
      z.strictObject({
        type: z.literal("json_schema"),
        json_schema: z.strictObject({
          name,
          description: safeString(100_000).optional(),
          schema: jsonSchemaObject.optional(),
          strict: z.boolean().nullable().optional(),
        }),
      }),
    ])
    .optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  stop: z.union([safeString(1_000), z.array(safeString(1_000)).max(LIMITS.stop)]).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  max_tokens: z.number().int().min(1).nullable().optional(),
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  n: z.number().int().min(1).max(LIMITS.n).nullable().optional(),
  user: safeString(256).optional(),
  metadata: z
    .record(z.string().max(64), safeString(512))
    .refine((m) => Object.keys(m).length <= LIMITS.metadataKeys, `at most ${LIMITS.metadataKeys} keys`)
    .optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.strictObject({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() }).nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullable().optional(),
  reasoning_effort: z.enum(["minimal", "low", "medium", "high"]).optional(),
  prompt_cache_key: safeString(1_024).optional(),
  safety_identifier: safeString(256).optional(),
  service_tier: z.enum(["auto", "default", "flex", "priority"]).nullable().optional(),
  store: z.boolean().nullable().optional(),
  switchyard: switchyardOptions.optional(),
});

export type ChatCompletionInput = z.infer<typeof chatCompletionRequest>;
