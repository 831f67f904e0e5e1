/**
 * Provider kinds: the wire protocol / account type of a provider (Provider.kind in prisma/schema.prisma), and how
 * they map to the provider ids of the models.dev dataset.
 */

export { PROVIDER_KINDS, isProviderKind, type ProviderKind } from "../../lib/provider-kinds";
import type { ProviderKind } from "../../lib/provider-kinds";

/** models.dev provider id → our kind. Dataset providers not listed here are not loaded. */
export const MODELS_DEV_PROVIDERS: Readonly<Record<string, ProviderKind>> = {
  openai: "openai",
  anthropic: "anthropic",
  google: "gemini",
  deepseek: "deepseek",
  mistral: "mistral",
  alibaba: "qwen",
  groq: "groq",
  togetherai: "together",
  "fireworks-ai": "fireworks",
  xai: "xai",
  openrouter: "openrouter",
  perplexity: "perplexity",
  cerebras: "cerebras",
  deepinfra: "deepinfra",
  azure: "azure-openai",
};

/**
 * Kinds whose provider offers an asynchronous batch API at half price (OpenAI Batch, Anthropic Message Batches,
 * Gemini Batch Mode). The dataset publishes no batch prices, so for these kinds the catalog derives them. The
 * simulator mirrors OpenAI and Anthropic price points, batch included, so demos show batch savings too.
 */
export const BATCH_KINDS: ReadonlySet<ProviderKind> = new Set<ProviderKind>([
  "openai",
  "anthropic",
  "gemini",
  "simulator",
]);
