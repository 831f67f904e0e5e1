/**
 * Production entry: `npm start` runs this file. Prints one clear line and exits non-zero on a configuration
 * or start-up problem; exits 0 after a graceful SIGTERM/SIGINT.
 */
import { StartupError } from "./db/client";
import { MigrationStateError } from "./db/migrate";
import { EnvError, loadEnv, rawEnv } from "./env";
import { createLogger } from "./obs/log";
import { startSwitchyard } from "./start";

async function main(): Promise<void> {
  let env;
  try {
    env = loadEnv();
  } catch (error) {
    if (error instanceof EnvError) fail(error.message);
    throw error;
  }
  const log = createLogger({ level: env.LOG_LEVEL });
  let app;
  try {
    app = await startSwitchyard(env, { log, vars: rawEnv() });
  } catch (error) {
    if (error instanceof StartupError || error instanceof MigrationStateError) fail(error.message);
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") fail(`port ${env.PORT} is already in use (set PORT)`);
    throw error;
  }
  log.info({ url: app.url, database: app.rt.db.kind, state: app.rt.state.kind }, "Switchyard is listening");
  process.stdout.write(`\nSwitchyard is running at ${app.url}  (gateway: ${app.url}/api/v1)\n\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: draining in-flight requests");
    app
      .stop()
      .then(({ forced }) => {
        log.info({ forced }, "shutdown complete");
        log.flush();
        process.exit(0);
      })
      .catch((error) => {
        log.error({ err: error }, "shutdown failed");
        log.flush();
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

function fail(message: string): never {
  process.stderr.write(`switchyard: ${message}\n`);
  process.exit(1);
}

main().catch((error) => {
  process.stderr.write(`switchyard: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
