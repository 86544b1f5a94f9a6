import { summarise, type Measurement, type Sample } from "./stats";

/** One request of a load run: resolves with its outcome label and whether it was the expected one. */
export type Job = () => Promise<{ outcome: string; ok: boolean }>;

export interface ClosedLoopOptions {
  concurrency: number;
  durationMs: number;
  /** The next request to send, or null when the prepared work has run out. */
  next: () => Job | null;
}

/**
 * Closed loop: `concurrency` workers, each sending its next request as soon as the last one answered, for
 * `durationMs`. The window starts once the pipeline is full (the `concurrency`-th answer, at most a quarter
 * of the duration in) so that start-up ramps do not count, and ends at the deadline or when work ran out;
 * requests still in flight then are awaited but not counted.
 */
export async function closedLoop(options: ClosedLoopOptions): Promise<Measurement> {
  const samples: Sample[] = [];
  const t0 = performance.now();
  const deadline = options.durationMs;
  let ranOutAt: number | null = null;
  const worker = async () => {
    for (;;) {
      const now = performance.now() - t0;
      if (now >= deadline) return;
      const job = options.next();
      if (!job) {
        ranOutAt ??= now;
        return;
      }
      samples.push(await timed(job, t0));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const ends = samples.map((s) => s.end).sort((a, b) => a - b);
  const full = ends[Math.min(options.concurrency, ends.length) - 1] ?? 0;
  const from = Math.min(full, options.durationMs / 4);
  const to = Math.min(deadline, ranOutAt ?? deadline);
  return { ...summarise(samples, from, to), ...(ranOutAt !== null && { exhausted: true }) };
}

export interface SteadyOptions {
  ratePerSecond: number;
  durationMs: number;
  next: () => Job;
  /** Stops the arrivals early when it returns true. */
  stop?: () => boolean;
}

/** Open loop: sends at a fixed rate whatever the answers, so a slow server cannot slow the arrivals. */
export async function steadyRate(options: SteadyOptions, t0: number = performance.now()): Promise<Sample[]> {
  const samples: Sample[] = [];
  const interval = 1000 / options.ratePerSecond;
  const pending: Promise<void>[] = [];
  for (let i = 0; i * interval < options.durationMs && !options.stop?.(); i++) {
    const wait = t0 + i * interval - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const job = options.next();
    pending.push(timed(job, t0).then((s) => void samples.push(s)));
  }
  await Promise.all(pending);
  return samples;
}

/** Runs a job and times it on the run's clock; a thrown error is an outcome like any other. */
export async function timed(job: Job, t0: number): Promise<Sample> {
  const start = performance.now() - t0;
  try {
    const { outcome, ok } = await job();
    return { start, end: performance.now() - t0, outcome, ok };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { start, end: performance.now() - t0, outcome: `error:${String(code ?? error)}`, ok: false };
  }
}
