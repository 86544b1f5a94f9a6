import type { PrismaClient } from "../db";

/** What the event log says about the flow of deliveries. */
export interface EventSummary {
  /** Last time a delivery was applied (outcome `processed`). */
  lastProcessedAt: Date | null;
  /** Last time any delivery was recorded, whatever its outcome. */
  lastRecordedAt: Date | null;
  /** Deliveries failed now (within the retention), each with its payload kept for replay. */
  failed: number;
}

/** One run of the reconcile job, as recorded in `reconcile_runs`. */
export interface ReconcileRunRow {
  id: string;
  status: "running" | "succeeded" | "failed";
  dryRun: boolean;
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  errorCode: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

/** The reconcile runs that matter to health: dry runs change nothing, so they never count. */
export interface ReconcileSummary {
  lastFinished: ReconcileRunRow | null;
  lastSucceeded: ReconcileRunRow | null;
}

const RUN_FIELDS = {
  id: true,
  status: true,
  dryRun: true,
  created: true,
  updated: true,
  deleted: true,
  unchanged: true,
  errorCode: true,
  startedAt: true,
  finishedAt: true,
} as const;

/** Reads the event log's summary: two indexed aggregates and a count over the failed rows. */
export async function readEventSummary(prisma: PrismaClient): Promise<EventSummary> {
  const [processed, any, failed] = await Promise.all([
    prisma.webhookEvent.aggregate({ where: { outcome: "processed" }, _max: { lastSeenAt: true } }),
    prisma.webhookEvent.aggregate({ _max: { lastSeenAt: true } }),
    prisma.webhookEvent.count({ where: { outcome: "failed" } }),
  ]);
  return { lastProcessedAt: processed._max.lastSeenAt, lastRecordedAt: any._max.lastSeenAt, failed };
}

/** The last finished and the last successful real (not dry) reconcile run. */
export async function readReconcileSummary(prisma: PrismaClient): Promise<ReconcileSummary> {
  const [lastFinished, lastSucceeded] = await Promise.all([
    prisma.reconcileRun.findFirst({
      where: { dryRun: false, status: { not: "running" } },
      orderBy: { startedAt: "desc" },
      select: RUN_FIELDS,
    }),
    prisma.reconcileRun.findFirst({
      where: { dryRun: false, status: "succeeded" },
      orderBy: { startedAt: "desc" },
      select: RUN_FIELDS,
    }),
  ]);
  return { lastFinished, lastSucceeded };
}

/** Totals over every recorded real run, for the metrics' counters. */
export interface ReconcileTotals {
  runs: { succeeded: number; failed: number };
  created: number;
  updated: number;
  deleted: number;
}

/** Sums the recorded real runs (a failed run may have written some changes before it stopped). */
export async function readReconcileTotals(prisma: PrismaClient): Promise<ReconcileTotals> {
  const groups = await prisma.reconcileRun.groupBy({
    by: ["status"],
    where: { dryRun: false, status: { not: "running" } },
    _count: { _all: true },
    _sum: { created: true, updated: true, deleted: true },
  });
  const totals: ReconcileTotals = { runs: { succeeded: 0, failed: 0 }, created: 0, updated: 0, deleted: 0 };
  for (const group of groups) {
    if (group.status === "running") continue;
    totals.runs[group.status] = group._count._all;
    totals.created += group._sum.created ?? 0;
    totals.updated += group._sum.updated ?? 0;
    totals.deleted += group._sum.deleted ?? 0;
  }
  return totals;
}

/** A row of the event log, without its payload (which may hold emails). */
export interface EventRow {
  svixId: string;
  type: string | null;
  userId: string | null;
  outcome: "processed" | "ignored" | "failed";
  errorCode: string | null;
  attempts: number;
  /** Whether the body is kept for replay (failed events only). */
  hasPayload: boolean;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/** The most recently seen events, newest first; only failed ones with `failed`. */
export async function readEvents(
  prisma: PrismaClient,
  options: { failed?: boolean; limit: number },
): Promise<EventRow[]> {
  const rows = await prisma.webhookEvent.findMany({
    where: options.failed ? { outcome: "failed" } : {},
    orderBy: [{ lastSeenAt: "desc" }, { svixId: "asc" }],
    take: options.limit,
    select: {
      svixId: true,
      type: true,
      userId: true,
      outcome: true,
      errorCode: true,
      attempts: true,
      firstSeenAt: true,
      lastSeenAt: true,
    },
  });
  // Payloads are not read: one can be 2 MiB, and they hold emails. Only whether one is kept.
  const withPayload = await prisma.webhookEvent.findMany({
    where: { svixId: { in: rows.map((r) => r.svixId) }, payload: { not: null } },
    select: { svixId: true },
  });
  const kept = new Set(withPayload.map((r) => r.svixId));
  return rows.map((row) => ({ ...row, hasPayload: kept.has(row.svixId) }));
}

/** The most recent reconcile runs, dry runs included, newest first. */
export async function readReconcileRuns(prisma: PrismaClient, limit: number): Promise<ReconcileRunRow[]> {
  return prisma.reconcileRun.findMany({ orderBy: { startedAt: "desc" }, take: limit, select: RUN_FIELDS });
}

/** Row counts of the synced tables. */
export interface TableCounts {
  users: number;
  profiles: number;
  tombstones: number;
}

/** Counts users, profiles and tombstones (exact counts: the status page is opened by people, not scraped). */
export async function readTableCounts(prisma: PrismaClient): Promise<TableCounts> {
  const [users, profiles, tombstones] = await Promise.all([
    prisma.user.count(),
    prisma.profile.count(),
    prisma.userTombstone.count(),
  ]);
  return { users, profiles, tombstones };
}
