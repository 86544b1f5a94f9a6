import type { HashLimit } from "./hash-limit";
import type { MixedResult } from "./mixed";
import type { Row } from "./scenarios";
import { ratio } from "./stats";

/** One of the targets, judged on this run. */
export interface TargetCheck {
  target: string;
  value: number;
  goal: string;
  met: boolean;
}

/** Judges the targets; a target whose figures were not measured is left out. */
export function checkTargets(
  rows: readonly Row[],
  mixed: readonly MixedResult[],
  hashLimits: Partial<Record<number, HashLimit>>,
): TargetCheck[] {
  const out: TargetCheck[] = [];
  const top = Math.max(...rows.map((r) => r.concurrency));
  const at = (event: string, c: number) => rows.find((r) => r.event === event && r.concurrency === c);
  const add = (target: string, value: number, goal: string, met: (v: number) => boolean) => {
    if (!Number.isNaN(value)) out.push({ target, value, goal, met: met(value) });
  };
  for (const event of ["updated", "deleted"]) {
    const row = at(event, top);
    add(
      `${event} c=${top} ours ÷ db limit`,
      ratio(row?.ours?.throughput, row?.db?.throughput),
      "≥ 0.5",
      (v) => v >= 0.5,
    );
    add(
      `${event} c=${top} ours ÷ seed`,
      ratio(row?.ours?.throughput, row?.seed?.throughput),
      "≥ 2",
      (v) => v >= 2,
    );
  }
  const created = at("created@12", top);
  add(
    `created@12 c=${top} ours ÷ hash limit`,
    ratio(created?.ours?.throughput, hashLimits[12]?.perSecond),
    "≥ 0.9",
    (v) => v >= 0.9,
  );
  const ours = mixed.find((m) => m.impl === "ours");
  if (ours) add("update p99 in a creation burst ÷ quiet (ours)", ours.p99Ratio, "≤ 2", (v) => v <= 2);
  for (const row of rows.filter((r) => r.event === "duplicate")) {
    const updated = at("updated", row.concurrency);
    add(
      `duplicate ÷ updated c=${row.concurrency} (ours)`,
      ratio(row.ours?.throughput, updated?.ours?.throughput),
      "≥ 1",
      (v) => v >= 1,
    );
  }
  return out;
}

/** One line per target: value, goal, met or MISSED. */
export function formatTargets(checks: readonly TargetCheck[]): string {
  return checks
    .map(
      (c) =>
        `${c.met ? "met   " : "MISSED"}  ${c.target.padEnd(48)} ${c.value.toFixed(2).padStart(7)}  (${c.goal})`,
    )
    .join("\n");
}
