import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compressionSchema } from "@/lib/policy";
import { estimatePromptTokens } from "../gateway/tokens";
import type { ChatMessage, ChatRequest } from "../providers/types";
import { compressRequest, normalizeText, TRIM_MARKER_PREFIX } from "./compress";

const req = (messages: ChatMessage[], extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: "m", messages, ...extra });
const LOSSLESS = compressionSchema.parse({});

describe("normalizeText", () => {
  it("collapses runs of spaces and blank lines, trailing spaces, CRLF, zero-width spaces", () => {
    const input = "\n\nHello   world,\u200B  this is\t\ta test.   \r\n\r\n\r\n\r\nSecond    paragraph.  \n\n\n";
    expect(normalizeText(input)).toBe("Hello world, this is a test.\n\nSecond paragraph.");
  });

  it("keeps fenced code blocks byte for byte, line endings included", () => {
    const code = "```python\r\ndef f(x):\r\n    return  x   *  2   \r\n\r\n\r\n\r\n    # end  \r\n```";
    const input = `Look   at this:\n\n\n${code}\n\nand  this:\n~~~\na    b\n~~~`;
    const out = normalizeText(input);
    expect(out).toContain(code);
    expect(out).toContain("~~~\na    b\n~~~");
    expect(out.startsWith("Look at this:\n\n```python")).toBe(true);
    expect(out).toContain("and this:");
  });

  it("keeps an unclosed fence verbatim to the end", () => {
    const input = "Text  here\n```\nx  =  1   \n\n\n";
    expect(normalizeText(input)).toBe("Text here\n```\nx  =  1   \n\n\n");
  });

  it("keeps indentation, indented code lines, inline code, quoted strings and <pre> blocks", () => {
    const input = [
      "- item",
      "  - nested   item",
      "    indented   code   line",
      "\tdef  tabbed():",
      "Use `a    b` and \"x    y\" literally,   please.",
      "<pre>",
      "col1    col2",
      "</pre>",
      "<pre>a    b</pre>",
    ].join("\n");
    const out = normalizeText(input).split("\n");
    expect(out[1]).toBe("  - nested item");
    expect(out[2]).toBe("    indented   code   line");
    expect(out[3]).toBe("\tdef  tabbed():");
    expect(out[4]).toBe("Use `a    b` and \"x    y\" literally, please.");
    expect(out.slice(5)).toEqual(["<pre>", "col1    col2", "</pre>", "<pre>a    b</pre>"]);
  });

  it("reads a fence hidden behind a zero-width space as a fence (normalizing would reveal it)", () => {
    for (const text of ["\u200B~~~\n~~~\r\n", " \u200B ```\nx    y\n```", "<pre\u200B>\na    b\n</pre>"]) {
      const once = normalizeText(text);
      expect(normalizeText(once)).toBe(once);
    }
    expect(normalizeText("\u200B~~~\nkeep    this\n~~~")).toBe("\u200B~~~\nkeep    this\n~~~");
  });

  it("is idempotent on arbitrary text", () => {
    const alphabet = fc.constantFrom("a", "b", " ", "  ", "\t", "\n", "\r\n", "```", "~~~", "`", '"', "    ", "<pre>", "</pre>", "\u200B", "x.");
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 60 }).map((parts) => parts.join("")), (text) => {
        const once = normalizeText(text);
        expect(normalizeText(once)).toBe(once);
      }),
      { numRuns: 500 },
    );
  });
});

