import type { HealthReport } from "@/ops";
import { formatAge, formatTime } from "./format";
import styles from "./status.module.css";

/** The health checks as a table: what /api/health says, readable. */
export function HealthChecks({ health }: { health: HealthReport }) {
  const { database, migrations, webhook, events, reconcile } = health.checks;
  const rows: [string, string, string][] = [
    [
      "Database",
      database.status,
      database.latencyMs === null ? "no answer" : `answered in ${database.latencyMs} ms`,
    ],
    [
      "Migrations",
      migrations.status,
      migrations.pending === null
        ? "unknown"
        : migrations.pending.length === 0
          ? "all applied"
          : `pending: ${migrations.pending.join(", ")}`,
    ],
    [
      "Webhook secret",
      webhook.status,
      webhook.status === "ok" ? "configured" : "STACK_WEBHOOK_SECRET is not set",
    ],
    [
      "Events",
      events.status,
      `last processed ${formatAge(events.secondsSinceLastProcessed)}; last received ${formatTime(events.lastRecordedAt)}`,
    ],
    [
      "Reconcile",
      reconcile.status,
      reconcile.status === "not_configured"
        ? "STACK_SECRET_SERVER_KEY is not set"
        : `last success ${formatAge(reconcile.secondsSinceLastSuccess)} (allowed: ${(reconcile.maxAgeSeconds ?? 0) / 3600} h)` +
          (reconcile.lastRun?.status === "failed"
            ? `; last run failed: ${reconcile.lastRun.errorCode ?? "no code"}`
            : ""),
    ],
  ];
  return (
    <section>
      <h2>Health checks</h2>
      <table className={styles.table}>
        <thead>
          <tr>
            <th>Check</th>
            <th>Status</th>
            <th>Detail</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([name, status, detail]) => (
            <tr key={name}>
              <td>{name}</td>
              <td>
                <span className={`${styles.badge} ${styles[`status_${status}`] ?? ""}`}>
                  {status.replace("_", " ")}
                </span>
              </td>
              <td>{detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
