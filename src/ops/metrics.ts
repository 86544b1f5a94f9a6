import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { PrismaClient } from "../db";
import type { SyncStoreOptions } from "../db/sync-store";
import type { DeliveryOutcome } from "../webhooks/handler";
import { readEventSummary, readReconcileSummary, readReconcileTotals } from "./queries";

type RetryReason = Parameters<NonNullable<SyncStoreOptions["onRetry"]>>[0];

/** The service's Prometheus metrics: observers the webhook path calls, and the text `/api/metrics` serves. */
export interface Metrics {
  /** This service's own registry (never prom-client's global one, which other code in the process may fill). */
  readonly registry: Registry;
  observeDelivery(delivery: DeliveryOutcome): void;
  observeRetry(reason: RetryReason, attempt: number): void;
  observePasswordHash(durationMs: number): void;
  /** Refreshes the series read from the database, then renders every series in Prometheus text format. */
  render(prisma: PrismaClient): Promise<string>;
}

const PREFIX = "stack_sync_";
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15];
// bcrypt at cost 12 takes ~0.2–0.3 s on a server core; cost 4 (tests) a few ms.
const HASH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5];
// A verified type is Stack's own (`user.created`, `team.deleted`, …); anything else is not worth a series.
const TYPE_LABEL = /^[a-z][a-z0-9_.]{0,63}$/;

/** Builds a registry with the service's series and Node's default process metrics. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const events = new Counter({
    name: `${PREFIX}webhook_events_total`,
    help: "Webhook deliveries answered, by event type (none before the signature holds) and outcome.",
    labelNames: ["type", "outcome"] as const,
    registers,
  });
  const latency = new Histogram({
    name: `${PREFIX}webhook_duration_seconds`,
    help: "Time from request to response of a webhook delivery, by outcome.",
    labelNames: ["outcome"] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const hash = new Histogram({
    name: `${PREFIX}password_hash_duration_seconds`,
    help: "Time to bcrypt a new user's unusable password (outside the transaction).",
    buckets: HASH_BUCKETS,
    registers,
  });
  const retries = new Counter({
    name: `${PREFIX}db_retries_total`,
    help: "Database transactions run again: conflict (serialization, deadlock, lost race) or unavailable.",
    labelNames: ["reason"] as const,
    registers,
  });
  // Known label values start at 0, so a rate() over them works before the first retry.
  for (const reason of ["conflict", "unavailable"] as const) retries.inc({ reason }, 0);
  const fromDatabase = databaseSeries(registers);

  return {
    registry,
    observeDelivery(delivery) {
      events.inc({ type: typeLabel(delivery.type), outcome: delivery.outcome });
      latency.observe({ outcome: delivery.outcome }, delivery.durationMs / 1000);
    },
    observeRetry(reason) {
      retries.inc({ reason });
    },
    observePasswordHash(durationMs) {
      hash.observe(durationMs / 1000);
    },
    async render(prisma) {
      await fromDatabase.refresh(prisma);
      return registry.metrics();
    },
  };
}

/** The series read from the tables at scrape time: they hold what other processes (the reconcile job) did. */
function databaseSeries(registers: Registry[]) {
  const up = new Gauge({
    name: `${PREFIX}database_up`,
    help: "1 when the database answered this scrape's queries, else 0 (the series below are then stale).",
    registers,
  });
  const failed = new Gauge({
    name: `${PREFIX}failed_events`,
    help: "Events failed now and kept for replay (npm run events -- list --failed).",
    registers,
  });
  const lastProcessed = new Gauge({
    name: `${PREFIX}last_processed_event_timestamp_seconds`,
    help: "When a webhook delivery was last applied (0: never, within the event log's retention).",
    registers,
  });
  const runs = new Counter({
    name: `${PREFIX}reconcile_runs_total`,
    help: "Finished reconcile runs recorded in reconcile_runs (dry runs excluded), by status.",
    labelNames: ["status"] as const,
    registers,
  });
  const changes = new Counter({
    name: `${PREFIX}reconcile_users_total`,
    help: "Users created, updated and deleted by the recorded reconcile runs.",
    labelNames: ["change"] as const,
    registers,
  });
  const lastSuccess = new Gauge({
    name: `${PREFIX}reconcile_last_success_timestamp_seconds`,
    help: "When the last successful reconcile run finished (0: never).",
    registers,
  });

  return {
    async refresh(prisma: PrismaClient): Promise<void> {
      try {
        const [events, reconcile, totals] = await Promise.all([
          readEventSummary(prisma),
          readReconcileSummary(prisma),
          readReconcileTotals(prisma),
        ]);
        failed.set(events.failed);
        lastProcessed.set(seconds(events.lastProcessedAt));
        const success = reconcile.lastSucceeded;
        lastSuccess.set(seconds(success ? (success.finishedAt ?? success.startedAt) : null));
        // Totals are recounted from the table each scrape; a counter set this way only goes down if runs are deleted.
        runs.reset();
        changes.reset();
        for (const status of ["succeeded", "failed"] as const) runs.inc({ status }, totals.runs[status]);
        for (const change of ["created", "updated", "deleted"] as const)
          changes.inc({ change }, totals[change]);
        up.set(1);
      } catch {
        up.set(0);
      }
    },
  };
}

function typeLabel(type: string | null): string {
  if (type === null) return "none";
  return TYPE_LABEL.test(type) ? type : "other";
}

function seconds(date: Date | null): number {
  return date === null ? 0 : date.getTime() / 1000;
}
