/**
 * Request optimizations a policy asks for, applied once per call before planning (server/routing/resolve.ts
 * routeCall): prompt compression (compress.ts), then the output cap (caps.ts). The plan carries the result; the
 * pipeline sends `request` upstream and the call log records both reports (`route.compression`, `route.cap`).
 */
import type { PolicyDocument } from "@/lib/policy";
import type { ChatRequest } from "../providers/types";
import type { RequestFacts } from "../routing/conditions";
import { applyCap, decideCap, type CapDecision } from "./caps";
import { compressRequest, type CompressionReport } from "./compress";

export { capRecord, TASK_HEADER, type CapDecision, type CapRecord } from "./caps";
export { compressRequest, type CompressionReport } from "./compress";

export interface OptimizedCall {
  /** The request as it goes upstream (and as budgets, cache and planner see it). */
  request: ChatRequest;
  /** Null when the policy has no `compression` block. */
  compression: CompressionReport | null;
  /** Null when the policy sets no cap. */
  cap: CapDecision | null;
}

/** Null when the policy asks for nothing (the request goes as the client sent it). */
export function optimizeCall(document: PolicyDocument | null, request: ChatRequest, headers: Headers, facts: RequestFacts | null): OptimizedCall | null {
  if (!document || (!document.compression && !document.parameters?.maxTokens && !document.parameters?.maxTokensByTask)) return null;
  const compressed = document.compression ? compressRequest(request, document.compression) : null;
  let out = compressed?.request ?? request;
  const cap = decideCap(document, out, headers, facts);
  if (cap) out = applyCap(out, cap);
  return { request: out, compression: compressed?.report ?? null, cap };
}
