/**
 * Provider kinds: the account type / wire-protocol family of a provider (Provider.kind in prisma/schema.prisma).
 * The one list shared by the adapters' registry, the catalog, the config file and the forms.
 */
export const PROVIDER_KINDS = [
  "openai",
  "anthropic",
  "gemini",
  "deepseek",
  "mistral",
  "qwen",
  "groq",
  "together",
  "fireworks",
  "xai",
  "openrouter",
  "perplexity",
  "cerebras",
  "deepinfra",
  "azure-openai",
  "ollama",
  "vllm",
  "openai-compatible",
  "simulator",
] as const;

export type ProviderKind = (typeof PROVIDER_KINDS)[number];

const KIND_SET: ReadonlySet<string> = new Set(PROVIDER_KINDS);

export function isProviderKind(value: string): value is ProviderKind {
  return KIND_SET.has(value);
}
