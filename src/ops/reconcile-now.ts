import { errorResponse } from "../errors";
import { ReconcileRefusedError, type ReconcileSummary } from "../reconcile";
import { credentialsOf, isAdmin, unauthorizedResponse, type AdminAccess } from "./auth";

/** One reconcile run inside the service (recorded like any other run). */
export type RunReconcile = (options: { dryRun: boolean; force: boolean }) => Promise<ReconcileSummary>;

/**
 * `POST /api/admin/reconcile[?dry_run=1][&force=1]`: a reconcile run in the service's own process. The embedded
 * database can be open in one process only, so with it this is the way to reconcile while the service runs.
 * One run at a time; the answer is the run's summary.
 */
export function reconcileEndpoint(
  access: AdminAccess,
  run: RunReconcile | null,
): (request: Request) => Promise<Response> {
  let running = false;
  return async (request) => {
    if (request.method !== "POST") return errorResponse("method_not_allowed");
    if (!isAdmin(access, credentialsOf(request))) return unauthorizedResponse();
    if (!run) return errorResponse("stack_api_not_configured");
    if (running) return errorResponse("reconcile_running");
    const query = new URL(request.url).searchParams;
    const flag = (name: string) => ["1", "true", "yes"].includes(query.get(name) ?? "");
    running = true;
    try {
      const summary = await run({ dryRun: flag("dry_run"), force: flag("force") });
      return Response.json({ status: "succeeded", summary });
    } catch (error) {
      if (error instanceof ReconcileRefusedError) {
        return Response.json({ status: "refused", summary: error.summary }, { status: 409 });
      }
      return errorResponse("unavailable");
    } finally {
      running = false;
    }
  };
}
