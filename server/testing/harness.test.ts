import { describe, expect, it } from "vitest";
import { assertNoSecretsLogged, LogCapture, SEEDED_PROVIDER_KEY } from "./harness";

const SECRET = "f".repeat(64);
const API_KEY = "sy-dbHQyueTfb0UKXLeJGqquZgcnQcAMtLq";

describe("assertNoSecretsLogged (the integration suites' check for reliability case 25)", () => {
  it("passes a log with key prefixes and scrubbed values only", () => {
    const logs = new LogCapture();
    logs.logger.info({ keyPrefix: "sy-dbHQyu", keyLast4: SEEDED_PROVIDER_KEY.slice(-4) }, "request");
    // The logger's own backstop (server/obs/log.ts) scrubs key-shaped strings wherever they appear.
    logs.logger.debug({ detail: `client sent ${API_KEY}, upstream said invalid key sk-proj-${"x".repeat(30)}` }, "upstream");
    expect(logs.text()).not.toContain(API_KEY);
    expect(() => assertNoSecretsLogged(logs, SECRET)).not.toThrow();
  });

  it.each([
    ["a whole API key", `{"msg":"auth","detail":"${API_KEY}"}`],
    ["the seeded provider key", `{"msg":"upstream","detail":"${SEEDED_PROVIDER_KEY}"}`],
    ["the master secret", `{"msg":"env","detail":"${SECRET}"}`],
  ])("fails on %s in a line that reached the log (the master secret not repeated)", (what, line) => {
    const logs = new LogCapture();
    logs.lines.push(line); // as if written past the logger's scrubbing
    expect(() => assertNoSecretsLogged(logs, SECRET)).toThrow(`The server logged ${what}`);
    expect(() => assertNoSecretsLogged(logs, SECRET)).not.toThrow(SECRET);
  });

  it("fails on the master secret even when the logger wrote it (it has no key shape to scrub)", () => {
    const logs = new LogCapture();
    logs.logger.debug({ detail: `loaded ${SECRET}` }, "oops");
    expect(() => assertNoSecretsLogged(logs, SECRET)).toThrow("The server logged the master secret");
  });

  it("fails on the seeded provider key even when the logger wrote it: shaped like an Azure key, nothing scrubs it", () => {
    const logs = new LogCapture();
    logs.logger.warn({ detail: `upstream rejected ${SEEDED_PROVIDER_KEY}` }, "oops");
    expect(() => assertNoSecretsLogged(logs, SECRET)).toThrow("The server logged the seeded provider key");
  });
});