describe("compressRequest", () => {
  it("is off without a compression block", () => {
    const request = req([{ role: "user", content: "a    b\n\n\n\nc" }]);
    const { request: out, report } = compressRequest(request, undefined);
    expect(out).toBe(request);
    expect(report.steps).toEqual([]);
  });

  it("counts tokens saved with the real tokenizer", () => {
    const messy = "Please   summarise   the   following   text.   \n\n\n\n\n" + "Lorem    ipsum    dolor    sit    amet.   \n\n\n\n".repeat(20);
    const request = req([{ role: "user", content: messy }]);
    const { request: out, report } = compressRequest(request, LOSSLESS);
    expect(report.steps).toEqual(["whitespace"]);
    expect(report.tokensBefore).toBe(estimatePromptTokens(request.messages));
    expect(report.tokensAfter).toBe(estimatePromptTokens(out.messages));
    expect(report.tokensSaved).toBe(report.tokensBefore - report.tokensAfter);
    expect(report.tokensSaved).toBeGreaterThan(20);
    expect(report.lossy).toBe(false);
  });

  it("leaves tool results, tool-call arguments and code untouched", () => {
    const messages: ChatMessage[] = [
      { role: "user", content: "Run   it.\n\n```sh\necho  'a    b'\n```" },
      { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "run", arguments: '{"cmd":  "echo   a"}' } }] },
      { role: "tool", tool_call_id: "c1", content: "a    b\n\n\n\nc   " },
    ];
    const { request } = compressRequest(req(messages), LOSSLESS);
    expect(request.messages[0]!.content).toBe("Run it.\n\n```sh\necho  'a    b'\n```");
    expect(request.messages[1]).toBe(messages[1]);
    expect(request.messages[2]).toBe(messages[2]);
  });

  it("removes duplicate system messages, adjacent duplicates and repeated system paragraphs", () => {
    const policy = "Our refund policy: customers may return any item within 30 days of delivery for a full refund.";
    const tone = "Always answer politely and concisely, and never promise delivery dates you cannot check.";
    const messages: ChatMessage[] = [
      { role: "system", content: `${policy}\n\n${tone}` },
      { role: "system", content: `${policy}\n\n${tone}` },
      { role: "developer", content: `Extra context.\n\n${policy}\n\nShort.\n\nShort.` },
      { role: "user", content: "Where is my order?" },
      { role: "user", content: "Where is my order?" },
      { role: "assistant", content: "Let me check." },
      { role: "user", content: "Where is my order?" },
    ];
    const { request, report } = compressRequest(req(messages), LOSSLESS);
    expect(request.messages.map((m) => m.role)).toEqual(["system", "developer", "user", "assistant", "user"]);
    // The repeated paragraph goes; short repeated lines ("Short.") are not paragraphs worth removing.
    expect(request.messages[1]!.content).toBe("Extra context.\n\nShort.\n\nShort.");
    expect(report.removedMessages).toBe(2);
    expect(report.removedParagraphs).toBe(1);
    expect(report.steps).toContain("dedupe");
    expect(report.tokensSaved).toBeGreaterThan(0);
    // Every removed text is still there once: the step is lossless.
    const text = JSON.stringify(request.messages);
    expect(text).toContain(policy);
    expect(text).toContain(tone);
    expect(report.lossy).toBe(false);
  });

  it("never removes a non-adjacent repeated user turn or a message with a client breakpoint", () => {
    const messages: ChatMessage[] = [
      { role: "system", content: [{ type: "text", text: "Same system text that is long enough to matter here.", cache_control: { type: "ephemeral" } }] },
      { role: "system", content: [{ type: "text", text: "Same system text that is long enough to matter here.", cache_control: { type: "ephemeral" } }] },
      { role: "user", content: "yes" },
      { role: "assistant", content: "Sure?" },
      { role: "user", content: "yes" },
    ] as ChatMessage[];
    const { request } = compressRequest(req(messages), LOSSLESS);
    expect(request.messages).toHaveLength(5);
  });

  it("trims history only when enabled, keeps system and the last turn, and inserts a marker", () => {
    const long = (i: number) => `Question ${i}: ` + "tell me more about the history of the shipping industry in detail ".repeat(8).trimEnd();
    const messages: ChatMessage[] = [{ role: "system", content: "You are a helpful assistant." }];
    for (let i = 0; i < 10; i++) {
      messages.push({ role: "user", content: long(i) }, { role: "assistant", content: `Answer ${i}: ` + "the industry grew steadily over decades ".repeat(8).trimEnd() });
    }
    messages.push({ role: "user", content: "And finally, summarise all of it." });
    const request = req(messages);

    const lossless = compressRequest(request, LOSSLESS);
    expect(lossless.request.messages).toHaveLength(messages.length);
    expect(lossless.report.lossy).toBe(false);

    const budget = 600;
    const policy = compressionSchema.parse({ trimHistory: { maxTokens: budget, keepLastMessages: 3 } });
    const { request: out, report } = compressRequest(request, policy);
    expect(report.steps).toContain("trim-history");
    expect(report.lossy).toBe(true);
    expect(report.trimmedMessages).toBeGreaterThan(0);
    expect(report.lossyTokensSaved).toBeGreaterThan(0);
    expect(estimatePromptTokens(out.messages)).toBeLessThanOrEqual(budget);
    expect(out.messages[0]).toEqual(messages[0]);
    expect(out.messages[1]!.role).toBe("system");
    expect(String(out.messages[1]!.content).startsWith(TRIM_MARKER_PREFIX)).toBe(true);
    expect(String(out.messages[1]!.content)).toContain(`${report.trimmedMessages} earlier messages`);
    // Whole turns go: what follows the marker starts with a user message, and the last three are kept.
    expect(out.messages[2]!.role).toBe("user");
    expect(out.messages.slice(-3)).toEqual(messages.slice(-3));
    expect(report.tokensSaved).toBe(estimatePromptTokens(messages) - estimatePromptTokens(out.messages));

    // Idempotent: a second pass changes nothing.
    const again = compressRequest(out, policy);
    expect(again.request).toBe(out);
    expect(again.report.steps).toEqual([]);
  });

  it("does not trim under the budget, and never splits a tool call from its result", () => {
    const filler = "a fairly long sentence about nothing in particular ".repeat(10).trimEnd();
    const messages: ChatMessage[] = [
      { role: "user", content: `Look this up. ${filler}` },
      { role: "assistant", content: null, tool_calls: [{ id: "t1", type: "function", function: { name: "search", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "t1", content: filler },
      { role: "assistant", content: `Found it. ${filler}` },
      { role: "user", content: "Thanks. What next?" },
    ];
    const roomy = compressRequest(req(messages), compressionSchema.parse({ trimHistory: { maxTokens: 100_000 } }));
    expect(roomy.report.steps).toEqual([]);
    const tight = compressRequest(req(messages), compressionSchema.parse({ trimHistory: { maxTokens: 64, keepLastMessages: 1 } }));
    const roles = tight.request.messages.map((m) => m.role);
    expect(roles).toEqual(["system", "user"]);
    expect(tight.report.trimmedMessages).toBe(4);
  });

  it("removes a system message that a paragraph removal made a repeat of an earlier one", () => {
    const para = "Repeated paragraph that is long enough to be removed.";
    const messages = [
      { role: "system", content: "\n\n\n alpha" },
      { role: "system", content: `${para}\n\n` },
      { role: "system", content: `${para}\n\n alpha` },
      { role: "user", content: "hi" },
    ] as ChatMessage[];
    const once = compressRequest(req(messages), compressionSchema.parse({}));
    expect(once.request.messages).toEqual([
      { role: "system", content: " alpha" },
      { role: "system", content: para },
      { role: "user", content: "hi" },
    ]);
    expect(once.report.removedMessages).toBe(1);
    expect(once.report.removedParagraphs).toBe(1);
    expect(compressRequest(once.request, compressionSchema.parse({})).request.messages).toEqual(once.request.messages);
  });

  it("is idempotent for every combination of steps", () => {
    const word = fc.constantFrom("alpha", "beta  ", "  gamma", "\n\n\n", "```\ncode   x\n```\n", "Repeated paragraph that is long enough to be removed.\n\n");
    const message = fc.record({
      role: fc.constantFrom("system", "user", "assistant"),
      content: fc.array(word, { maxLength: 12 }).map((w) => w.join(" ")),
    }) as fc.Arbitrary<ChatMessage>;
    const policy = fc.record({
      whitespace: fc.boolean(),
      dedupe: fc.boolean(),
      trimHistory: fc.option(fc.record({ maxTokens: fc.integer({ min: 64, max: 300 }), keepLastMessages: fc.integer({ min: 1, max: 4 }) }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), policy, (messages, p) => {
        const once = compressRequest(req(messages), p).request;
        const twice = compressRequest(once, p);
        expect(twice.request.messages).toEqual(once.messages);
      }),
      { numRuns: 300 },
    );
  });
});
