import type { HashLimit } from "./hash-limit";
import type { MixedResult } from "./mixed";
import type { Row } from "./scenarios";
import { ratio, type Measurement } from "./stats";

/** The run's ratios for one row. */
export interface Ratios {
  oursOverSeed: number;
  oursOverDb: number;
  /** Created rows only: ours ÷ the hash limit at the row's cost (and the seed's). */
  oursOverHash?: number;
  seedOverHash?: number;
}

/** The ratios the issue asks for. */
export function ratios(row: Row, hash: HashLimit | undefined): Ratios {
  return {
    oursOverSeed: ratio(row.ours?.throughput, row.seed?.throughput),
    oursOverDb: ratio(row.ours?.throughput, row.db?.throughput),
    ...(hash && {
      oursOverHash: ratio(row.ours?.throughput, hash.perSecond),
      seedOverHash: ratio(row.seed?.throughput, hash.perSecond),
    }),
  };
}

const f0 = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? "-" : n.toFixed(0));
const f1 = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? "-" : n.toFixed(1));
const f2 = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? "-" : n.toFixed(2));

function cells(m: Measurement | undefined, rss: boolean): string[] {
  const out = [f0(m?.throughput), f1(m?.p50Ms), f1(m?.p99Ms)];
  if (rss) out.push(f0(m?.peakRssMiB));
  return out;
}

/** The main table, as Markdown (readable on a terminal and pasteable into BENCHMARKS.md). */
export function table(rows: readonly Row[], hashFor: (event: string) => HashLimit | undefined): string {
  const head = [
    "event",
    "c",
    "ours ev/s",
    "p50 ms",
    "p99 ms",
    "RSS MiB",
    "seed ev/s",
    "p50 ms",
    "p99 ms",
    "RSS MiB",
    "db ev/s",
    "p50 ms",
    "p99 ms",
    "ours/seed",
    "ours/db",
    "ours/hash",
    "others CPU%",
    "errors",
  ];
  const lines = rows.map((row) => {
    const r = ratios(row, hashFor(row.event));
    const errors = (row.ours?.errors ?? 0) + (row.seed?.errors ?? 0) + (row.db?.errors ?? 0);
    return [
      row.event,
      String(row.concurrency),
      ...cells(row.ours, true),
      ...cells(row.seed, true),
      ...cells(row.db, false),
      f2(r.oursOverSeed),
      f2(r.oursOverDb),
      r.oursOverHash === undefined ? "" : f2(r.oursOverHash),
      f0(Math.max(...[row.ours, row.seed, row.db].map((m) => m?.cpu?.foreignPercent ?? 0))),
      errors === 0 ? "0" : `${errors} (${errorDetail(row)})`,
    ];
  });
  return markdown(head, lines);
}

function errorDetail(row: Row): string {
  const parts: string[] = [];
  for (const impl of ["ours", "seed", "db"] as const) {
    const m = row[impl];
    if (m && m.errors > 0) parts.push(`${impl}: ${JSON.stringify(m.outcomes)}`);
  }
  return parts.join("; ");
}

/** The hash limits, one line per cost. */
export function hashTable(limits: readonly HashLimit[]): string {
  return markdown(
    ["cost", "one hash ms", "cores", "hash limit /s"],
    limits.map((h) => [String(h.rounds), f1(h.hashMs), String(h.cores), f1(h.perSecond)]),
  );
}

/** The mixed run, one line per design. */
export function mixedTable(results: readonly MixedResult[]): string {
  return markdown(
    [
      "design",
      "updates quiet",
      "p50 ms",
      "p99 ms",
      "updates in burst",
      "p50 ms",
      "p99 ms",
      "p99 burst/quiet",
      "creates",
      "creates/s",
      "others CPU%",
      "errors",
    ],
    results.map((m) => [
      m.impl,
      String(m.quiet.updates),
      f1(m.quiet.p50Ms),
      f1(m.quiet.p99Ms),
      String(m.burst.updates),
      f1(m.burst.p50Ms),
      f1(m.burst.p99Ms),
      f2(m.p99Ratio),
      String(m.burst.creates),
      f1(m.burst.createsPerSecond),
      `${f0(m.othersPercent.quiet)} / ${f0(m.othersPercent.burst)}`,
      String(m.quiet.errors + m.burst.errors + m.burst.createErrors),
    ]),
  );
}

/** A Markdown table with right-aligned numbers. */
export function markdown(head: readonly string[], lines: readonly string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const fmt = (cols: readonly string[]) =>
    "| " +
    cols.map((c, i) => (i < 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ") +
    " |";
  const rule =
    "|" + widths.map((w, i) => (i < 1 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|";
  return [fmt(head), rule, ...lines.map(fmt)].join("\n");
}

/**
 * CPU time per event by process (ms): robust to other work on the machine, and what bounds throughput
 * once the cores are full (cores × 1000 ÷ the sum is the CPU-bound ceiling).
 */
export function cpuTable(rows: readonly Row[]): string {
  const ms = (n: number | undefined) => (n === undefined ? "-" : n.toFixed(2));
  return markdown(
    [
      "event",
      "c",
      "ours server",
      "ours pg",
      "seed server",
      "seed pg",
      "db pg",
      "db client",
      "bench client (ours)",
    ],
    rows.map((row) => [
      row.event,
      String(row.concurrency),
      ms(row.ours?.cpu?.msPerEvent.server),
      ms(row.ours?.cpu?.msPerEvent.postgres),
      ms(row.seed?.cpu?.msPerEvent.server),
      ms(row.seed?.cpu?.msPerEvent.postgres),
      ms(row.db?.cpu?.msPerEvent.postgres),
      ms(row.db?.cpu?.msPerEvent.client),
      ms(row.ours?.cpu?.msPerEvent.client),
    ]),
  );
}
