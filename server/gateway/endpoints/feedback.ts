/** POST /feedback: scores one of the key's calls (trains the learned routing of its policy; see server/routing/feedback.ts). */
import { routingFor } from "../../routing/engine";
import { feedbackInput, recordFeedback } from "../../routing/feedback";
import { readJsonBody } from "../body";
import type { Gateway } from "../context";
import { AppError } from "../errors";
import { parseOrThrow } from "../schemas/common";

const MAX_BODY = 16 * 1024;

export async function feedback(gw: Gateway, request: Request): Promise<Response> {
  if (request.method !== "POST") throw new AppError(405, "method_not_allowed", `Method ${request.method} is not allowed on /api/v1/feedback`);
  const key = await gw.auth.authenticate(request.headers);
  const input = parseOrThrow(feedbackInput, await readJsonBody(request, MAX_BODY));
  return Response.json(await recordFeedback(gw.rt, routingFor(gw.rt), key, input), { status: 201 });
}
