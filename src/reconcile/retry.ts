import { setTimeout as delay } from "node:timers/promises";
import { StackApiError } from "../stack/api";

/** How calls to Stack's API are retried when it is busy (429) or briefly away (timeouts, 5xx). */
export interface RetryPolicy {
  /** Attempts per call, the first included. */
  maxAttempts: number;
  /** First backoff when the server gives no `Retry-After`; doubled per attempt. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Replaced in tests to observe the waits without spending them. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  onWait?: (wait: { reason: "rate_limited" | "unavailable"; ms: number; attempt: number }) => void;
  signal?: AbortSignal;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 10,
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
  sleep: (ms, signal) => delay(ms, undefined, signal ? { signal } : {}),
};

/** A `Retry-After` beyond this is not waited for as given: the run would look hung. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** Runs `call`, waiting and retrying on `rate_limited` (honouring Retry-After) and `unavailable`; other errors pass. */
export async function withApiRetry<T>(call: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (
        !(error instanceof StackApiError) ||
        (error.kind !== "rate_limited" && error.kind !== "unavailable")
      )
        throw error;
      if (attempt >= policy.maxAttempts) throw error;
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const asked = error.retryAfterSeconds;
      // Jitter only our own guesses: the server's Retry-After is what it asked for.
      const ms =
        asked !== undefined
          ? Math.min(asked * 1000, MAX_RETRY_AFTER_MS)
          : backoff / 2 + Math.random() * (backoff / 2);
      policy.onWait?.({ reason: error.kind, ms, attempt });
      await policy.sleep(ms, policy.signal);
    }
  }
}
