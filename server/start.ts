/**
 * Starts Switchyard in this process: runtime (database, migrations, state), optionally Next.js, and the
 * HTTP server. Used by server/main.ts and by the integration tests (real server on a random port).
 */
import { createGatewayHandler } from "./gateway/handler";
import { createHttpServer, type HttpServer, type NodeHandler } from "./http";
import type { Env } from "./env";
import { createRuntime, setRuntime, type Runtime, type RuntimeOptions } from "./runtime";

export interface Switchyard {
  rt: Runtime;
  http: HttpServer;
  url: string;
  /** Graceful stop: drain requests, run shutdown hooks, close database and state. */
  stop(): Promise<{ forced: boolean }>;
}

export async function startSwitchyard(env: Env, options: RuntimeOptions & { ui?: boolean } = {}): Promise<Switchyard> {
  const rt = await createRuntime(env, options);
  setRuntime(rt);
  try {
    let next: NodeHandler | undefined;
    let closeNext: (() => Promise<void>) | undefined;
    if (options.ui ?? !env.SWITCHYARD_NO_UI) {
      const { default: createNext } = await import("next");
      const app = createNext({ dev: env.NODE_ENV === "development", dir: process.cwd(), hostname: env.HOST, port: env.PORT });
      await app.prepare();
      const handle = app.getRequestHandler();
      next = (req, res) => handle(req, res);
      closeNext = () => app.close();
    }
    const http = createHttpServer({ rt, gateway: createGatewayHandler(rt), next });
    const address = await http.listen(env.PORT, env.HOST);
    const host = env.HOST === "0.0.0.0" || env.HOST === "::" ? "localhost" : env.HOST;
    const url = env.SWITCHYARD_PUBLIC_URL ?? `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
    return {
      rt,
      http,
      url,
      async stop() {
        rt.draining = true;
        const result = await http.shutdown(env.SHUTDOWN_TIMEOUT_MS);
        await closeNext?.().catch(() => {});
        await rt.close();
        return result;
      },
    };
  } catch (error) {
    await rt.close();
    throw error;
  }
}
