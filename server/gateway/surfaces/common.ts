/** Pieces shared by the inbound surface translators (Anthropic Messages, OpenAI Responses). */
import { z } from "zod";

/**
 * A field that is either a string or an array (message content, tool output). Unlike `z.union`, which reports a
 * failed union as one opaque "Invalid input" at the field, this picks the branch by the value's JSON type, so the
 * 400 names the exact parameter at fault (`messages[2].content[1].source.data`).
 */
export function stringOrArray<S extends z.ZodType<string>, A extends z.ZodType<unknown[]>>(string: S, array: A) {
  return z.unknown().transform((value, ctx): z.output<S> | z.output<A> => {
    if (typeof value !== "string" && !Array.isArray(value)) {
      ctx.addIssue({ code: "invalid_type", expected: "array", input: value, message: "must be a string or an array" } as never);
      return z.NEVER;
    }
    const result = (typeof value === "string" ? string : array).safeParse(value);
    if (result.success) return result.data as z.output<S> | z.output<A>;
    for (const issue of result.error.issues) ctx.addIssue(issue as never);
    return z.NEVER;
  });
}

/** One server-sent event as text: `event: <name>\ndata: <json>\n\n`. */
export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
