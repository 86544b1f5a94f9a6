import type { EventRow } from "@/ops";
import { formatTime } from "./format";
import styles from "./status.module.css";

/** A table of event-log rows (never their payloads, which hold emails). */
export function EventTable(props: {
  title: string;
  note: string;
  empty: string;
  rows: EventRow[];
  testId: string;
}) {
  return (
    <section>
      <h2>{props.title}</h2>
      <p className={styles.muted}>{props.note}</p>
      {props.rows.length === 0 ? (
        <p className={styles.muted}>{props.empty}</p>
      ) : (
        <table className={styles.table} data-testid={props.testId}>
          <thead>
            <tr>
              <th>Last seen</th>
              <th>svix-id</th>
              <th>Type</th>
              <th>User id</th>
              <th>Outcome</th>
              <th>Error code</th>
              <th className={styles.number}>Attempts</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((row) => (
              <tr key={row.svixId}>
                <td className={styles.nowrap}>{formatTime(row.lastSeenAt)}</td>
                <td>
                  <code>{row.svixId}</code>
                </td>
                <td>{row.type ?? "—"}</td>
                <td>
                  <code>{row.userId ?? "—"}</code>
                </td>
                <td>
                  <span className={`${styles.badge} ${styles[`outcome_${row.outcome}`] ?? ""}`}>
                    {row.outcome}
                  </span>
                </td>
                <td>{row.errorCode ? <code>{row.errorCode}</code> : "—"}</td>
                <td className={styles.number}>{row.attempts}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
