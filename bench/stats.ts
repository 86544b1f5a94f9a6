import type { CpuUse } from "./cpu";

/** One measured load level: what came back and how fast. */
export interface Measurement {
  /** Completed requests inside the measurement window. */
  count: number;
  /** Events per second inside the window. */
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers that were not the expected outcome (non-2xx, wrong status), inside the window. */
  errors: number;
  /** Outcome label → count, inside the window (e.g. `processed`, `duplicate`, `500`). */
  outcomes: Record<string, number>;
  windowMs: number;
  /** Peak RSS of the server process tree during the level, MiB (absent for in-process references). */
  peakRssMiB?: number;
  /** Requests completed during the whole level (window, ramp and drain): what the CPU time was spent on. */
  completed: number;
  /** Where the CPU went during the level (see cpu.ts). */
  cpu?: CpuUse;
  /** Set when the level ended early because its pool of prepared users ran out. */
  exhausted?: boolean;
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/** One finished request: when it started and ended (ms, on the run's clock) and what it answered. */
export interface Sample {
  start: number;
  end: number;
  outcome: string;
  ok: boolean;
}

/** Summarises the samples whose end falls in [from, to). */
export function summarise(samples: readonly Sample[], from: number, to: number): Measurement {
  const inside = samples.filter((s) => s.end >= from && s.end < to);
  const latencies = inside.map((s) => s.end - s.start).sort((a, b) => a - b);
  const outcomes: Record<string, number> = {};
  for (const s of inside) outcomes[s.outcome] = (outcomes[s.outcome] ?? 0) + 1;
  const windowMs = Math.max(1, to - from);
  return {
    completed: samples.length,
    count: inside.length,
    throughput: (inside.length * 1000) / windowMs,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    errors: inside.filter((s) => !s.ok).length,
    outcomes,
    windowMs,
  };
}

/** `a ÷ b`, or NaN when either is missing. */
export function ratio(a: number | undefined, b: number | undefined): number {
  return a !== undefined && b !== undefined && b > 0 ? a / b : Number.NaN;
}
