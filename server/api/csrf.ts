/**
 * Cross-site request refusal for tRPC. The session cookie is SameSite=Lax already; these checks make a forged
 * request fail even where that is not enough (old browsers, same-site subdomains, a form or a `text/plain` fetch,
 * which browsers send cross-site without a CORS preflight):
 * - only GET and POST; GET only for queries (a mutation over GET could ride on a link or an <img>);
 * - a POST must be `application/json` (never text/plain, forms or multipart: those need no preflight);
 * - a POST from a browser must be same-origin: `Sec-Fetch-Site` (when sent) is `same-origin`, and `Origin`
 *   (when sent) names this host. Non-browser clients send neither and carry no victim's cookie.
 */
import type { Env } from "../env";
import { allowedOriginHosts } from "../auth/origin";

export interface Refusal {
  status: 403 | 405 | 415;
  code: "FORBIDDEN" | "METHOD_NOT_SUPPORTED" | "UNSUPPORTED_MEDIA_TYPE";
  message: string;
}

/**
 * Checks a tRPC HTTP request before any procedure runs. `procedureType` says what each called path is
 * (undefined for an unknown path, which tRPC answers itself).
 */
export function checkTrpcRequest(
  request: Pick<Request, "method" | "headers">,
  paths: readonly string[],
  procedureType: (path: string) => "query" | "mutation" | "subscription" | undefined,
  env: Pick<Env, "SWITCHYARD_PUBLIC_URL">,
): Refusal | null {
  const method = request.method.toUpperCase();
  if (method !== "GET" && method !== "POST") return { status: 405, code: "METHOD_NOT_SUPPORTED", message: `${method} is not allowed` };
  if (method === "GET") {
    const mutation = paths.find((path) => procedureType(path) === "mutation");
    return mutation ? { status: 405, code: "METHOD_NOT_SUPPORTED", message: `${mutation} is a mutation: send it with POST` } : null;
  }
  const type = (request.headers.get("content-type") ?? "").split(";", 1)[0]!.trim().toLowerCase();
  if (type !== "application/json") return { status: 415, code: "UNSUPPORTED_MEDIA_TYPE", message: "POST bodies must be application/json" };
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin") return { status: 403, code: "FORBIDDEN", message: "Cross-site request refused" };
  const origin = request.headers.get("origin");
  if (origin !== null) {
    let host: string | null = null;
    try {
      host = new URL(origin).host.toLowerCase();
    } catch {
      // "null" (sandboxed frames, some redirects) and garbage are not this origin
    }
    if (!host || !allowedOriginHosts(request.headers, env).has(host)) {
      return { status: 403, code: "FORBIDDEN", message: "Cross-site request refused" };
    }
  }
  return null;
}
