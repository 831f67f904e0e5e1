import { describe, expect, it } from "vitest";
import { policyDocument, type PolicyDocumentInput } from "@/lib/policy";
import type { CatalogModel } from "../catalog/model";
import type { ChatRequest } from "../providers/types";
import type { RequestFacts } from "../routing/conditions";
import { profileRequest } from "../routing/profile";
import type { Target } from "../routing/types";
import { applyCap, capRecord, decideCap, taskCue } from "./caps";
import { optimizeCall } from "./index";

const doc = (extra: Partial<PolicyDocumentInput> = {}) =>
  policyDocument.parse({ targets: [{ provider: "p", model: "m" }], ...extra } as PolicyDocumentInput);
const req = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: "x", messages: [{ role: "user", content }], ...extra });
const facts = (request: ChatRequest, metadata: Record<string, string> = {}): RequestFacts => ({
  apiKeyId: "k", teamId: "t", user: null, metadata, headers: {}, profile: profileRequest(request),
});
const none = new Headers();

describe("taskCue", () => {
  it("recognises classification and extraction from the request itself", () => {
    expect(taskCue(req("Classify the sentiment of this review: great product"))?.task).toBe("classification");
    expect(taskCue(req("Is this spam? Answer with yes or no."))?.task).toBe("classification");
    const enumSchema = { type: "object", properties: { label: { type: "string", enum: ["a", "b"] } } };
    expect(taskCue(req("hi", { response_format: { type: "json_schema", json_schema: { name: "x", schema: enumSchema } } }))).toEqual({ task: "classification", source: "cue:response_format" });
    expect(taskCue(req("hi", { response_format: { type: "json_object" } }))).toEqual({ task: "extraction", source: "cue:response_format" });
    expect(taskCue(req("hi", { tool_choice: { type: "function", function: { name: "f" } } }))).toEqual({ task: "extraction", source: "cue:tool_choice" });
    expect(taskCue(req("Extract the invoice number and total from this text."))?.task).toBe("extraction");
  });

  it("does not fire on ordinary prose that merely mentions the words", () => {
    expect(taskCue(req("How do biologists classify whales, and why?"))).toBeNull();
    expect(taskCue(req("Write a poem about vanilla extract."))).toBeNull();
    expect(taskCue(req("Ticket 12\nLabel: urgent\nCustomer says the box was wet."))).toBeNull();
    expect(taskCue(req("Label each message as spam or ham."))?.task).toBe("classification");
  });
});

describe("decideCap", () => {
  const document = doc({ parameters: { maxTokens: 1000, maxTokensByTask: { classification: 8, extraction: 300, triage: 20 }, taskRules: [{ when: { metadata: { kind: "triage" } }, task: "triage" }] } });

  it("applies the task cap by header, rule, then cue; the smaller cap wins", () => {
    const r = req("Classify this ticket: my parcel is late");
    expect(decideCap(document, r, new Headers({ "x-switchyard-task": "extraction" }), facts(r))).toMatchObject({ task: "extraction", source: "header", cap: 300, from: "task", applied: true });
    expect(decideCap(document, r, none, facts(r, { kind: "triage" }))).toMatchObject({ task: "triage", source: "rule:0", cap: 20 });
    expect(decideCap(document, r, none, facts(r))).toMatchObject({ task: "classification", source: "cue:prompt", cap: 8, requested: null, applied: true });
    const plain = req("Tell me a story");
    expect(decideCap(document, plain, none, facts(plain))).toMatchObject({ task: null, cap: 1000, from: "policy", applied: true });
  });

  it("never raises a smaller client cap, and skips task caps when reasoning is asked for", () => {
    const small = req("Classify: ok", { max_tokens: 4 });
    const decision = decideCap(document, small, none, facts(small))!;
    expect(decision).toMatchObject({ cap: 8, requested: 4, applied: false });
    expect(applyCap(small, decision)).toBe(small);
    const reasoning = req("Classify: ok", { reasoning_effort: "high" });
    expect(decideCap(document, reasoning, none, facts(reasoning))).toMatchObject({ cap: 1000, from: "policy" });
    expect(decideCap(doc(), small, none, null)).toBeNull();
  });

  it("lowers max_completion_tokens or max_tokens, or sets max_completion_tokens", () => {
    const d = { task: "classification", source: "cue:prompt", cap: 8, from: "task" as const, requested: 500, applied: true };
    expect(applyCap(req("x", { max_tokens: 500 }), d)).toMatchObject({ max_tokens: 8 });
    expect(applyCap(req("x", { max_completion_tokens: 500 }), d)).toMatchObject({ max_completion_tokens: 8 });
    expect(applyCap(req("x"), { ...d, requested: null })).toMatchObject({ max_completion_tokens: 8 });
  });
});

describe("capRecord", () => {
  const target = { provider: { name: "p" }, modelId: "m", model: { maxOutput: 4096, prices: { input: "1", output: "10" } } as unknown as CatalogModel } as unknown as Target;
  const decision = { task: "classification", source: "cue:prompt", cap: 16, from: "task" as const, requested: null, applied: true };

  it("within the cap: headroom against the model's maximum output, priced at the output rate (not spend)", () => {
    const r = capRecord(decision, "stop", target);
    expect(r.outcome).toBe("within");
    expect(r.headroomTokens).toBe(4096 - 16);
    expect(r.headroomUsd).toBe("0.0408");
  });

  it("a length finish is a truncation and earns no headroom; a cap the client undercut is not applied", () => {
    expect(capRecord(decision, "length", target)).toMatchObject({ outcome: "truncated", headroomTokens: null });
    expect(capRecord({ ...decision, requested: 8, applied: false }, "stop", target)).toMatchObject({ outcome: "not-applied", headroomTokens: null });
    expect(capRecord(decision, null, target)).toMatchObject({ outcome: "unfinished", headroomTokens: null });
  });
});

describe("optimizeCall", () => {
  it("does nothing for a policy without compression or caps", () => {
    expect(optimizeCall(doc(), req("a    b"), none, null)).toBeNull();
  });

  it("compresses, then caps the compressed request", () => {
    const document = doc({ compression: {}, parameters: { maxTokensByTask: { classification: 5 } } });
    const out = optimizeCall(document, req("Classify   this:    spam   or   ham?\n\n\n\nBuy now!!!"), none, null)!;
    expect(out.request.messages[0]!.content).toBe("Classify this: spam or ham?\n\nBuy now!!!");
    expect(out.request.max_completion_tokens).toBe(5);
    expect(out.compression!.tokensSaved).toBeGreaterThan(0);
    expect(out.cap).toMatchObject({ task: "classification", cap: 5 });
  });
});
