/** Prisma errors the routers turn into user-facing answers. */
import { TRPCError } from "@trpc/server";

/** A unique constraint failed (Prisma P2002). */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "P2002";
}

/** Runs `fn`, turning a unique-constraint violation into CONFLICT with `message`. */
export async function uniqueOr<T>(message: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isUniqueViolation(error)) throw new TRPCError({ code: "CONFLICT", message });
    throw error;
  }
}
