/**
 * Shared pieces of inbound validation: safe strings, the forbidden-parameter scan, and the mapping from zod issues
 * to one 400 with `param` set.
 */
import { z } from "zod";
import { AppError } from "../errors";

// With the `u` flag a surrogate range only matches surrogates that are NOT part of a valid pair.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** A string that is valid Unicode and has no NUL characters (both break tokenizers and upstream JSON). */
export const safeString = (max = 10_000_000) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes("\u0000"), "must not contain NUL characters")
    .refine((s) => !LONE_SURROGATE.test(s), "must be valid Unicode (lone surrogate found)");

/**
 * Keys that would let a client steer the upstream endpoint or its credentials, compared lower-cased without `-`/`_`.
 * The auth headers are every provider's: OpenAI `Authorization`, Azure `api-key`, Anthropic `x-api-key`, Gemini
 * `x-goog-api-key`, and a proxy's `Proxy-Authorization`.
 */
const FORBIDDEN_KEYS = new Set([
  "apibase", "baseurl", "apikey", "apiurl", "authorization", "proxyauthorization", "xapikey", "xgoogapikey", "headers", "extraheaders",
  "customllmprovider", "awssecretaccesskey", "awsaccesskeyid", "awssessiontoken", "azureadtoken", "vertexcredentials", "apiversion",
]);

/** Subtrees that hold user-defined JSON Schemas, where any property name is legitimate. */
const SCHEMA_PATHS = [/^messages\.\d+\.content\.\d+\.input$/, /^output_config\.format\.schema$/, /^tools\.\d+\.function\.parameters$/, /^response_format\.json_schema\.schema$/, /^tools\.\d+\.input_schema$/, /^text\.format\.schema$/, /^tools\.\d+\.parameters$/];

/** Rejects `api_base`, `base_url`, `api_key`, auth headers … anywhere in the body (nested too). */
export function assertNoForbiddenKeys(value: unknown, path: string[] = []): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertNoForbiddenKeys(item, [...path, String(i)]));
    return;
  }
  if (value === null || typeof value !== "object") return;
  const joined = path.join(".");
  if (SCHEMA_PATHS.some((re) => re.test(joined))) return;
  for (const [key, child] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(key.toLowerCase().replace(/[-_]/g, ""))) {
      throw new AppError(400, "forbidden_parameter", `The parameter '${[...path, key].join(".")}' is not allowed: upstream endpoints and credentials are configured by an admin`, {
        param: [...path, key].join("."),
      });
    }
    assertNoForbiddenKeys(child, [...path, key]);
  }
}

/** Formats a zod path the way OpenAI does: messages[0].content. */
export function formatParam(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** Parses with a schema or throws the first problem as a 400 naming the parameter. */
export function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new AppError(400, "invalid_request", "The request body must be a JSON object");
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    const param = formatParam([...issue.path, issue.keys[0]!]);
    throw new AppError(400, "unknown_parameter", `Unrecognized request argument supplied: ${param}`, { param });
  }
  const param = formatParam(issue.path);
  const missing = issue.code === "invalid_type" && valueAt(input, issue.path) === undefined;
  throw new AppError(
    400,
    missing ? "missing_required_parameter" : "invalid_value",
    missing ? `Missing required parameter: '${param}'` : `Invalid value for '${param}': ${issue.message}`,
    { param },
  );
}
