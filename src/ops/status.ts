import { checkHealth, type HealthDeps, type HealthReport } from "./health";
import {
  readEvents,
  readReconcileRuns,
  readTableCounts,
  type EventRow,
  type ReconcileRunRow,
  type TableCounts,
} from "./queries";

export const RECENT_EVENTS = 25;
export const FAILED_EVENTS = 50;
export const RECONCILE_RUNS = 5;

/** Everything the status page shows, as plain data. */
export interface StatusData {
  health: HealthReport;
  /** Null when the tables could not be read (the health reasons say why). */
  tables: {
    counts: TableCounts;
    recentEvents: EventRow[];
    failedEvents: EventRow[];
    reconcileRuns: ReconcileRunRow[];
  } | null;
  reconcileConfigured: boolean;
  eventLogRetentionDays: number;
}

export interface StatusDeps extends HealthDeps {
  eventLogRetentionDays: number;
}

/** Reads the status page's data; never throws, so the page can always say what is wrong. */
export async function loadStatus(deps: StatusDeps): Promise<StatusData> {
  const health = await checkHealth(deps);
  const base = {
    health,
    reconcileConfigured: deps.reconcileMaxAgeMs !== null,
    eventLogRetentionDays: deps.eventLogRetentionDays,
  };
  if (health.checks.database.status !== "ok") return { ...base, tables: null };
  const prisma = deps.db.prisma;
  try {
    const [counts, recentEvents, failedEvents, reconcileRuns] = await Promise.all([
      readTableCounts(prisma),
      readEvents(prisma, { limit: RECENT_EVENTS }),
      readEvents(prisma, { failed: true, limit: FAILED_EVENTS }),
      readReconcileRuns(prisma, RECONCILE_RUNS),
    ]);
    return { ...base, tables: { counts, recentEvents, failedEvents, reconcileRuns } };
  } catch {
    return { ...base, tables: null };
  }
}
