/** POST /chat/completions: the OpenAI Chat Completions surface (the canonical form itself). */
import { deferChatRequest } from "../../batch/defer";
import type { ChatRequest } from "../../providers/types";
import type { Gateway } from "../context";
import type { Surface } from "../pipeline";
import { runCall } from "../pipeline";
import { chatCompletionRequest, type ChatCompletionInput } from "../schemas/chat";
import { parseOrThrow } from "../schemas/common";

const sse = (value: unknown) => `data: ${typeof value === "string" ? value : JSON.stringify(value)}\n\n`;

/** Also run in-process by the Playground (server/gateway/playground.ts). */
export const chatSurface: Surface<ChatCompletionInput> = {
  surface: "openai",
  endpoint: "chat.completions",
  parse(raw) {
    const request = parseOrThrow(chatCompletionRequest, raw);
    const { switchyard: _overrides, ...canonical } = request;
    return { request, canonical: canonical as ChatRequest, stream: request.stream === true };
  },
  render: (result) => result,
  encoder(call) {
    const wantsUsage = call.request.stream_options?.include_usage === true;
    return {
      push(chunk) {
        if (!chunk.usage || wantsUsage) return [sse(chunk)];
        if (chunk.choices.length === 0) return []; // the usage chunk the client did not ask for
        const { usage: _usage, ...rest } = chunk;
        return [sse(rest)];
      },
      end: () => [sse("[DONE]")],
      error: (error, message) =>
        sse({ error: { message, type: "api_error", param: null, code: error?.kind === "timeout" ? "upstream_timeout" : "upstream_stream_error" } }),
    };
  },
};

export async function chatCompletions(gw: Gateway, request: Request, requestId: string): Promise<Response> {
  // x-switchyard-defer (or a deferrable key): accepted with 202 and answered later at batch prices.
  const deferred = await deferChatRequest(gw, request, requestId);
  if (deferred instanceof Response) return deferred;
  return runCall(gw, request, requestId, chatSurface, deferred.live);
}
