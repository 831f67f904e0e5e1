import { describe, expect, it } from "vitest";
import { encodedBody, jsonResponse } from "./json-response";

const body = { id: "chatcmpl-1", choices: [{ message: { role: "assistant", content: "héllo ✓" } }] };

describe("jsonResponse", () => {
  it("answers like Response.json: status, headers, content type and body", async () => {
    const ours = jsonResponse(body, { status: 201, headers: { "x-switchyard-cost-usd": "0.1" } });
    const reference = Response.json(body, { status: 201, headers: { "x-switchyard-cost-usd": "0.1" } });
    expect(ours.status).toBe(reference.status);
    expect([...ours.headers]).toEqual([...reference.headers]);
    expect(await ours.text()).toBe(await reference.text());
  });

  it("keeps a content type the caller set", () => {
    expect(jsonResponse(body, { headers: { "Content-Type": "application/vnd.x+json" } }).headers.get("content-type")).toBe("application/vnd.x+json");
  });

  it("offers the encoded body until someone reads the response", async () => {
    const response = jsonResponse(body);
    expect(Buffer.from(encodedBody(response)!).toString("utf8")).toBe(JSON.stringify(body));
    await response.json();
    expect(encodedBody(response)).toBeUndefined();
    expect(encodedBody(Response.json(body))).toBeUndefined();
  });

  it("refuses what JSON cannot encode, as Response.json does", () => {
    expect(() => jsonResponse(undefined)).toThrow(TypeError);
    expect(() => jsonResponse({ n: 1n })).toThrow(TypeError);
  });
});
