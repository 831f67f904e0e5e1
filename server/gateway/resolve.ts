/** The plan of a call lives in server/routing; this module keeps the gateway's import path. */
export { resolvePlan, resolveTarget, routeCall, type Plan, type PreparedTarget, type Target } from "../routing/resolve";
