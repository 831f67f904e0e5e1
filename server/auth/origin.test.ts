import { describe, expect, it } from "vitest";
import { allowedOriginHosts, requestOrigin } from "./origin";

describe("requestOrigin", () => {
  it("prefers the configured public URL", () => {
    expect(requestOrigin(new Headers({ host: "10.0.0.5:3000" }), { SWITCHYARD_PUBLIC_URL: "https://llm.example.com/" })).toEqual({
      origin: "https://llm.example.com",
      host: "llm.example.com",
      secure: true,
    });
  });

  it("uses Host and the forwarded protocol otherwise", () => {
    expect(requestOrigin(new Headers({ host: "127.0.0.1:3210" }), {})).toEqual({ origin: "http://127.0.0.1:3210", host: "127.0.0.1:3210", secure: false });
    const proxied = new Headers({ host: "internal:3000", "x-forwarded-host": "dash.example, internal", "x-forwarded-proto": "https,http" });
    expect(requestOrigin(proxied, {})).toEqual({ origin: "https://dash.example", host: "dash.example", secure: true });
  });
});

describe("allowedOriginHosts", () => {
  it("admits Host, X-Forwarded-Host and the public URL", () => {
    const hosts = allowedOriginHosts(new Headers({ host: "Internal:3000", "x-forwarded-host": "dash.example" }), { SWITCHYARD_PUBLIC_URL: "https://llm.example.com" });
    expect([...hosts].sort()).toEqual(["dash.example", "internal:3000", "llm.example.com"]);
  });
});
