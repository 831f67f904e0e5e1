import { describe, expect, it } from "vitest";
import type { ChatResponse } from "../providers/types";
import { assembleChunks, responseToChunks } from "./assemble";

const response: ChatResponse = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "m",
  choices: [
    {
      index: 0,
      message: { role: "assistant", content: "Hello there", refusal: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: '{"a":1}' } }] },
      finish_reason: "tool_calls",
      logprobs: null,
    },
  ],
  usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
};

describe("assemble", () => {
  it("round-trips a response through its chunks", () => {
    expect(assembleChunks(responseToChunks(response))).toEqual(response);
  });

  it("reassembles deltas split across chunks", () => {
    const chunks = responseToChunks(response);
    const split = chunks.flatMap((c) => {
      const content = c.choices[0]?.delta.content;
      if (!content) return [c];
      return [...content].map((ch) => ({ ...c, choices: [{ ...c.choices[0]!, delta: { content: ch } }] }));
    });
    expect(assembleChunks(split).choices[0]!.message.content).toBe("Hello there");
  });
});
