import type { CpuMeter } from "./cpu";
import { createdDelivery, updatedDelivery, type Impl } from "./events";
import { deliveryJob, type WebhookClient } from "./http";
import { steadyRate, timed, type Job } from "./load";
import { percentile, type Sample } from "./stats";

export interface MixedOptions {
  /** user.updated per second, steady, in both phases. */
  ratePerSecond: number;
  /** How long the quiet phase lasts, ms. */
  quietMs: number;
  burstSize: number;
  burstConcurrency: number;
  /** The next prepared user token to update. */
  nextUser: () => string;
  /** Measures each phase's CPU, to tell a noisy phase from a slow one. */
  cpu: CpuMeter;
}

export interface MixedResult {
  impl: Impl;
  ratePerSecond: number;
  quiet: { updates: number; p50Ms: number; p99Ms: number; errors: number };
  burst: {
    updates: number;
    p50Ms: number;
    p99Ms: number;
    errors: number;
    creates: number;
    createErrors: number;
    createsPerSecond: number;
    durationMs: number;
  };
  /** Update p99 during the burst ÷ without it. */
  p99Ratio: number;
  /** CPU share taken by other processes in the quiet phase and in the burst, 0–100. */
  othersPercent: { quiet: number; burst: number };
}

/**
 * Update latency with and without a burst of user.created: updates arrive at a steady rate (open loop)
 * for `quietMs`; then again while `burstSize` creations run at `burstConcurrency`. Only updates sent while
 * the burst ran count in the second phase.
 */
export async function mixedRun(
  client: WebhookClient,
  impl: Impl,
  options: MixedOptions,
): Promise<MixedResult> {
  const expect = impl === "seed" ? "received" : "processed";
  const update: () => Job = () => deliveryJob(client, updatedDelivery(impl, options.nextUser()), expect);
  options.cpu.begin();
  const quietSamples = await steadyRate({
    ratePerSecond: options.ratePerSecond,
    durationMs: options.quietMs,
    next: update,
  });
  const quietCpu = options.cpu.end(quietSamples.length);
  await new Promise((r) => setTimeout(r, 300));

  const t0 = performance.now();
  let burstOver = false;
  const updates = steadyRate(
    { ratePerSecond: options.ratePerSecond, durationMs: 10 * 60_000, next: update, stop: () => burstOver },
    t0,
  );
  await new Promise((r) => setTimeout(r, 500));
  const burstStart = performance.now() - t0;
  options.cpu.begin();
  const creates: Sample[] = [];
  let left = options.burstSize;
  const worker = async () => {
    while (left-- > 0) creates.push(await timed(deliveryJob(client, createdDelivery(impl), expect), t0));
  };
  await Promise.all(Array.from({ length: options.burstConcurrency }, worker));
  const burstEnd = performance.now() - t0;
  const burstCpu = options.cpu.end(creates.length);
  burstOver = true;
  const during = (await updates).filter((s) => s.start >= burstStart && s.start < burstEnd);

  const quiet = latencies(quietSamples);
  const burst = latencies(during);
  const durationMs = burstEnd - burstStart;
  return {
    impl,
    ratePerSecond: options.ratePerSecond,
    quiet,
    burst: {
      ...burst,
      creates: creates.length,
      createErrors: creates.filter((s) => !s.ok).length,
      createsPerSecond: (creates.length * 1000) / durationMs,
      durationMs,
    },
    p99Ratio: burst.p99Ms / quiet.p99Ms,
    othersPercent: { quiet: quietCpu.foreignPercent, burst: burstCpu.foreignPercent },
  };
}

function latencies(samples: readonly Sample[]) {
  const sorted = samples.map((s) => s.end - s.start).sort((a, b) => a - b);
  return {
    updates: samples.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    errors: samples.filter((s) => !s.ok).length,
  };
}
