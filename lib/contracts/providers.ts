/** Provider accounts: create, update, test. The key is write-only: responses only ever carry its last 4 characters. */
import { z } from "zod";
import { PROVIDER_KINDS, providerName } from "../config-file";
import { id, optionalText } from "./common";

export { PROVIDER_KINDS };
export type ProviderKindName = (typeof PROVIDER_KINDS)[number];

export const baseUrl = z
  .string()
  .trim()
  .max(2048)
  .refine((value) => /^https?:\/\/[^\s]+$/i.test(value) && URL.canParse(value), "must be an http(s) URL");

/** Non-secret settings; the server checks them again with server/providers/registry.ts providerConfigSchema. */
export const providerSettings = z.object({
  protocol: z.enum(["openai", "anthropic", "gemini"]).optional(),
  apiVersion: optionalText(64),
  deployment: optionalText(256),
  headers: z.record(z.string(), z.string().max(4096)).optional(),
});

/** A provider key as typed: trimmed, no whitespace inside. */
export const providerKey = z
  .string()
  .trim()
  .min(1, "required")
  .max(4096)
  .regex(/^\S+$/, "must not contain spaces");

export const providerCreateInput = z.object({
  name: providerName,
  kind: z.enum(PROVIDER_KINDS),
  /** Absent: the kind's public endpoint (kinds without one require it). */
  baseUrl: baseUrl.optional(),
  apiKey: providerKey.optional(),
  allowPrivate: z.boolean().default(false),
  enabled: z.boolean().default(true),
  region: optionalText(64),
  config: providerSettings.prefault({}),
});
export type ProviderCreateInput = z.input<typeof providerCreateInput>;

/**
 * Absent fields are left as they are. Changing `baseUrl` (or `kind`) requires `apiKey` in the same request: a key
 * must never follow a URL change it was not re-entered for.
 */
export const providerUpdateInput = z.object({
  id,
  kind: z.enum(PROVIDER_KINDS).optional(),
  baseUrl: baseUrl.optional(),
  apiKey: providerKey.optional(),
  /** Remove the stored key (self-hosted endpoints without auth). */
  clearKey: z.boolean().optional(),
  allowPrivate: z.boolean().optional(),
  enabled: z.boolean().optional(),
  region: z.string().trim().max(64).nullish(),
  config: providerSettings.optional(),
});
export type ProviderUpdateInput = z.input<typeof providerUpdateInput>;
