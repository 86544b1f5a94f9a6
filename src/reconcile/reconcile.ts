import type { PrismaClient } from "../db/index";
import { SyncError } from "../errors/index";
import type { StackApiClient } from "../stack/api";
import type { StackUser } from "../stack/index";
import { applyChange, type SyncOptions, type SyncResult } from "../sync/engine";
import type { SyncStore } from "../sync/store";
import { resolveEmailConflicts } from "./conflicts";
import { listAllUsers } from "./listing";
import { emailHolders, localUserIds } from "./local";
import { PlanRecorder, planningStore, type ReconcilePlan } from "./plan";
import { forEachLimited } from "./pool";
import { unchangedUsers } from "./unchanged";
import { DEFAULT_RETRY, withApiRetry, type RetryPolicy } from "./retry";

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
  /** Dry run only: why a real run would refuse to delete. */
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

type Outcome = "created" | "updated" | "unchanged" | "deleted" | "skipped";

/**
 * Brings the tables to Stack's state (SPEC §6): every listed user applied as a snapshot, then the users that
 * existed before the run, are absent from the whole listing, and `GET /users/{id}` confirms gone, deleted with a
 * tombstone. Users that webhooks create during the run are never deletion candidates. All writes go through the
 * sync engine, so tombstones, the anonymous rule and locking are the webhook path's own.
 */
export async function reconcile(run: ReconcileOptions): Promise<ReconcileSummary> {
  const startedAt = new Date();
  const dryRun = run.dryRun ?? false;
  const recorder = dryRun ? new PlanRecorder() : null;
  const store = recorder ? planningStore(run.store, recorder) : run.store;
  // A dry run never stores the password it would hash: the cheapest cost bcrypt accepts is enough.
  const sync: SyncOptions = dryRun ? { ...run.options, passwordHashRounds: 4 } : run.options;
  const concurrency = run.concurrency ?? 4;
  let apiWaits = 0;
  const retry: RetryPolicy = {
    ...DEFAULT_RETRY,
    ...run.retry,
    ...(run.signal && { signal: run.signal }),
    onWait: (wait) => {
      apiWaits++;
      run.retry?.onWait?.(wait);
      run.onProgress?.({ phase: "waiting", reason: wait.reason, seconds: wait.ms / 1000 });
    },
  };
  const outcomes = new Map<string, Outcome>();
  const deferred = new Map<string, StackUser>();
  const invalid = new Map<string, string>();
  const seen = new Set<string>();
  let missedByListing = 0;

  const record = (id: string, result: SyncResult) => {
    const outcome: Outcome = result.status === "processed" ? result.change : "skipped";
    // Pages can repeat a user: keep what the first real change was.
    const previous = outcomes.get(id);
    if (previous === undefined || previous === "unchanged" || previous === "skipped")
      outcomes.set(id, outcome);
  };
  const apply = async (user: StackUser): Promise<"applied" | "conflict"> => {
    try {
      record(user.id, await applyChange(store, { kind: "snapshot", user }, null, sync));
      deferred.delete(user.id);
      return "applied";
    } catch (error) {
      if (!(error instanceof SyncError && error.code === "email_conflict")) throw error;
      deferred.set(user.id, user);
      return "conflict";
    }
  };

  const before = await localUserIds(run.prisma);
  let pages = 0;
  const listing = listAllUsers({
    api: run.api,
    pageSize: run.pageSize ?? 200,
    includeAnonymous: run.options.syncAnonymousUsers,
    retry,
    ...(run.signal && { signal: run.signal }),
  });
  for await (const page of listing) {
    pages++;
    for (const item of page.invalid) invalid.set(item.id, item.error);
    for (const user of page.items) seen.add(user.id);
    for (const item of page.invalid) seen.add(item.id);
    const same = await unchangedUsers(run.prisma, page.items, run.options);
    for (const id of same) {
      record(id, { status: "processed", change: "unchanged" });
      deferred.delete(id);
    }
    const changing = page.items.filter((u) => !same.has(u.id));
    await forEachLimited(changing, concurrency, async (user) => void (await apply(user)), run.signal);
    run.onProgress?.({ phase: "listing", listed: seen.size, localBefore: before.size });
  }

  const summarize = (refusal: string | null): ReconcileSummary => {
    const finishedAt = new Date();
    const count = (o: Outcome) => [...outcomes.values()].filter((v) => v === o).length;
    return {
      startedAt,
      finishedAt,
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      dryRun,
      stackUsers: seen.size,
      localUsersBefore: before.size,
      pages,
      created: count("created"),
      updated: count("updated"),
      deleted: count("deleted"),
      unchanged: count("unchanged"),
      skipped: count("skipped"),
      missedByListing,
      conflicts: [...deferred.keys()],
      invalid: [...invalid].map(([id, error]) => ({ id, error })),
      apiWaits,
      refusal,
      ...(recorder && { plan: recorder.plan() }),
    };
  };

  // Only users that were here before the run can be stale: one a webhook creates meanwhile is never a candidate.
  const candidates = [...before].filter((id) => !seen.has(id));
  const limit = Math.floor((run.maxDeleteShare ?? 0.1) * before.size);
  let refusal: string | null = null;
  if (candidates.length > limit && !run.force) {
    refusal = refusalMessage(candidates.length, before.size, run.maxDeleteShare ?? 0.1);
    if (!dryRun) throw new ReconcileRefusedError(refusal, summarize(refusal));
  }

  // The listing can miss a user that moved while it paged; ask for each candidate before deleting it.
  const gone: string[] = [];
  let checked = 0;
  await forEachLimited(
    candidates,
    concurrency,
    async (id) => {
      const user = await withApiRetry(() => run.api.getUser(id), retry);
      if (user === null) gone.push(id);
      else {
        missedByListing++;
        await apply(user);
      }
      run.onProgress?.({ phase: "checking", done: ++checked, total: candidates.length });
    },
    run.signal,
  );
  // A dry run goes on past a refusal: its plan shows what was refused.
  if (refusal === null || dryRun) {
    let deleted = 0;
    await forEachLimited(
      gone,
      concurrency,
      async (userId) => {
        record(userId, await applyChange(store, { kind: "deletion", userId }, null, sync));
        run.onProgress?.({ phase: "deleting", done: ++deleted, total: gone.length });
      },
      run.signal,
    );
  }

  if (deferred.size > 0) {
    run.onProgress?.({ phase: "conflicts", pending: deferred.size });
    await resolveEmailConflicts([...deferred.values()], {
      apply,
      holders: (emails) => emailHolders(run.prisma, emails),
    });
  }
  return summarize(refusal);
}

function refusalMessage(candidates: number, local: number, share: number): string {
  const percent = ((candidates / local) * 100).toFixed(1);
  return (
    `refusing to delete ${candidates} of ${local} local users (${percent}%, more than the ${(share * 100).toFixed(0)}% allowed) ` +
    `that Stack Auth no longer lists; nothing was deleted. Check STACK_PROJECT_ID and STACK_API_URL, ` +
    `then run again with --force if these users really are gone.`
  );
}
