/** Next.js route exports for /api/auth/* (app/api/auth/[...nextauth]/route.ts re-exports this). */
import { getRuntime } from "../runtime";
import { createAuthHandler } from "./handler";

let handler: ((request: Request) => Promise<Response>) | null = null;

export async function handleAuthRequest(request: Request): Promise<Response> {
  handler ??= createAuthHandler(await getRuntime());
  return handler(request);
}
