/**
 * Structured JSON logs (pino). Secrets never reach a log line: known fields are redacted by path, and every
 * serialized line is scrubbed for key-shaped strings (API keys, provider keys, bearer tokens) as a backstop.
 */
import pino, { type Logger } from "pino";

export type { Logger };

const REDACT_PATHS = [
  "authorization",
  "password",
  "apiKey",
  "api_key",
  "secret",
  "encryptedKey",
  "providerKey",
  "*.authorization",
  "*.Authorization",
  "*.password",
  "*.passwordHash",
  "*.apiKey",
  "*.api_key",
  "*.key",
  "*.secret",
  "*.encryptedKey",
  "*.providerKey",
  "*.token",
  '*["x-api-key"]',
  '*["x-goog-api-key"]',
  '*["api-key"]',
  "*.headers.authorization",
  '*.headers["x-api-key"]',
  '*.headers["x-goog-api-key"]',
  '*.headers["api-key"]',
  "*.headers.cookie",
];

/**
 * Patterns of secrets that may hide inside free text (error messages, URLs): the prefixed key formats of the
 * providers we support. Unprefixed keys (Azure OpenAI's 32 hex digits, Mistral's, DeepInfra's) have no shape to
 * recognise without also hiding ids and hashes, so for them this backstop is blind: keys stay out of log calls.
 */
const SECRET_PATTERNS: RegExp[] = [
  /\bsy-[A-Za-z0-9_-]{16,}/g, // Switchyard API keys
  /\bsk-[A-Za-z0-9_-]{16,}/g, // OpenAI / Anthropic / DeepSeek style keys
  /\bAIza[A-Za-z0-9_-]{30,}/g, // Google API keys
  /\b(?:gsk|fw|hf)_[A-Za-z0-9]{20,}/g, // Groq, Fireworks, Hugging Face keys
  /\b(?:xai|pplx|csk)-[A-Za-z0-9]{20,}/g, // xAI, Perplexity, Cerebras keys (letters and digits: model ids have hyphens)
  /(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  /([?&](?:key|api_key|apikey|token)=)[^&\s"]+/gi,
];

/** Replaces key-shaped substrings with a marker. Exported for error bodies and tests. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const pattern of SECRET_PATTERNS) {
    out = out.replace(pattern, (match, prefix?: unknown) =>
      typeof prefix === "string" && match.startsWith(prefix) ? `${prefix}[REDACTED]` : "[REDACTED]",
    );
  }
  return out;
}

export interface LogOptions {
  level: string;
  /** Destination stream; stdout by default. Tests pass a collector. */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LogOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: "switchyard" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
      hooks: {
        streamWrite: scrubSecrets,
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
