/** The OpenAI embeddings request, validated strictly. */
import { z } from "zod";
import { safeString } from "./common";

/** Inputs per request and tokens-as-integers bounds, as OpenAI documents them. */
export const EMBEDDING_LIMITS = { inputs: 2048, tokenId: 1_000_000 } as const;

const tokens = z.array(z.number().int().min(0).max(EMBEDDING_LIMITS.tokenId)).min(1);

export const embeddingsRequest = z.strictObject({
  model: z.string().min(1).max(256),
  input: z.union([
    safeString(1_000_000).min(1),
    z.array(safeString(1_000_000).min(1)).min(1).max(EMBEDDING_LIMITS.inputs),
    tokens,
    z.array(tokens).min(1).max(EMBEDDING_LIMITS.inputs),
  ]),
  dimensions: z.number().int().min(1).max(65_536).optional(),
  encoding_format: z.enum(["float", "base64"]).optional(),
  user: safeString(256).optional(),
});

export type EmbeddingsInput = z.infer<typeof embeddingsRequest>;
