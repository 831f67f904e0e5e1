/**
 * POST /responses: the OpenAI Responses surface, translated to every provider. Exchanges are stored for
 * `previous_response_id` only when the key allows storing responses (and the request did not set store: false).
 */
import type { Db } from "../../db/client";
import type { Logger } from "../../obs/log";
import type { AuthContext } from "../auth";
import type { Gateway } from "../context";
import { AppError } from "../errors";
import { runCall, type ParsedCall, type Surface } from "../pipeline";
import { parseOrThrow } from "../schemas/common";
import {
  chatToResponse,
  createResponsesStreamEncoder,
  newResponseIds,
  responsesCreateRequest,
  responsesToChat,
  storedExchange,
  type ResponseIds,
  type ResponsesCreateRequest,
  type ResponsesResponse,
  type StoredExchange,
} from "../surfaces/responses";

/** How long stored responses can be continued. */
const RETENTION_MS = 30 * 24 * 3600 * 1000;

interface ResponsesCall {
  body: ResponsesCreateRequest;
  ids: ResponseIds;
  previous?: StoredExchange;
}

async function loadPrevious(db: Db, key: AuthContext, id: string): Promise<StoredExchange | undefined> {
  if (!key.allowStore) {
    throw new AppError(400, "previous_response_not_found", `Previous response with id '${id}' not found: this API key does not store responses`, {
      param: "previous_response_id",
    });
  }
  const row = await db.storedResponse.findFirst({
    where: { id, orgId: key.orgId, apiKeyId: key.apiKeyId, expiresAt: { gt: new Date() } },
    select: { exchange: true },
  });
  return (row?.exchange as StoredExchange | undefined) ?? undefined;
}

async function store(db: Db, log: Logger, key: AuthContext, call: ParsedCall<ResponsesCall>, response: ResponsesResponse): Promise<void> {
  if (!key.allowStore || call.request.body.store === false) return;
  try {
    await db.storedResponse.create({
      data: {
        id: response.id,
        orgId: key.orgId,
        apiKeyId: key.apiKeyId,
        exchange: storedExchange(call.request.body, response, call.request.previous) as never,
        expiresAt: new Date(Date.now() + RETENTION_MS),
      },
    });
  } catch (error) {
    log.error({ err: error, response: response.id }, "could not store a response for previous_response_id");
  }
}

function responsesSurface(gw: Gateway): Surface<ResponsesCall> {
  const db = gw.rt.db.prisma;
  return {
    surface: "openai",
    endpoint: "responses",
    async parse(raw, key) {
      const body = parseOrThrow(responsesCreateRequest, raw);
      const previous = body.previous_response_id ? await loadPrevious(db, key, body.previous_response_id) : undefined;
      const request: ResponsesCall = { body, ids: newResponseIds(), ...(previous ? { previous } : {}) };
      return { request, canonical: responsesToChat(body, previous), stream: body.stream === true };
    },
    async render(result, usage, call, key) {
      const response = chatToResponse(result, call.request.body, call.request.ids, usage);
      await store(db, gw.rt.log, key, call, response);
      return response;
    },
    encoder(call, key) {
      const encoder = createResponsesStreamEncoder(call.request.body, call.request.ids);
      return {
        push: (chunk) => encoder.push(chunk),
        end(usage) {
          const frames = encoder.end(usage);
          void store(db, gw.rt.log, key, call, encoder.response());
          return frames;
        },
        error: (error, message) => encoder.error(message, error?.kind === "rate_limited" ? "rate_limit_exceeded" : "server_error"),
      };
    },
  };
}

export function responses(gw: Gateway, request: Request, requestId: string): Promise<Response> {
  return runCall(gw, request, requestId, responsesSurface(gw));
}
