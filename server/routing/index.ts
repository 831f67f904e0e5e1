/**
 * The routing engine: policies (lib/policy.ts) → a plan of ordered targets with reasons (plan.ts, pure), executed
 * with retries, fallback and live health (execute.ts, health.ts), explained in the call log and headers
 * (explain.ts), and previewed without calling upstream (dry-run.ts).
 *
 * For the control plane (tRPC):
 *   dryRun(config, key, request, options?) → { chosen, candidates, rejected, estimatedCostUsd, difficulty, error }
 *     config: rt.snapshot.current(); key: an AuthContext for the API key (or a synthetic one for the user's team);
 *     request: a canonical chat request (may carry `switchyard` overrides); options.health: pass
 *     `(t) => routingFor(rt).health.peek(targetId(t))` and options.learned: `routingFor(rt).learned` to see live state.
 *   routingFor(rt).health.view(ids) / peek(id) — live health per target (targetId(target)).
 *   routingFor(rt).classifiers.train(orgId, policy) — retrain a policy's learned classifier now.
 *   The call log's `route` JSON is a RouteRecord (explain.ts).
 */
export { dryRun, type DryRunOptions, type DryRunResult } from "./dry-run";
export { routingFor, configureRouting, type RoutingEngine, type RoutingOptions, type ClassifierStore } from "./engine";
export { routeRecord, routeHeaders, type RouteRecord } from "./explain";
export { withFallback, toClientError, send, adapterFor, upstreamTarget, fromTransportError, type AttemptRecord, type AttemptInfo, type UpstreamContext } from "./execute";
export { recordFeedback, feedbackInput, type FeedbackInput, type FeedbackRecord } from "./feedback";
export { createHealthTracker, UNKNOWN_HEALTH, type HealthTracker, type TargetHealth, type HealthOptions } from "./health";
export { planRoute, type PlanInput, type PlannerEnv, type RouteDecision, type Candidate, type Rejected } from "./plan";
export { profileRequest, type RequestProfile } from "./profile";
export { resolvePlan, routeCall, resolveTarget, type Plan } from "./resolve";
export { targetId, targetLabel, type Target } from "./types";
