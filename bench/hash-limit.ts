import { availableParallelism } from "node:os";
import { makeUnusablePassword } from "../src/sync/password";

/** What one bcrypt hash costs here, and the most hashes per second this machine can do. */
export interface HashLimit {
  rounds: number;
  /** Median time of one hash, ms, one at a time. */
  hashMs: number;
  cores: number;
  /** cores ÷ hash time: the ceiling on user.created per second. */
  perSecond: number;
}

/** Times `samples` hashes one after another (the service's own function) and derives the limit. */
export async function measureHashLimit(rounds: number, samples: number): Promise<HashLimit> {
  await makeUnusablePassword(rounds); // warm: the first call starts a worker thread and loads the addon
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await makeUnusablePassword(rounds);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const hashMs = times[Math.floor(times.length / 2)] ?? Number.NaN;
  const cores = availableParallelism();
  return { rounds, hashMs, cores, perSecond: (cores * 1000) / hashMs };
}
