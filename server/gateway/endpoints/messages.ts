/** POST /messages: the Anthropic Messages surface, so @anthropic-ai/sdk users can be routed to any provider. */
import type { UpstreamError } from "../../providers/types";
import type { Gateway } from "../context";
import { runCall, type Surface } from "../pipeline";
import { parseOrThrow } from "../schemas/common";
import {
  anthropicMessagesRequest,
  anthropicToChat,
  chatToAnthropic,
  createAnthropicStreamEncoder,
  type AnthropicErrorType,
  type AnthropicMessagesRequest,
} from "../surfaces/anthropic";

function anthropicErrorType(error: UpstreamError | null): AnthropicErrorType {
  if (error?.kind === "rate_limited") return "rate_limit_error";
  if (error?.kind === "overloaded") return "overloaded_error";
  if (error?.kind === "timeout") return "timeout_error";
  return "api_error";
}

const messagesSurface: Surface<AnthropicMessagesRequest> = {
  surface: "anthropic",
  endpoint: "messages",
  parse(raw) {
    const request = parseOrThrow(anthropicMessagesRequest, raw);
    return { request, canonical: anthropicToChat(request), stream: request.stream === true };
  },
  render: (result, usage, call) => chatToAnthropic(result, call.request.model, usage),
  encoder(call) {
    const encoder = createAnthropicStreamEncoder(call.request.model);
    return {
      push: (chunk) => encoder.push(chunk),
      end: (usage) => encoder.end(usage),
      error: (error, message) => encoder.error(message, anthropicErrorType(error)),
    };
  },
};

export function messages(gw: Gateway, request: Request, requestId: string): Promise<Response> {
  return runCall(gw, request, requestId, messagesSurface);
}
