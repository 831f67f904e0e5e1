/** What every gateway endpoint needs, created once per process by the handler. */
import type { Transport } from "../providers/transport";
import type { Runtime } from "../runtime";
import type { Authenticator } from "./auth";
import type { Admission, ResponseCache } from "./hooks";

export interface Gateway {
  rt: Runtime;
  auth: Authenticator;
  transport: Transport;
  /** Rate limits and budget reservations (server/ledger). */
  admission: Admission;
  /** Exact and semantic response cache (server/cache). */
  cache: ResponseCache;
}
