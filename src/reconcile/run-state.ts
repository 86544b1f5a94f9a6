import { SyncError } from "../errors";
import type { StackUser } from "../stack";
import { applyChange, type SyncOptions, type SyncResult } from "../sync/engine";
import type { SyncStore } from "../sync/store";

type Outcome = "created" | "updated" | "unchanged" | "deleted" | "skipped";

/** What one run has seen and done so far; every write goes through the sync engine here. */
export class RunState {
  /** Ids Stack listed (valid or not). */
  readonly seen = new Set<string>();
  /** Listed users whose object did not fit the schema. */
  readonly invalid = new Map<string, string>();
  /** Snapshots that failed on an email another user holds, kept to try again after the deletions. */
  readonly deferred = new Map<string, StackUser>();
  pages = 0;
  apiWaits = 0;
  missedByListing = 0;
  private readonly outcomes = new Map<string, Outcome>();

  constructor(
    private readonly store: SyncStore,
    private readonly sync: SyncOptions,
  ) {}

  /** Notes what happened to a user. Pages can repeat a user: its first real change is what counts. */
  record(id: string, result: SyncResult): void {
    const outcome: Outcome = result.status === "processed" ? result.change : "skipped";
    const previous = this.outcomes.get(id);
    if (previous === undefined || previous === "unchanged" || previous === "skipped")
      this.outcomes.set(id, outcome);
  }

  /** A user already as Stack has it. */
  unchanged(id: string): void {
    this.record(id, { status: "processed", change: "unchanged" });
    this.deferred.delete(id);
  }

  /** Applies a snapshot; "conflict" (and deferred) when its email is held by another user. */
  async apply(user: StackUser): Promise<"applied" | "conflict"> {
    try {
      this.record(user.id, await applyChange(this.store, { kind: "snapshot", user }, null, this.sync));
      this.deferred.delete(user.id);
      return "applied";
    } catch (error) {
      if (!(error instanceof SyncError && error.code === "email_conflict")) throw error;
      this.deferred.set(user.id, user);
      return "conflict";
    }
  }

  /** Deletes a user with its tombstone. */
  async delete(userId: string): Promise<void> {
    this.record(userId, await applyChange(this.store, { kind: "deletion", userId }, null, this.sync));
  }

  counts(): Record<Outcome, number> {
    const counts = { created: 0, updated: 0, unchanged: 0, deleted: 0, skipped: 0 };
    for (const outcome of this.outcomes.values()) counts[outcome]++;
    return counts;
  }
}
