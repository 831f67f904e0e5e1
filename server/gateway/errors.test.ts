import { describe, expect, it } from "vitest";
import { AppError, renderAnthropicError, renderOpenAIError, toAppError } from "./errors";

describe("error rendering", () => {
  it("renders the OpenAI envelope with a stable code", async () => {
    const res = renderOpenAIError(new AppError(400, "invalid_value", "temperature must be a number", { param: "temperature" }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { message: "temperature must be a number", type: "invalid_request_error", param: "temperature", code: "invalid_value" },
    });
  });

  it("renders the Anthropic envelope", async () => {
    const res = renderAnthropicError(new AppError(401, "invalid_api_key", "Invalid API key"));
    expect(await res.json()).toEqual({
      type: "error",
      error: { type: "authentication_error", message: "Invalid API key", code: "invalid_api_key" },
    });
  });

  it("hides the details of unexpected errors and scrubs secrets from messages", async () => {
    const hidden = toAppError(new Error("connect ECONNREFUSED 10.0.0.1 with key sk-abcdefghijklmnopqrstuvwxyz"));
    expect(hidden.status).toBe(500);
    expect(hidden.message).toBe("Internal server error");
    const res = renderOpenAIError(new AppError(401, "invalid_api_key", "key sy-ABCDEFGHIJKLMNOPQRSTUV is revoked"));
    expect(JSON.stringify(await res.json())).not.toContain("sy-ABCDEFGHIJKLMNOPQRSTUV");
  });
});
