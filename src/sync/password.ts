import { availableParallelism } from "node:os";
import { Piscina } from "piscina";

let pool: Piscina<number, string> | undefined;

/**
 * The `users.password` of a synced user: bcrypt of 32 random bytes, never known to anyone.
 * Stack Auth owns sign-in; the column exists because the app's schema requires it.
 *
 * Hashed on a pool of one worker thread per core, each at the lowest priority (on Linux the nice value is per
 * thread): bcrypt takes only the CPU that request handling and PostgreSQL leave, so a burst of sign-ups does
 * not slow the updates flowing beside it. libuv's threadpool, where bcrypt's async hash runs, has normal priority.
 */
export function makeUnusablePassword(rounds: number): Promise<string> {
  pool ??= new Piscina({
    filename: new URL("./hash-worker.cjs", import.meta.url).href,
    // Kept once started: starting threads in the middle of a burst costs the event loop a stall.
    minThreads: availableParallelism(),
    maxThreads: availableParallelism(),
    niceIncrement: 19,
  });
  return pool.run(rounds);
}
