/**
 * Outcome feedback (POST /api/v1/feedback): a client scores one of its calls — `score` in [0, 1] or a `label`
 * pass/fail. Only a call of the key's own organization can be scored (any other id is "not found", so ids of other
 * tenants cannot be probed). The feedback row copies what training needs from the call's route: its policy, the
 * target and cascade tier that answered, and the hashed prompt features; posting again replaces the key's score.
 */
import { z } from "zod";
import type { AuthContext } from "../gateway/auth";
import { AppError } from "../gateway/errors";
import type { Runtime } from "../runtime";
import type { RoutingEngine } from "./engine";
import type { RouteRecord } from "./explain";

export const feedbackInput = z
  .strictObject({
    call_id: z.string().min(1).max(128),
    score: z.number().min(0).max(1).optional(),
    label: z.enum(["pass", "fail"]).optional(),
  })
  .check((ctx) => {
    const { score, label } = ctx.value;
    if ((score === undefined) === (label === undefined)) {
      ctx.issues.push({ code: "custom", message: "send exactly one of 'score' (0 to 1) or 'label' (pass or fail)", path: ["score"], input: ctx.value });
    }
  });
export type FeedbackInput = z.infer<typeof feedbackInput>;

export interface FeedbackRecord {
  object: "feedback";
  id: string;
  call_id: string;
  score: number;
  label: string | null;
  policy: string | null;
  target: string | null;
  tier: number | null;
  created_at: number;
}

export async function recordFeedback(rt: Runtime, engine: RoutingEngine, key: AuthContext, input: FeedbackInput): Promise<FeedbackRecord> {
  const find = () => rt.db.prisma.call.findUnique({ where: { id: input.call_id }, select: { id: true, orgId: true, policy: true, route: true } });
  let call = await find();
  if (!call) {
    // The call log is written in batches: a call answered a moment ago may still be queued.
    await rt.calls.flush();
    call = await find();
  }
  if (!call || call.orgId !== key.orgId) {
    throw new AppError(404, "call_not_found", `No call '${input.call_id}' was found for this organization`, { param: "call_id" });
  }
  const route = (call.route ?? {}) as Partial<RouteRecord>;
  const score = input.score ?? (input.label === "pass" ? 1 : 0);
  const data = {
    orgId: key.orgId,
    policy: call.policy,
    target: typeof route.target === "string" ? route.target : null,
    tier: typeof route.tier === "number" ? route.tier : null,
    score,
    label: input.label ?? null,
    features: typeof route.features === "string" ? route.features : null,
  };
  const row = await rt.db.prisma.feedback.upsert({
    where: { callId_apiKeyId: { callId: call.id, apiKeyId: key.apiKeyId } },
    create: { callId: call.id, apiKeyId: key.apiKeyId, ...data },
    update: data,
  });
  if (row.policy && row.features && row.tier !== null) engine.classifiers.noteFeedback(key.orgId, row.policy);
  return {
    object: "feedback",
    id: row.id,
    call_id: row.callId,
    score: row.score,
    label: row.label,
    policy: row.policy,
    target: row.target,
    tier: row.tier,
    created_at: Math.floor(row.createdAt.getTime() / 1000),
  };
}
