/** Execution (retries, fallback, health) lives in server/routing/execute.ts; this module keeps the gateway's import path. */
export {
  adapterFor,
  fromTransportError,
  send,
  toClientError,
  upstreamTarget,
  withFallback,
  type AttemptInfo,
  type AttemptRecord,
  type FallbackOptions,
  type SkippedTarget,
  type UpstreamContext,
} from "../routing/execute";
export { DEFAULT_RETRY } from "@/lib/policy";
export type { RetryPolicy } from "@/lib/policy";
