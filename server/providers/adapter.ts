/**
 * The provider adapter contract. Adapters are pure: they build HTTP requests and parse what comes back, but never
 * perform I/O (the transport does). One shared contract suite (adapter.contract.ts) runs against every adapter.
 */
import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  NormalizedUsage,
  Protocol,
  UpstreamError,
  UpstreamTarget,
} from "./types";

/** An HTTP request ready for the transport. */
export interface HttpRequestSpec {
  url: string;
  method: "POST";
  headers: Record<string, string>;
  body: string;
}

export interface BuildOptions {
  /**
   * Parameters to drop instead of rejecting when the target cannot honour them (a route's explicit opt-in,
   * e.g. `logit_bias` when falling back from OpenAI to Anthropic). Names are top-level request keys.
   */
  dropParams?: ReadonlySet<string>;
  /**
   * Gemini only: the name (`cachedContents/…`) of an explicit context cache that holds this request's system
   * instruction, tools and tool config (see server/cache/gemini-context.ts); the request names it and omits them.
   */
  cachedContent?: string;
}

/** One server-sent event as the SSE decoder delivers it (comment lines never reach the parser). */
export interface SseEvent {
  event?: string;
  data: string;
}

/**
 * Converts one upstream SSE stream into OpenAI `chat.completion.chunk` objects. Create one per attempt.
 * `push` and `end` throw UpstreamError: `server_error` for malformed data, or the classified error when the
 * upstream reports one inside the stream.
 */
export interface StreamParser {
  push(event: SseEvent): ChatChunk[];
  /** Called once when the upstream closed the stream; flushes what is pending. */
  end(): ChatChunk[];
  /** The usage reported so far (final once `finished()`), or null when the upstream reported none. */
  usage(): NormalizedUsage | null;
  /**
   * Whether `usage()` holds the provider's count of the output, not only what it reports before answering: OpenAI's
   * usage chunk, Anthropic's message_delta (message_start carries the input and a placeholder output of 1), a
   * Gemini chunk with candidatesTokenCount. A stream that ends early without it is billed for the delivered text.
   */
  outputCounted(): boolean;
  /** Whether the protocol's terminator was seen: `[DONE]`, `message_stop`, or a Gemini `finishReason`. */
  finished(): boolean;
}

export interface EmbeddingRequest {
  model: string;
  /** A string, an array of strings, or token arrays (OpenAI-protocol upstreams only). */
  input: string | string[] | number[] | number[][];
  dimensions?: number;
  encoding_format?: "float" | "base64";
  user?: string;
}

export interface EmbeddingResponse {
  object: "list";
  data: Array<{ object: "embedding"; index: number; embedding: number[] | string }>;
  model: string;
  /** Absent when the upstream does not report token counts (the Gemini API does not); the gateway estimates. */
  usage?: { prompt_tokens: number; total_tokens: number };
}

export interface EmbeddingsAdapter {
  buildRequest(req: EmbeddingRequest, target: UpstreamTarget, options?: BuildOptions): HttpRequestSpec;
  /** `req` is the request that produced `json` (encoding and input count shape the response). */
  parseResponse(json: unknown, target: UpstreamTarget, req: EmbeddingRequest): EmbeddingResponse;
}

export interface ProviderAdapter {
  protocol: Protocol;
  /**
   * Translates a canonical request for `target`. Throws AppError(400, 'unsupported_parameter', …, {param}) for a
   * parameter the target cannot honour, unless `options.dropParams` names it. Never clamps a value.
   */
  buildRequest(req: ChatRequest, target: UpstreamTarget, options?: BuildOptions): HttpRequestSpec;
  /** Upstream JSON → OpenAI chat.completion (usage in OpenAI shape; see `normalizeUsage`). */
  parseResponse(json: unknown, target: UpstreamTarget): ChatResponse;
  createStreamParser(target: UpstreamTarget): StreamParser;
  /** Classifies a non-2xx upstream response. `body` is the raw text (may be empty or not JSON). */
  classifyError(status: number, body: string, headers: Headers): UpstreamError;
  /** Present where the protocol has embeddings (OpenAI `/embeddings`, Gemini `embedContent`). */
  embeddings?: EmbeddingsAdapter;
}
