import type { ReconcileRunRow } from "@/ops";
import { formatTime } from "./format";
import styles from "./status.module.css";

/** The last reconcile runs, dry runs included (marked). */
export function ReconcileTable({ runs, configured }: { runs: ReconcileRunRow[]; configured: boolean }) {
  return (
    <section>
      <h2>Reconcile runs</h2>
      {runs.length === 0 ? (
        <p className={styles.muted}>
          {configured
            ? "No reconcile run recorded yet: run npm run reconcile."
            : "Reconcile needs STACK_PROJECT_ID and STACK_SECRET_SERVER_KEY."}
        </p>
      ) : (
        <table className={styles.table} data-testid="reconcile-runs">
          <thead>
            <tr>
              <th>Started</th>
              <th>Finished</th>
              <th>Status</th>
              <th className={styles.number}>Created</th>
              <th className={styles.number}>Updated</th>
              <th className={styles.number}>Deleted</th>
              <th className={styles.number}>Unchanged</th>
              <th>Error code</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => (
              <tr key={run.id}>
                <td className={styles.nowrap}>{formatTime(run.startedAt)}</td>
                <td className={styles.nowrap}>{formatTime(run.finishedAt)}</td>
                <td>
                  <span className={`${styles.badge} ${styles[`run_${run.status}`] ?? ""}`}>{run.status}</span>
                  {run.dryRun && <span className={styles.muted}> (dry run)</span>}
                </td>
                <td className={styles.number}>{run.created}</td>
                <td className={styles.number}>{run.updated}</td>
                <td className={styles.number}>{run.deleted}</td>
                <td className={styles.number}>{run.unchanged}</td>
                <td>{run.errorCode ? <code>{run.errorCode}</code> : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
