import type { PrismaClient } from "../db";
import type { StackApiClient } from "../stack/api";
import type { SyncOptions } from "../sync/engine";
import type { SyncStore } from "../sync/store";
import type { ReconcilePlan } from "./plan";
import type { RetryPolicy } from "./retry";

export interface ReconcileOptions {
  store: SyncStore;
  /** Read-only use: which users the tables hold before the run, and who holds an email. */
  prisma: PrismaClient;
  api: Pick<StackApiClient, "listUsers" | "getUser">;
  options: SyncOptions;
  /** Compute and return the plan; write nothing. */
  dryRun?: boolean;
  /** Largest share of the local users a run may delete without `force` (default 0.1). */
  maxDeleteShare?: number;
  force?: boolean;
  /** Users per page of `GET /api/v1/users` (default 200). */
  pageSize?: number;
  /** Users applied at once (default 4). */
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  onProgress?: (progress: ReconcileProgress) => void;
  signal?: AbortSignal;
}

export type ReconcileProgress =
  | { phase: "listing"; listed: number; localBefore: number }
  | { phase: "checking"; done: number; total: number }
  | { phase: "deleting"; done: number; total: number }
  | { phase: "conflicts"; pending: number }
  | { phase: "waiting"; reason: "rate_limited" | "unavailable"; seconds: number };

/** What a run did (or, dry, would do). */
export interface ReconcileSummary {
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
  dryRun: boolean;
  /** Distinct users Stack listed. */
  stackUsers: number;
  localUsersBefore: number;
  pages: number;
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  /** Listed but not applied: anonymous users while they are not synced, or ids deleted (tombstoned) here. */
  skipped: number;
  /** Absent from the listing, yet `GET /users/{id}` found them (they moved while the run paged): applied, not deleted. */
  missedByListing: number;
  /** Users whose email another user still holds: left as they were. */
  conflicts: string[];
  /** Users whose object did not fit the schema: left as they were, and never deleted. */
  invalid: { id: string; error: string }[];
  /** Times the run waited for Stack (429 or unavailable). */
  apiWaits: number;
  /** Why deletions were refused (the error's summary) or, in a dry run, would be. */
  refusal: string | null;
  plan?: ReconcilePlan;
}

/** A run that would delete more than the allowed share of users; nothing was deleted. */
export class ReconcileRefusedError extends Error {
  override readonly name = "ReconcileRefusedError";
  constructor(
    message: string,
    readonly summary: ReconcileSummary,
  ) {
    super(message);
  }
}
