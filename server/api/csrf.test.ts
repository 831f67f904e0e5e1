import { describe, expect, it } from "vitest";
import { checkTrpcRequest } from "./csrf";

const types: Record<string, "query" | "mutation"> = { "teams.list": "query", "teams.create": "mutation" };
const typeOf = (path: string) => types[path];

function check(method: string, headers: Record<string, string>, paths = ["teams.create"], publicUrl?: string) {
  return checkTrpcRequest({ method, headers: new Headers({ host: "dash.test", ...headers }) }, paths, typeOf, { SWITCHYARD_PUBLIC_URL: publicUrl });
}

describe("checkTrpcRequest", () => {
  it("admits same-origin JSON mutations and non-browser clients", () => {
    expect(check("POST", { "content-type": "application/json", origin: "http://dash.test", "sec-fetch-site": "same-origin" })).toBeNull();
    expect(check("POST", { "content-type": "application/json; charset=utf-8" })).toBeNull();
    expect(check("GET", {}, ["teams.list"])).toBeNull();
  });

  it("refuses GET for mutations, even inside a batch", () => {
    expect(check("GET", {}, ["teams.list", "teams.create"])).toMatchObject({ status: 405 });
  });

  it("refuses methods other than GET and POST", () => {
    for (const method of ["PUT", "PATCH", "DELETE", "OPTIONS"]) expect(check(method, {})).toMatchObject({ status: 405 });
  });

  it("refuses bodies a cross-site form or fetch can send without a preflight", () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]) {
      expect(check("POST", type ? { "content-type": type } : {})).toMatchObject({ status: 415 });
    }
  });

  it("refuses foreign or opaque origins and cross-site fetch metadata", () => {
    const json = { "content-type": "application/json" };
    expect(check("POST", { ...json, origin: "https://evil.example" })).toMatchObject({ status: 403 });
    expect(check("POST", { ...json, origin: "null" })).toMatchObject({ status: 403 });
    expect(check("POST", { ...json, origin: "http://dash.test.evil.example" })).toMatchObject({ status: 403 });
    expect(check("POST", { ...json, "sec-fetch-site": "cross-site" })).toMatchObject({ status: 403 });
    expect(check("POST", { ...json, "sec-fetch-site": "same-site" })).toMatchObject({ status: 403 });
  });

  it("admits the public URL's origin when a proxy rewrites Host", () => {
    const headers = { "content-type": "application/json", origin: "https://llm.example.com", host: "10.0.0.5:3000" };
    expect(check("POST", headers, ["teams.create"], "https://llm.example.com")).toBeNull();
    expect(check("POST", headers, ["teams.create"])).toMatchObject({ status: 403 });
  });
});
