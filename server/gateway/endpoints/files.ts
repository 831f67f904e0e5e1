/**
 * The OpenAI Files API, for batch input: POST /files (multipart/form-data, purpose "batch"), GET /files,
 * GET /files/{id}, GET /files/{id}/content. Files belong to the calling key's organization and team.
 */
import { fileObject, listPage } from "../../batch/objects";
import { createFile, fileContent, findFile, listFiles, type Scope } from "../../batch/store";
import { readCappedBody } from "../body";
import type { Gateway } from "../context";
import { AppError } from "../errors";
import { pageQuery } from "./batches";

export async function files(gw: Gateway, request: Request, path: string): Promise<Response> {
  const key = await gw.auth.authenticate(request.headers);
  const scope: Scope = { orgId: key.orgId, teamId: key.teamId, apiKeyId: key.apiKeyId };
  const db = gw.rt.db.prisma;
  const [, , id, sub, ...rest] = path.split("/");
  if (id === undefined) {
    if (request.method === "POST") return Response.json(fileObject(await createFile(db, scope, await readUpload(request, gw.rt.env.SWITCHYARD_MAX_BODY_BYTES))));
    if (request.method !== "GET") throw methodNotAllowed(request.method, path);
    const url = new URL(request.url);
    const page = await listFiles(db, scope, { ...pageQuery(url, 10_000), purpose: url.searchParams.get("purpose") ?? undefined });
    return Response.json(listPage(page.rows.map(fileObject), page.hasMore));
  }
  if (request.method !== "GET") throw methodNotAllowed(request.method, path);
  const fileId = decodeURIComponent(id);
  if (sub === undefined) return Response.json(fileObject(await findFile(db, scope, fileId)));
  if (sub === "content" && rest.length === 0) {
    const file = await fileContent(db, scope, fileId);
    return new Response(Buffer.from(file.content), {
      headers: { "content-type": "application/octet-stream", "content-disposition": `attachment; filename="${file.filename.replace(/["\\\r\n]/g, "_")}"` },
    });
  }
  throw new AppError(404, "unknown_url", `Unknown request URL: ${request.method} /api/v1${path}`);
}

/** Reads a multipart upload under the body cap: the `file` part and `purpose` ("batch" is the one purpose served). */
async function readUpload(request: Request, maxBytes: number): Promise<{ purpose: string; filename: string; content: Uint8Array }> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("multipart/form-data")) {
    throw new AppError(415, "unsupported_media_type", `Content-Type must be multipart/form-data (got ${type.split(";", 1)[0] || "none"})`);
  }
  const bytes = await readCappedBody(request, maxBytes, () => tooLarge(maxBytes));
  let form: FormData;
  try {
    form = await new Response(bytes, { headers: { "content-type": type } }).formData();
  } catch {
    throw new AppError(400, "invalid_multipart", "The request body is not valid multipart/form-data");
  }
  const purpose = form.get("purpose");
  const file = form.get("file");
  if (typeof purpose !== "string") throw new AppError(400, "missing_required_parameter", "Missing required parameter: 'purpose'", { param: "purpose" });
  if (purpose !== "batch") throw new AppError(400, "invalid_value", `Invalid value for 'purpose': only 'batch' files are accepted (got '${purpose.slice(0, 64)}')`, { param: "purpose" });
  if (file === null || typeof file === "string") throw new AppError(400, "missing_required_parameter", "Missing required parameter: 'file'", { param: "file" });
  const content = new Uint8Array(await file.arrayBuffer());
  if (content.byteLength === 0) throw new AppError(400, "invalid_value", "The uploaded file is empty", { param: "file" });
  return { purpose, filename: (file.name || "upload.jsonl").slice(0, 255), content };
}

function tooLarge(maxBytes: number): AppError {
  return new AppError(413, "request_too_large", `The upload exceeds the limit of ${maxBytes} bytes`);
}

function methodNotAllowed(method: string, path: string): AppError {
  return new AppError(405, "method_not_allowed", `Method ${method} is not allowed on /api/v1${path}`);
}
