/**
 * The contract every provider adapter passes (OpenAI, Anthropic, Gemini and the compatible family run the same
 * cases against fixtures written from each API's documented wire format). Pure: no network.
 */
import { ChatCompletionStream } from "openai/lib/ChatCompletionStream";
import { describe, expect, it } from "vitest";
import { AppError } from "../gateway/errors";
import type { HttpRequestSpec, ProviderAdapter, SseEvent } from "./adapter";
import {
  normalizeUsage,
  UpstreamError,
  type ChatChunk,
  type ChatParam,
  type ChatRequest,
  type NormalizedUsage,
  type UpstreamErrorKind,
  type UpstreamTarget,
} from "./types";

export const TEST_KEY = "sk-test-0123456789abcdefghijklmnop";

/** system + user text + image + an earlier tool round trip + tools: the request every adapter must map. */
export const REPRESENTATIVE_REQUEST: ChatRequest = {
  model: "support-bot",
  messages: [
    { role: "system", content: "You are terse." },
    {
      role: "user",
      content: [
        { type: "text", text: "What is the weather where this photo was taken?" },
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
      ],
    },
    {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
    },
    { role: "tool", tool_call_id: "call_1", content: '{"temp_c":21}' },
  ],
  tools: [
    {
      type: "function",
      function: {
        name: "get_weather",
        description: "Current weather for a city",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
    },
  ],
  tool_choice: "auto",
  temperature: 0.5,
  max_tokens: 256,
  stop: ["END"],
};

export interface ErrorCase {
  status: number;
  body: string;
  headers?: Record<string, string>;
  kind: UpstreamErrorKind;
  retryAfterMs?: number;
}

export interface AdapterFixture {
  adapter: ProviderAdapter;
  target: UpstreamTarget;
  /** The header that must carry the key, and its exact value. */
  auth: [header: string, value: string];
  /** Asserts the translated wire request for REPRESENTATIVE_REQUEST (full URL and parsed body). */
  expectRequest(spec: HttpRequestSpec, body: Record<string, unknown>): void;
  /** A non-streamed answer and the same answer streamed; `text` is its content. */
  text: { response: unknown; stream: SseEvent[]; content: string };
  /** A non-streamed tool call and the same call streamed. */
  toolCall: { response: unknown; stream: SseEvent[]; name: string; arguments: Record<string, unknown> };
  /** A response reporting cached input and reasoning, and its normalized usage. */
  usage: { response: unknown; expected: NormalizedUsage };
  errors: {
    rateLimited: ErrorCase;
    contextLength: ErrorCase;
    /** null where the API has no content-filter error status (Gemini reports blocks inside a 200). */
    contentFilter: ErrorCase | null;
    auth: ErrorCase;
    server: ErrorCase;
    overloaded: ErrorCase[];
    /** Provider-specific statuses worth pinning (e.g. DeepSeek's 402 for an exhausted balance). */
    extra?: ErrorCase[];
  };
  /** A parameter this target cannot honour, with a value that is not its no-op default (null for OpenAI itself). */
  unsupported: { param: ChatParam; value: unknown } | null;
}

function run(adapter: ProviderAdapter, target: UpstreamTarget, events: SseEvent[]) {
  const parser = adapter.createStreamParser(target);
  const chunks: ChatChunk[] = [];
  const states: boolean[] = [];
  for (const event of events) {
    chunks.push(...parser.push(event));
    states.push(parser.finished());
  }
  chunks.push(...parser.end());
  return { parser, chunks, states };
}

function contentOf(chunks: ChatChunk[]): string {
  return chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
}

/** Feeds chunks to the official OpenAI SDK's stream accumulator: what a real client would reassemble. */
async function sdkReassemble(chunks: ChatChunk[]) {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(`${JSON.stringify(chunk)}\n`));
      controller.close();
    },
  });
  return ChatCompletionStream.fromReadableStream(body).finalChatCompletion();
}

function classify(adapter: ProviderAdapter, c: ErrorCase): UpstreamError {
  return adapter.classifyError(c.status, c.body, new Headers(c.headers ?? {}));
}

