/** Next.js route exports for /api/v1/* (used under `next dev`/`next start`; server/main.ts bypasses them). */
import { getRuntime } from "../runtime";
import { createGatewayHandler, type Handler } from "./handler";

let handler: Handler | null = null;

export async function handleGatewayRequest(request: Request): Promise<Response> {
  handler ??= createGatewayHandler(await getRuntime());
  return handler(request);
}
