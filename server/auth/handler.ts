/**
 * /api/auth/* as `(Request) => Promise<Response>`. next-auth 4's App Router adapter reads the request through
 * `next/headers`, which leaves no way to tell it the origin Switchyard computed; its pages-router adapter takes
 * a plain request object instead, so this drives that one with a small response shim. The origin (public URL, or
 * Host plus forwarded protocol) is passed as the forwarded host and protocol next-auth trusts
 * (see enableNextAuthHostDetection in server/env.ts). Runs outside Next too, so integration tests cover it.
 */
import NextAuth from "next-auth/next";
import type { Runtime } from "../runtime";
import { authRuntime } from "./config";
import { buildAuthOptions } from "./options";
import { requestOrigin } from "./origin";

const PREFIX = "/api/auth/";

/** Collects what next-auth's API handler writes (status, headers, cookies, body) to build a fetch Response. */
class ResponseShim {
  statusCode = 200;
  readonly headers = new Map<string, string | string[]>();
  body: string | null = null;

  status(code: number) {
    this.statusCode = code;
    return this;
  }
  setHeader(name: string, value: string | string[]) {
    this.headers.set(name.toLowerCase(), value);
    return this;
  }
  getHeader(name: string) {
    return this.headers.get(name.toLowerCase());
  }
  end() {
    return this;
  }
  json(value: unknown) {
    this.setHeader("content-type", "application/json");
    this.body = JSON.stringify(value);
    return this;
  }
  send(value: unknown) {
    if (typeof value === "string") this.body = value;
    else if (value !== undefined && value !== null) this.json(value);
    return this;
  }
  toResponse(): Response {
    const headers = new Headers();
    for (const [name, value] of this.headers) {
      for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
    }
    if (!headers.has("cache-control")) headers.set("cache-control", "no-store");
    return new Response(this.body, { status: this.statusCode, headers });
  }
}

async function readBody(request: Request): Promise<Record<string, string> | undefined> {
  if (request.method !== "POST") return undefined;
  const type = request.headers.get("content-type") ?? "";
  if (type.includes("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(await request.text()));
  if (type.includes("application/json")) {
    const value: unknown = await request.json().catch(() => undefined);
    return value && typeof value === "object" ? (value as Record<string, string>) : undefined;
  }
  return undefined;
}

function parseCookies(header: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!(name in out)) {
      try {
        out[name] = decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        // a malformed cookie of someone else's is not ours to fail on
      }
    }
  }
  return out;
}

export function createAuthHandler(rt: Runtime): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const segments = url.pathname.startsWith(PREFIX) ? url.pathname.slice(PREFIX.length).split("/").filter(Boolean) : [];
    // `_log` lets a browser write into the server log: nothing we want.
    if (segments.length === 0 || segments[0] === "_log") return new Response("Not found", { status: 404 });
    const auth = await authRuntime(rt);
    const origin = requestOrigin(request.headers, rt.env);
    const headers: Record<string, string> = Object.fromEntries(request.headers);
    headers["x-forwarded-host"] = origin.host;
    headers["x-forwarded-proto"] = origin.secure ? "https" : "http";
    const query: Record<string, unknown> = Object.fromEntries(url.searchParams);
    query.nextauth = segments;
    const req = {
      method: request.method,
      headers,
      query,
      cookies: parseCookies(request.headers.get("cookie")),
      body: await readBody(request),
    };
    const res = new ResponseShim();
    const handle = NextAuth as unknown as (req: unknown, res: unknown, options: unknown) => Promise<unknown>;
    await handle(req, res, buildAuthOptions(rt, auth, origin));
    return res.toResponse();
  };
}
