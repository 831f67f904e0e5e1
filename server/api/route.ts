/** Next.js route exports for /api/trpc/* (app/api/trpc/[trpc]/route.ts re-exports this). */
import { getRuntime } from "../runtime";
import { createTrpcHandler } from "./http";

let handler: ((request: Request) => Promise<Response>) | null = null;

export async function handleTrpcRequest(request: Request): Promise<Response> {
  handler ??= createTrpcHandler(await getRuntime());
  return handler(request);
}
