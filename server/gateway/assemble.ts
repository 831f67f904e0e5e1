/**
 * Converting between a streamed answer and a complete one, so a cached answer can be served to either kind of
 * request: chunks → chat.completion, and chat.completion → the chunk sequence a stream parser would produce.
 */
import type { ChatChunk, ChatResponse, FinishReason, ToolCall } from "../providers/types";

export function assembleChunks(chunks: ChatChunk[]): ChatResponse {
  const first = chunks[0];
  const choices = new Map<number, { content: string; reasoning: string; refusal: string; tools: ToolCall[]; finish: FinishReason | null }>();
  let usage: ChatResponse["usage"];
  for (const chunk of chunks) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      let acc = choices.get(choice.index);
      if (!acc) choices.set(choice.index, (acc = { content: "", reasoning: "", refusal: "", tools: [], finish: null }));
      acc.content += choice.delta.content ?? "";
      acc.reasoning += choice.delta.reasoning_content ?? "";
      acc.refusal += choice.delta.refusal ?? "";
      for (const delta of choice.delta.tool_calls ?? []) {
        const tool = (acc.tools[delta.index] ??= { id: "", type: "function", function: { name: "", arguments: "" } });
        if (delta.id) tool.id = delta.id;
        tool.function.name += delta.function?.name ?? "";
        tool.function.arguments += delta.function?.arguments ?? "";
      }
      if (choice.finish_reason) acc.finish = choice.finish_reason;
    }
  }
  return {
    id: first?.id ?? `chatcmpl-${crypto.randomUUID()}`,
    object: "chat.completion",
    created: first?.created ?? Math.floor(Date.now() / 1000),
    model: first?.model ?? "",
    choices: [...choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, acc]) => ({
        index,
        message: {
          role: "assistant" as const,
          content: acc.content || (acc.tools.length > 0 ? null : ""),
          refusal: acc.refusal || null,
          ...(acc.tools.length > 0 ? { tool_calls: acc.tools.filter(Boolean) } : {}),
          ...(acc.reasoning ? { reasoning_content: acc.reasoning } : {}),
        },
        finish_reason: acc.finish ?? "stop",
        logprobs: null,
      })),
    ...(usage ? { usage } : {}),
  };
}

/** The chunks of a stream carrying `response`: role, content, tool calls, finish, then usage. */
export function responseToChunks(response: ChatResponse): ChatChunk[] {
  const base = { id: response.id, object: "chat.completion.chunk" as const, created: response.created, model: response.model };
  const chunks: ChatChunk[] = [];
  for (const choice of response.choices) {
    const { message } = choice;
    chunks.push({ ...base, choices: [{ index: choice.index, delta: { role: "assistant", content: "" }, finish_reason: null }] });
    if (message.reasoning_content) chunks.push({ ...base, choices: [{ index: choice.index, delta: { reasoning_content: message.reasoning_content }, finish_reason: null }] });
    if (message.content) chunks.push({ ...base, choices: [{ index: choice.index, delta: { content: message.content }, finish_reason: null }] });
    (message.tool_calls ?? []).forEach((tool, i) =>
      chunks.push({
        ...base,
        choices: [{ index: choice.index, delta: { tool_calls: [{ index: i, id: tool.id, type: "function", function: { name: tool.function.name, arguments: tool.function.arguments } }] }, finish_reason: null }],
      }),
    );
    chunks.push({ ...base, choices: [{ index: choice.index, delta: {}, finish_reason: choice.finish_reason }] });
  }
  if (response.usage) chunks.push({ ...base, choices: [], usage: response.usage });
  return chunks;
}
