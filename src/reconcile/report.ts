import cliProgress from "cli-progress";
import type { ReconcileProgress, ReconcileSummary } from "./types";

/** Progress on a terminal: one bar per phase. Elsewhere (CI, logs): a plain line every few seconds. */
export function progressReporter(stream: NodeJS.WriteStream): {
  report: (p: ReconcileProgress) => void;
  done: () => void;
} {
  const tty = stream.isTTY === true;
  const line = (text: string) => stream.write(`${text}\n`);
  let bar: cliProgress.SingleBar | null = null;
  let phase = "";
  let lastLine = 0;
  const show = (name: string, value: number, total: number) => {
    if (!tty) {
      if (Date.now() - lastLine < 2_000 && value < total) return;
      lastLine = Date.now();
      line(`reconcile: ${name} ${value}/${total}`);
      return;
    }
    if (phase !== name) {
      bar?.stop();
      bar = new cliProgress.SingleBar(
        {
          format: `${name.padEnd(9)} [{bar}] {value}/{total} users | {duration_formatted}`,
          hideCursor: true,
          stream,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, value);
      phase = name;
    }
    bar?.setTotal(total);
    bar?.update(value);
  };
  return {
    report(p) {
      if (p.phase === "listing") show("listing", p.listed, Math.max(p.listed, p.localBefore));
      else if (p.phase === "checking" || p.phase === "deleting") show(p.phase, p.done, p.total);
      else if (p.phase === "conflicts")
        line(`reconcile: retrying ${p.pending} user(s) whose email another user held`);
      else if (!tty)
        line(
          `reconcile: Stack Auth ${p.reason === "rate_limited" ? "rate limit" : "unavailable"}, waiting ${p.seconds.toFixed(1)} s`,
        );
    },
    done() {
      bar?.stop();
      bar = null;
      phase = "";
    },
  };
}

/** The summary as a few lines for people: counts, then what needs a look, then (dry run) the plan. */
export function formatSummary(summary: ReconcileSummary): string {
  const { plan } = summary;
  const lines = [
    `${summary.dryRun ? "Dry run (nothing written)" : "Reconciled"} in ${(summary.durationMs / 1000).toFixed(1)} s: ` +
      `${summary.stackUsers} users in Stack Auth, ${summary.localUsersBefore} here before the run.`,
    `  ${summary.dryRun ? "would create" : "created"}: ${summary.created}   ${summary.dryRun ? "would update" : "updated"}: ${summary.updated}   ` +
      `${summary.dryRun ? "would delete" : "deleted"}: ${summary.deleted}   unchanged: ${summary.unchanged}   skipped: ${summary.skipped}`,
  ];
  if (summary.missedByListing > 0)
    lines.push(`  ${summary.missedByListing} user(s) moved during the listing and were read one by one.`);
  if (summary.apiWaits > 0)
    lines.push(`  waited ${summary.apiWaits} time(s) for Stack Auth (rate limit or unavailable).`);
  if (summary.conflicts.length > 0)
    lines.push(`  email held by another user, left as is: ${sample(summary.conflicts)}`);
  if (summary.invalid.length > 0)
    lines.push(`  not fitting the user schema, left as is: ${sample(summary.invalid.map((i) => i.id))}`);
  if (summary.refusal && summary.dryRun) lines.push(`  a real run would stop: ${summary.refusal}`);
  if (plan) {
    if (plan.create.length > 0) lines.push(`  create: ${sample(plan.create.map((c) => c.id))}`);
    if (plan.update.length > 0)
      lines.push(`  update: ${sample(plan.update.map((u) => `${u.id} (${u.fields.join(", ")})`))}`);
    if (plan.delete.length > 0) lines.push(`  delete: ${sample(plan.delete)}`);
  }
  return lines.join("\n");
}

function sample(items: string[], max = 10): string {
  const shown = items.slice(0, max).join(", ");
  return items.length > max ? `${shown}, … and ${items.length - max} more` : shown;
}
