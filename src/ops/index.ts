import type { Config } from "../config";
import type { Database } from "../db";
import {
  credentialsOf,
  handleAdminLogin,
  isAdmin,
  unauthorizedResponse,
  type AdminAccess,
  type Credentials,
} from "./auth";
import { DEFAULT_RECONCILE_MAX_AGE_HOURS, checkHealth, healthResponse, type HealthDeps } from "./health";
import type { Metrics } from "./metrics";
import { reconcileEndpoint, type RunReconcile } from "./reconcile-now";
import { loadStatus, type StatusData } from "./status";

export { ADMIN_COOKIE, isAdmin, type AdminAccess, type Credentials } from "./auth";
export { checkHealth, healthResponse, type HealthReason, type HealthReport } from "./health";
export { createMetrics, type Metrics } from "./metrics";
export { describeReplay, replayEvent, type ReplayOutcome } from "./events";
export { readEvents, type EventRow, type ReconcileRunRow, type TableCounts } from "./queries";
export { recordReconcileRun, type ReconcileCounts, type RecordRunOptions } from "./reconcile-runs";
export { loadStatus, type StatusData } from "./status";
export type { RunReconcile } from "./reconcile-now";

/** What the status page renders: the data, or the sign-in form when the request does not open it. */
export type StatusView = { kind: "status"; data: StatusData } | { kind: "sign_in"; tokenConfigured: boolean };

/** The operator surfaces, framework-free; the routes under src/app call these and nothing else. */
export interface Ops {
  /** `GET /api/health`: open to all, and holds no user data or secrets. */
  health(request: Request): Promise<Response>;
  /** `GET /api/metrics`: Prometheus text; needs the admin token in production. */
  metrics(request: Request): Promise<Response>;
  /** `POST /api/admin/session`: the status page's sign-in form. */
  signIn(request: Request): Promise<Response>;
  /** The status page's data for these credentials. */
  status(credentials: Credentials): Promise<StatusView>;
  /** `POST /api/admin/reconcile`: a reconcile run in this process; needs the admin token in production. */
  reconcile(request: Request): Promise<Response>;
}

export interface OpsDeps {
  config: Config;
  db: Pick<Database, "prisma" | "pendingMigrations">;
  metrics: Metrics;
  startedAt: Date;
  /** Null when Stack's server API is not configured. */
  runReconcile?: RunReconcile | null;
}

/** Builds the operator surfaces over a running service's parts. */
export function createOps({ config, db, metrics, startedAt, runReconcile = null }: OpsDeps): Ops {
  const access: AdminAccess = { required: config.production, token: config.adminToken };
  const reconcileConfigured = config.stack.secretServerKey !== undefined;
  const maxAgeHours = config.reconcileMaxAgeHours ?? DEFAULT_RECONCILE_MAX_AGE_HOURS;
  const healthDeps: HealthDeps = {
    db,
    // Outside production a development secret is always made, so only production can lack one.
    webhookConfigured: !config.production || config.webhookSecrets.length > 0,
    reconcileMaxAgeMs: reconcileConfigured ? maxAgeHours * 60 * 60 * 1000 : null,
    startedAt,
  };
  return {
    health: async () => healthResponse(await checkHealth(healthDeps)),
    async metrics(request) {
      if (!isAdmin(access, credentialsOf(request))) return unauthorizedResponse();
      return new Response(await metrics.render(db.prisma), {
        headers: { "content-type": metrics.registry.contentType, "cache-control": "no-store" },
      });
    },
    signIn: (request) => handleAdminLogin(request, access),
    reconcile: reconcileEndpoint(access, runReconcile),
    async status(credentials) {
      if (!isAdmin(access, credentials))
        return { kind: "sign_in", tokenConfigured: access.token !== undefined };
      const data = await loadStatus({ ...healthDeps, eventLogRetentionDays: config.eventLogRetentionDays });
      return { kind: "status", data };
    },
  };
}
