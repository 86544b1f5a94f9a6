import type { Database } from "../db";
import { readEventSummary, readReconcileSummary, type EventSummary, type ReconcileSummary } from "./queries";

/** Why the health check answers 503, as machine codes (docs/OPERATIONS.md says what to do about each). */
export type HealthReason =
  | "database_unreachable"
  | "database_query_failed"
  | "migrations_pending"
  | "webhook_not_configured"
  | "reconcile_failed"
  | "reconcile_stale";

/** A reconcile run a day plus an hour of slack: one missed daily run turns health red. */
export const DEFAULT_RECONCILE_MAX_AGE_HOURS = 25;

/** Every check gives up after this long: a monitor must get an answer even from a hung database. */
export const CHECK_TIMEOUT_MS = 3_000;

export interface HealthDeps {
  db: Pick<Database, "prisma" | "pendingMigrations">;
  /** False in production without a webhook secret: every delivery is answered 503. */
  webhookConfigured: boolean;
  /** Oldest acceptable last successful reconcile; null when reconcile is not configured (no server key). */
  reconcileMaxAgeMs: number | null;
  /** Process start: a reconcile that never ran becomes stale only once the process is older than the max age. */
  startedAt: Date;
  now?: () => Date;
}

type CheckStatus = "ok" | "failing" | "skipped" | "not_configured";

/** The health check's answer. Holds no user data and no secrets: it is served without authentication. */
export interface HealthReport {
  status: "ok" | "unhealthy";
  reasons: HealthReason[];
  checkedAt: string;
  checks: {
    database: { status: CheckStatus; latencyMs: number | null };
    migrations: { status: CheckStatus; pending: string[] | null };
    webhook: { status: CheckStatus };
    events: {
      status: CheckStatus;
      lastProcessedAt: string | null;
      secondsSinceLastProcessed: number | null;
      lastRecordedAt: string | null;
      failed: number | null;
    };
    reconcile: {
      status: CheckStatus;
      maxAgeSeconds: number | null;
      lastSucceededAt: string | null;
      secondsSinceLastSuccess: number | null;
      lastRun: { status: string; errorCode: string | null; finishedAt: string | null } | null;
    };
  };
}

/** Runs every check; never throws (a failing check is a reason, not an exception). */
export async function checkHealth(deps: HealthDeps): Promise<HealthReport> {
  const now = deps.now?.() ?? new Date();
  const reasons: HealthReason[] = [];
  const database = await ping(deps.db);
  if (database === null) reasons.push("database_unreachable");

  const [pending, events, reconcile] =
    database === null
      ? [undefined, undefined, undefined]
      : await Promise.all([
          settle(deps.db.pendingMigrations()),
          settle(readEventSummary(deps.db.prisma)),
          deps.reconcileMaxAgeMs === null ? undefined : settle(readReconcileSummary(deps.db.prisma)),
        ]);
  if (pending === null) reasons.push("database_unreachable");
  if (pending && pending.length > 0) reasons.push("migrations_pending");
  if (!deps.webhookConfigured) reasons.push("webhook_not_configured");
  if (events === null || reconcile === null) reasons.push("database_query_failed");
  const reconcileCheck = checkReconcile(reconcile, deps, now);
  reasons.push(...reconcileCheck.reasons);

  const unique = [...new Set(reasons)];
  return {
    status: unique.length === 0 ? "ok" : "unhealthy",
    reasons: unique,
    checkedAt: now.toISOString(),
    checks: {
      database: { status: database === null ? "failing" : "ok", latencyMs: database },
      migrations: {
        status: pending === undefined ? "skipped" : pending === null || pending.length > 0 ? "failing" : "ok",
        pending: pending ?? null,
      },
      webhook: { status: deps.webhookConfigured ? "ok" : "not_configured" },
      events: eventsCheck(events, now),
      reconcile: reconcileCheck.check,
    },
  };
}

/** The health report as the HTTP answer: 200 when ok, else 503; never cached. */
export function healthResponse(report: HealthReport): Response {
  return Response.json(report, {
    status: report.status === "ok" ? 200 : 503,
    headers: { "cache-control": "no-store" },
  });
}

/** Round-trip time of a trivial query in ms, or null when the database does not answer in time. */
async function ping(db: HealthDeps["db"]): Promise<number | null> {
  const started = performance.now();
  const answered = await settle(db.prisma.$queryRaw`SELECT 1`);
  return answered === null ? null : Math.round((performance.now() - started) * 10) / 10;
}

/** The value, or null when the promise rejects or outlasts CHECK_TIMEOUT_MS. */
async function settle<T>(promise: Promise<T>): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), CHECK_TIMEOUT_MS)));
  try {
    return await Promise.race([promise.catch(() => null), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function eventsCheck(events: EventSummary | null | undefined, now: Date): HealthReport["checks"]["events"] {
  return {
    status: events === undefined ? "skipped" : events === null ? "failing" : "ok",
    lastProcessedAt: events?.lastProcessedAt?.toISOString() ?? null,
    secondsSinceLastProcessed: secondsBetween(events?.lastProcessedAt ?? null, now),
    lastRecordedAt: events?.lastRecordedAt?.toISOString() ?? null,
    failed: events?.failed ?? null,
  };
}

function checkReconcile(
  summary: ReconcileSummary | null | undefined,
  deps: HealthDeps,
  now: Date,
): { check: HealthReport["checks"]["reconcile"]; reasons: HealthReason[] } {
  const maxAgeMs = deps.reconcileMaxAgeMs;
  const lastSuccess = summary?.lastSucceeded ?? null;
  const succeededAt = lastSuccess ? (lastSuccess.finishedAt ?? lastSuccess.startedAt) : null;
  const last = summary?.lastFinished ?? null;
  const reasons: HealthReason[] = [];
  if (maxAgeMs !== null && summary) {
    if (last?.status === "failed") reasons.push("reconcile_failed");
    // Never succeeded: count from the process start, so a fresh deployment is not red before its first run.
    const since = succeededAt ?? deps.startedAt;
    if (now.getTime() - since.getTime() > maxAgeMs) reasons.push("reconcile_stale");
  }
  const status: CheckStatus =
    maxAgeMs === null
      ? "not_configured"
      : summary === undefined
        ? "skipped"
        : summary === null || reasons.length > 0
          ? "failing"
          : "ok";
  return {
    reasons,
    check: {
      status,
      maxAgeSeconds: maxAgeMs === null ? null : maxAgeMs / 1000,
      lastSucceededAt: succeededAt?.toISOString() ?? null,
      secondsSinceLastSuccess: secondsBetween(succeededAt, now),
      lastRun: last && {
        status: last.status,
        errorCode: last.errorCode,
        finishedAt: last.finishedAt?.toISOString() ?? null,
      },
    },
  };
}

function secondsBetween(then: Date | null, now: Date): number | null {
  return then === null ? null : Math.max(0, Math.round((now.getTime() - then.getTime()) / 1000));
}
