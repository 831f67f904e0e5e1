/**
 * Messages from tRPC errors for the UI. A TRPCClientError carries the server's message and, for invalid input,
 * `data.issues` ([{ path, message }]) that forms show next to their fields.
 */
interface ErrorData {
  code?: string;
  httpStatus?: number;
  issues?: Array<{ path: string; message: string }> | null;
}

function dataOf(error: unknown): ErrorData | undefined {
  return (error as { data?: ErrorData } | null)?.data ?? undefined;
}

/** A sentence for the user: the server's message, or a network failure. */
export function errorMessage(error: unknown): string {
  if (!error) return "";
  const data = dataOf(error);
  if (data?.issues && data.issues.length > 0) return data.issues.map((i) => `${i.path}: ${i.message}`).join("; ");
  const message = (error as { message?: string }).message;
  if (!message || message === "Failed to fetch" || message.startsWith("Unexpected token")) return "Cannot reach the server. Check your connection and try again.";
  return message;
}

/** Field → message, from an invalid-input error (first message per field). */
export function fieldErrorsOf(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of dataOf(error)?.issues ?? []) out[issue.path] ??= issue.message;
  return out;
}

/** True when the error is a signed-out session (the page should send the user to sign in). */
export function isUnauthorized(error: unknown): boolean {
  return dataOf(error)?.code === "UNAUTHORIZED";
}
