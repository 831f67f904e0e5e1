import type { z } from "zod";

/**
 * Checks a form's values against the shared zod contract before anything is sent. Invalid: shows each field's
 * message (keyed by the first path segment; with several issues on one field, the first — as fieldErrorsOf shows
 * the server's) and returns null.
 * Valid: clears the messages and returns the parsed input.
 */
export function parseForm<S extends z.ZodType>(schema: S, values: unknown, setErrors: (errors: Record<string, string>) => void): z.output<S> | null {
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const errors: Record<string, string> = {};
    for (const issue of parsed.error.issues) errors[String(issue.path[0])] ??= issue.message;
    setErrors(errors);
    return null;
  }
  setErrors({});
  return parsed.data;
}
