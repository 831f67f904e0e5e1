/**
 * Deterministic sample values for a JSON Schema (also Gemini's OpenAPI subset, whose type names are upper
 * case): what the simulator returns for structured output and tool-call arguments.
 */

type Schema = Record<string, unknown>;

const MAX_DEPTH = 8;

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function resolveRef(ref: string, root: Schema): Schema | undefined {
  if (!ref.startsWith("#/")) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (!isSchema(node)) return undefined;
    node = node[key];
  }
  return isSchema(node) ? node : undefined;
}

function typeOf(schema: Schema): string | undefined {
  const type = schema.type;
  if (typeof type === "string") return type.toLowerCase();
  if (Array.isArray(type)) {
    const first = type.find((t) => typeof t === "string" && t.toLowerCase() !== "null");
    return typeof first === "string" ? first.toLowerCase() : "null";
  }
  if (isSchema(schema.properties)) return "object";
  if (schema.items !== undefined) return "array";
  return undefined;
}

function sampleString(schema: Schema, hint: string): string {
  switch (schema.format) {
    case "date-time":
      return "2025-01-01T00:00:00Z";
    case "date":
      return "2025-01-01";
    case "time":
      return "00:00:00";
    case "email":
      return "user@example.com";
    case "uri":
    case "url":
      return "https://example.com";
    case "uuid":
      return "00000000-0000-4000-8000-000000000000";
  }
  let value = hint || "sample";
  const min = typeof schema.minLength === "number" ? schema.minLength : 0;
  const max = typeof schema.maxLength === "number" ? schema.maxLength : Infinity;
  while (value.length < min) value += "x";
  return value.length > max ? value.slice(0, max) : value;
}

function sampleNumber(schema: Schema, integer: boolean): number {
  let value = 0;
  if (typeof schema.minimum === "number") value = Math.max(value, schema.minimum);
  if (typeof schema.exclusiveMinimum === "number") value = Math.max(value, schema.exclusiveMinimum + (integer ? 1 : 0.5));
  if (typeof schema.maximum === "number") value = Math.min(value, schema.maximum);
  if (typeof schema.exclusiveMaximum === "number" && value >= schema.exclusiveMaximum) value = schema.exclusiveMaximum - (integer ? 1 : 0.5);
  return integer ? Math.ceil(value) : value;
}

function sample(schema: Schema, root: Schema, hint: string, depth: number): unknown {
  if (depth > MAX_DEPTH) return null;
  if (typeof schema.$ref === "string") {
    const target = resolveRef(schema.$ref, root);
    return target ? sample(target, root, hint, depth + 1) : null;
  }
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  for (const key of ["anyOf", "oneOf"] as const) {
    const options = schema[key];
    if (Array.isArray(options)) {
      const pick = options.find((o) => isSchema(o) && typeOf(o) !== "null") ?? options[0];
      return isSchema(pick) ? sample(pick, root, hint, depth + 1) : null;
    }
  }
  if (Array.isArray(schema.allOf)) {
    const merged: Schema = { type: "object", properties: {}, required: [] as string[] };
    for (const part of schema.allOf) {
      const resolved = isSchema(part) && typeof part.$ref === "string" ? resolveRef(part.$ref, root) : part;
      if (!isSchema(resolved)) continue;
      Object.assign(merged.properties as Schema, isSchema(resolved.properties) ? resolved.properties : {});
      if (Array.isArray(resolved.required)) (merged.required as string[]).push(...(resolved.required as string[]));
    }
    return sample(merged, root, hint, depth + 1);
  }
  switch (typeOf(schema)) {
    case "object": {
      const properties = isSchema(schema.properties) ? schema.properties : {};
      // Required properties when the schema names them; otherwise every declared one (still valid).
      const keys = Array.isArray(schema.required) ? schema.required.filter((k): k is string => typeof k === "string") : Object.keys(properties);
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const child = properties[key];
        out[key] = isSchema(child) ? sample(child, root, hint, depth + 1) : null;
      }
      return out;
    }
    case "array": {
      const items = isSchema(schema.items) ? schema.items : undefined;
      if (!items) return [];
      const count = Math.max(1, typeof schema.minItems === "number" ? schema.minItems : 1);
      const max = typeof schema.maxItems === "number" ? schema.maxItems : Infinity;
      return Array.from({ length: Math.min(count, max) }, () => sample(items, root, hint, depth + 1));
    }
    case "string":
      return sampleString(schema, hint);
    case "integer":
      return sampleNumber(schema, true);
    case "number":
      return sampleNumber(schema, false);
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return hint || "sample";
  }
}

/** A value valid against `schema`: required properties filled by type, first enum/anyOf option, minimal arrays. */
export function sampleFromSchema(schema: unknown, hint = ""): unknown {
  if (!isSchema(schema)) return {};
  return sample(schema, schema, hint, 0);
}
