import { describe, expect, it } from "vitest";
import { LogCapture } from "../testing/harness";
import { scrubSecrets } from "./log";

describe("logging never leaks secrets", () => {
  it("redacts known fields by path", () => {
    const logs = new LogCapture();
    logs.logger.info(
      {
        headers: { authorization: "Bearer abcdefghijkl", "x-api-key": "plainvalue123" },
        provider: { apiKey: "p-key-123456", encryptedKey: "v1:aaa" },
        user: { password: "hunter2hunter2" },
      },
      "request",
    );
    logs.logger.flush();
    const text = logs.text();
    expect(text).not.toContain("abcdefghijkl");
    expect(text).not.toContain("plainvalue123");
    expect(text).not.toContain("p-key-123456");
    expect(text).not.toContain("hunter2");
    expect(text).toContain("[REDACTED]");
  });

  it("scrubs key-shaped strings anywhere in a line", () => {
    const logs = new LogCapture();
    const apiKey = "sy-" + "A".repeat(40);
    logs.logger.error({ detail: `upstream said: bad key sk-proj-${"x".repeat(30)}` }, `key ${apiKey} rejected`);
    logs.logger.flush();
    expect(logs.text()).not.toContain(apiKey);
    expect(logs.text()).not.toContain("sk-proj-");
  });

  it("scrubs the prefixed key formats of the OpenAI-compatible providers", () => {
    const body = "Q7vW2mZk9LpR4tYx8NcB3dFh6JsG1aE5";
    for (const key of [`gsk_${body}`, `fw_${body}`, `hf_${body}`, `xai-${body}`, `pplx-${body}`, `csk-${body}`, `sk-ant-api03-${body}`, `AIzaSy${body}`]) {
      expect(scrubSecrets(`upstream 401: invalid key ${key} (check the provider)`)).toBe("upstream 401: invalid key [REDACTED] (check the provider)");
    }
    // Words that merely start like a prefix stay.
    const text = "xai-grok-4-fast-reasoning-latest and pplx-sonar-reasoning-pro are model ids; hf_transfer is a flag";
    expect(scrubSecrets(text)).toBe(text);
  });

  it("keeps ordinary text and the prefix of bearer/query secrets", () => {
    expect(scrubSecrets("model gpt-4o-mini answered")).toBe("model gpt-4o-mini answered");
    expect(scrubSecrets("Authorization: Bearer abc.def-123456")).toBe("Authorization: Bearer [REDACTED]");
    expect(scrubSecrets("GET /v1beta/models?key=AIzaSecretValue&alt=sse")).toBe("GET /v1beta/models?key=[REDACTED]&alt=sse");
  });
});
