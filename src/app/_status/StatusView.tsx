import type { StatusData } from "@/ops";
import { EventTable } from "./EventTable";
import { HealthChecks } from "./HealthChecks";
import { ReconcileTable } from "./ReconcileTable";
import { REASON_TEXT, ageOf, formatAge, formatTime } from "./format";
import styles from "./status.module.css";

/** Seconds between reloads: the page refreshes itself with a meta tag, no script. */
const REFRESH_SECONDS = 30;

/** The whole status page, from plain data. */
export function StatusView({ data }: { data: StatusData }) {
  const { health, tables } = data;
  const now = new Date(health.checkedAt);
  const ok = health.status === "ok";
  const lastRun = tables?.reconcileRuns.find((run) => !run.dryRun && run.status !== "running") ?? null;
  return (
    <main className={styles.page}>
      <meta httpEquiv="refresh" content={String(REFRESH_SECONDS)} />
      <header className={styles.header}>
        <h1>stack-sync</h1>
        <p className={ok ? styles.ok : styles.bad} data-testid="health-status">
          {ok ? "Healthy" : "Unhealthy"}
        </p>
        <p className={styles.muted}>
          Checked {formatTime(health.checkedAt)} · reloads every {REFRESH_SECONDS} s
        </p>
      </header>

      {!ok && (
        <ul className={styles.reasons}>
          {health.reasons.map((reason) => (
            <li key={reason}>
              <code>{reason}</code> {REASON_TEXT[reason]}
            </li>
          ))}
        </ul>
      )}

      <section className={styles.cards} aria-label="Summary">
        <Card label="Users" value={tables?.counts.users} testId="count-users" />
        <Card label="Profiles" value={tables?.counts.profiles} testId="count-profiles" />
        <Card label="Deleted (tombstones)" value={tables?.counts.tombstones} testId="count-tombstones" />
        <Card label="Failed events" value={health.checks.events.failed} testId="count-failed" alert />
        <Card
          label="Last event processed"
          value={formatAge(health.checks.events.secondsSinceLastProcessed)}
        />
        <Card
          label="Last reconcile"
          value={
            !data.reconcileConfigured
              ? "not configured"
              : lastRun
                ? `${lastRun.status} ${formatAge(ageOf(lastRun.finishedAt ?? lastRun.startedAt, now))}`
                : "never"
          }
        />
      </section>

      <HealthChecks health={health} />

      {tables === null ? (
        <p className={styles.bad}>The tables cannot be read now; see the health reasons above.</p>
      ) : (
        <>
          <EventTable
            title={`Failed events (${tables.failedEvents.length})`}
            note="Kept with their body for replay: npm run events -- replay <svix-id>"
            empty="No failed events."
            rows={tables.failedEvents}
            testId="failed-events"
          />
          <EventTable
            title="Recent events"
            note={`Newest first; the event log keeps ${data.eventLogRetentionDays} days.`}
            empty="No events yet."
            rows={tables.recentEvents}
            testId="recent-events"
          />
          <ReconcileTable runs={tables.reconcileRuns} configured={data.reconcileConfigured} />
        </>
      )}
    </main>
  );
}

function Card(props: {
  label: string;
  value: number | string | null | undefined;
  testId?: string;
  alert?: boolean;
}) {
  const value = props.value ?? "—";
  const alerting = props.alert === true && typeof value === "number" && value > 0;
  return (
    <div className={alerting ? `${styles.card} ${styles.cardAlert}` : styles.card}>
      <div className={styles.cardLabel}>{props.label}</div>
      <div className={styles.cardValue} data-testid={props.testId}>
        {value}
      </div>
    </div>
  );
}