export function adapterContract(name: string, make: () => AdapterFixture) {
  describe(`ProviderAdapter contract: ${name}`, () => {
    it("maps a representative request (system, user text + image, tool round trip, tools)", () => {
      const f = make();
      const spec = f.adapter.buildRequest(REPRESENTATIVE_REQUEST, f.target);
      expect(spec.method).toBe("POST");
      expect(spec.url.startsWith(f.target.baseUrl.replace(/\/+$/, ""))).toBe(true);
      expect(spec.headers[f.auth[0]]).toBe(f.auth[1]);
      expect(spec.headers["content-type"]).toBe("application/json");
      expect(spec.body).not.toContain(TEST_KEY);
      expect(spec.url).not.toContain(TEST_KEY);
      f.expectRequest(spec, JSON.parse(spec.body) as Record<string, unknown>);
    });

    it("does not mutate the canonical request", () => {
      const f = make();
      const before = JSON.stringify(REPRESENTATIVE_REQUEST);
      f.adapter.buildRequest({ ...REPRESENTATIVE_REQUEST, stream: true }, f.target);
      expect(JSON.stringify(REPRESENTATIVE_REQUEST)).toBe(before);
    });

    it("parses a response into the OpenAI chat.completion shape", () => {
      const f = make();
      const response = f.adapter.parseResponse(f.text.response, f.target);
      expect(response.object).toBe("chat.completion");
      expect(typeof response.id).toBe("string");
      expect(Number.isInteger(response.created)).toBe(true);
      expect(response.choices).toHaveLength(1);
      expect(response.choices[0]).toMatchObject({
        index: 0,
        message: { role: "assistant", content: f.text.content },
        finish_reason: "stop",
      });
      const usage = response.usage!;
      expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    });

    it("streams chunks whose concatenated deltas equal the non-streamed content", async () => {
      const f = make();
      const { parser, chunks, states } = run(f.adapter, f.target, f.text.stream);
      const whole = f.adapter.parseResponse(f.text.response, f.target);
      expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
      expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
      expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
      expect(contentOf(chunks)).toBe(whole.choices[0]!.message.content);
      expect(chunks.flatMap((c) => c.choices.map((x) => x.finish_reason)).filter(Boolean)).toEqual(["stop"]);
      const last = chunks.at(-1)!;
      expect(last.choices).toEqual([]);
      expect(last.usage).toEqual(whole.usage);
      expect(chunks.filter((c) => c.usage)).toHaveLength(1);
      expect(parser.usage()).toEqual(normalizeUsage(whole.usage));
      // The protocol's terminator is the last event of every fixture stream: finished() flips there, not before.
      expect(states).toEqual([...states.slice(0, -1).map(() => false), true]);
      // The output is counted once the provider reports it, never from the first text on: a stream cut in between
      // is billed for its delivered text (reliability case 14).
      expect(parser.outputCounted()).toBe(true);
      const firstText = f.text.stream.findIndex((_, i) => contentOf(run(f.adapter, f.target, f.text.stream.slice(0, i + 1)).chunks) !== "");
      expect(firstText).toBeGreaterThanOrEqual(0);
      const cut = f.adapter.createStreamParser(f.target);
      for (const event of f.text.stream.slice(0, firstText + 1)) cut.push(event);
      expect(cut.outputCounted()).toBe(false);
      const sdk = await sdkReassemble(chunks);
      expect(sdk.choices[0]!.message.content).toBe(f.text.content);
      expect(sdk.choices[0]!.finish_reason).toBe("stop");
    });

    it("reports an unfinished stream when the terminator never came", () => {
      const f = make();
      const { parser } = run(f.adapter, f.target, f.text.stream.slice(0, 2));
      expect(parser.finished()).toBe(false);
    });

    it("parses a tool call and reassembles streamed tool-call arguments", async () => {
      const f = make();
      const whole = f.adapter.parseResponse(f.toolCall.response, f.target);
      const call = whole.choices[0]!.message.tool_calls![0]!;
      expect(whole.choices[0]!.finish_reason).toBe("tool_calls");
      expect(call.type).toBe("function");
      expect(call.function.name).toBe(f.toolCall.name);
      expect(JSON.parse(call.function.arguments)).toEqual(f.toolCall.arguments);

      const { chunks, parser } = run(f.adapter, f.target, f.toolCall.stream);
      const deltas = chunks.flatMap((c) => c.choices.flatMap((x) => x.delta.tool_calls ?? []));
      expect(deltas.length).toBeGreaterThan(0);
      expect(deltas.every((d) => d.index === 0)).toBe(true);
      expect(deltas[0]).toMatchObject({ index: 0, type: "function", function: { name: f.toolCall.name } });
      expect(typeof deltas[0]!.id).toBe("string");
      const args = deltas.map((d) => d.function?.arguments ?? "").join("");
      expect(JSON.parse(args)).toEqual(f.toolCall.arguments);
      expect(chunks.flatMap((c) => c.choices.map((x) => x.finish_reason)).filter(Boolean)).toEqual(["tool_calls"]);
      expect(parser.finished()).toBe(true);
      const sdk = await sdkReassemble(chunks);
      expect(sdk.choices[0]!.message.tool_calls?.[0]?.function).toEqual({ name: f.toolCall.name, arguments: args });
    });

    it("normalizes usage with cached input and reasoning", () => {
      const f = make();
      const response = f.adapter.parseResponse(f.usage.response, f.target);
      const normalized = normalizeUsage(response.usage)!;
      expect(normalized).toEqual(f.usage.expected);
      expect(normalized.cachedInput + normalized.cacheWrite).toBeLessThanOrEqual(normalized.input);
      expect(normalized.reasoning).toBeLessThanOrEqual(normalized.output);
      expect(response.usage!.prompt_tokens_details?.cached_tokens).toBe(f.usage.expected.cachedInput);
      expect(response.usage!.completion_tokens_details?.reasoning_tokens).toBe(f.usage.expected.reasoning);
    });

    it("classifies a 429 with retry information as rate_limited with retryAfterMs", () => {
      const f = make();
      const error = classify(f.adapter, f.errors.rateLimited);
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error.kind).toBe("rate_limited");
      expect(error.status).toBe(429);
      expect(error.retryAfterMs).toBe(f.errors.rateLimited.retryAfterMs);
    });

    it("classifies context length, content filter, auth and server failures", () => {
      const f = make();
      const { contextLength, contentFilter, auth, server, overloaded, extra = [] } = f.errors;
      const cases = [contextLength, contentFilter, auth, server, ...overloaded, ...extra];
      for (const c of cases.filter((x): x is ErrorCase => x !== null)) {
        const error = classify(f.adapter, c);
        expect({ status: c.status, kind: error.kind }).toEqual({ status: c.status, kind: c.kind });
        expect(error.status).toBe(c.status);
        expect(error.message).not.toBe("");
      }
    });

    it("classifies an unparseable error body by status alone", () => {
      const f = make();
      expect(f.adapter.classifyError(502, "<html>Bad Gateway</html>", new Headers()).kind).toBe("server_error");
      expect(f.adapter.classifyError(404, "", new Headers()).kind).toBe("not_found");
      expect(f.adapter.classifyError(400, "", new Headers()).kind).toBe("bad_request");
    });

    it("scrubs a key the upstream echoes in its error message", () => {
      const f = make();
      const echoed = `Incorrect API key provided: ${TEST_KEY} at ${f.target.baseUrl}?key=${TEST_KEY}`;
      const body = f.errors.auth.body.replace(/"(message|detail)":"[^"]*"/, `"$1":"${echoed}"`);
      const error = f.adapter.classifyError(401, body, new Headers());
      expect(error.message).not.toContain(TEST_KEY);
    });

    it.skipIf(make().unsupported === null)("rejects a parameter the target cannot honour with a 400 naming it", () => {
      const f = make();
      const unsupported = f.unsupported!;
      const req = { ...REPRESENTATIVE_REQUEST, [unsupported.param]: unsupported.value } as ChatRequest;
      let thrown: unknown;
      try {
        f.adapter.buildRequest(req, f.target);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(AppError);
      const error = thrown as AppError;
      expect(error.status).toBe(400);
      expect(error.code).toBe("unsupported_parameter");
      expect(error.options.param).toBe(unsupported.param);
      expect(error.message).toContain(unsupported.param);
    });

    it.skipIf(make().unsupported === null)("drops that parameter instead when the caller allows it", () => {
      const f = make();
      const unsupported = f.unsupported!;
      const req = { ...REPRESENTATIVE_REQUEST, [unsupported.param]: unsupported.value } as ChatRequest;
      const spec = f.adapter.buildRequest(req, f.target, { dropParams: new Set([unsupported.param]) });
      const body = JSON.parse(spec.body) as Record<string, unknown>;
      expect(body).not.toHaveProperty(unsupported.param);
      expect(spec.body).not.toContain(JSON.stringify(unsupported.value));
      expect(spec.body).toBe(f.adapter.buildRequest(REPRESENTATIVE_REQUEST, f.target).body);
    });

    it("passes a parameter's no-op default even where the parameter is unsupported", () => {
      const f = make();
      const req: ChatRequest = { ...REPRESENTATIVE_REQUEST, n: 1, logprobs: false, presence_penalty: 0, parallel_tool_calls: true };
      expect(() => f.adapter.buildRequest(req, f.target)).not.toThrow();
    });

    it("throws server_error on a malformed stream chunk", () => {
      const f = make();
      const parser = f.adapter.createStreamParser(f.target);
      let thrown: unknown;
      try {
        parser.push({ data: '{"choices": [' });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(UpstreamError);
      expect((thrown as UpstreamError).kind).toBe("server_error");
    });

    it("throws server_error on a malformed non-streamed response", () => {
      const f = make();
      expect(() => f.adapter.parseResponse({ unexpected: true, choices: "no", content: 5, candidates: 7 }, f.target)).toThrow(
        UpstreamError,
      );
    });
  });
}
