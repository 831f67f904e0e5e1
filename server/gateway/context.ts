/** What every gateway endpoint needs, created once per process by the handler. */
import type { Transport } from "../providers/transport";
import type { Runtime } from "../runtime";
import type { Authenticator } from "./auth";

export interface Gateway {
  rt: Runtime;
  auth: Authenticator;
  transport: Transport;
}
