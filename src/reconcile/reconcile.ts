import { resolveEmailConflicts } from "./conflicts";
import { listAllUsers } from "./listing";
import { emailHolders, localUserIds } from "./local";
import { PlanRecorder, planningStore } from "./plan";
import { forEachLimited } from "./pool";
import { DEFAULT_RETRY, withApiRetry, type RetryPolicy } from "./retry";
import { RunState } from "./run-state";
import { ReconcileRefusedError, type ReconcileOptions, type ReconcileSummary } from "./types";
import { unchangedUsers } from "./unchanged";

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
  // A dry run never stores the password it would hash: the cheapest cost bcrypt accepts is enough.
  const state = new RunState(
    recorder ? planningStore(run.store, recorder) : run.store,
    dryRun ? { ...run.options, passwordHashRounds: 4 } : run.options,
  );
  const retry: RetryPolicy = {
    ...DEFAULT_RETRY,
    ...run.retry,
    ...(run.signal && { signal: run.signal }),
    onWait: (wait) => {
      state.apiWaits++;
      run.retry?.onWait?.(wait);
      run.onProgress?.({ phase: "waiting", reason: wait.reason, seconds: wait.ms / 1000 });
    },
  };
  const concurrency = run.concurrency ?? 4;

  const before = await localUserIds(run.prisma);
  await applyListing(run, state, retry, concurrency, before.size);

  // Only users that were here before the run can be stale: one a webhook creates meanwhile is never a candidate.
  const candidates = [...before].filter((id) => !state.seen.has(id));
  const share = run.maxDeleteShare ?? 0.1;
  const refusal =
    candidates.length > Math.floor(share * before.size) && !run.force
      ? refusalMessage(candidates.length, before.size, share)
      : null;
  const summarize = () => summary(state, { startedAt, dryRun, localBefore: before.size, refusal, recorder });
  if (refusal && !dryRun) throw new ReconcileRefusedError(refusal, summarize());

  const gone = await confirmGone(run, state, retry, concurrency, candidates);
  // A dry run goes on past a refusal: its plan shows what was refused.
  let deleted = 0;
  await forEachLimited(
    gone,
    concurrency,
    async (userId) => {
      await state.delete(userId);
      run.onProgress?.({ phase: "deleting", done: ++deleted, total: gone.length });
    },
    run.signal,
  );

  if (state.deferred.size > 0) {
    run.onProgress?.({ phase: "conflicts", pending: state.deferred.size });
    await resolveEmailConflicts([...state.deferred.values()], {
      apply: (user) => state.apply(user),
      holders: (emails) => emailHolders(run.prisma, emails),
    });
  }
  return summarize();
}

/** Every page: users already as Stack has them are counted in one read, the others applied one by one. */
async function applyListing(
  run: ReconcileOptions,
  state: RunState,
  retry: RetryPolicy,
  concurrency: number,
  localBefore: number,
): Promise<void> {
  const listing = listAllUsers({
    api: run.api,
    pageSize: run.pageSize ?? 200,
    includeAnonymous: run.options.syncAnonymousUsers,
    retry,
    ...(run.signal && { signal: run.signal }),
  });
  for await (const page of listing) {
    state.pages++;
    for (const user of page.items) state.seen.add(user.id);
    for (const item of page.invalid) {
      state.seen.add(item.id);
      state.invalid.set(item.id, item.error);
    }
    const same = await unchangedUsers(run.prisma, page.items, run.options);
    for (const id of same) state.unchanged(id);
    const changing = page.items.filter((u) => !same.has(u.id));
    await forEachLimited(changing, concurrency, async (user) => void (await state.apply(user)), run.signal);
    run.onProgress?.({ phase: "listing", listed: state.seen.size, localBefore });
  }
}

/** The listing can miss a user that moved while it paged: each candidate is read by id; the 404s are gone. */
async function confirmGone(
  run: ReconcileOptions,
  state: RunState,
  retry: RetryPolicy,
  concurrency: number,
  candidates: string[],
): Promise<string[]> {
  const gone: string[] = [];
  let checked = 0;
  await forEachLimited(
    candidates,
    concurrency,
    async (id) => {
      const user = await withApiRetry(() => run.api.getUser(id), retry);
      if (user === null) gone.push(id);
      else {
        state.missedByListing++;
        await state.apply(user);
      }
      run.onProgress?.({ phase: "checking", done: ++checked, total: candidates.length });
    },
    run.signal,
  );
  return gone;
}

function summary(
  state: RunState,
  run: {
    startedAt: Date;
    dryRun: boolean;
    localBefore: number;
    refusal: string | null;
    recorder: PlanRecorder | null;
  },
): ReconcileSummary {
  const finishedAt = new Date();
  return {
    startedAt: run.startedAt,
    finishedAt,
    durationMs: finishedAt.getTime() - run.startedAt.getTime(),
    dryRun: run.dryRun,
    stackUsers: state.seen.size,
    localUsersBefore: run.localBefore,
    pages: state.pages,
    ...state.counts(),
    missedByListing: state.missedByListing,
    conflicts: [...state.deferred.keys()],
    invalid: [...state.invalid].map(([id, error]) => ({ id, error })),
    apiWaits: state.apiWaits,
    refusal: run.refusal,
    ...(run.recorder && { plan: run.recorder.plan() }),
  };
}

function refusalMessage(candidates: number, local: number, share: number): string {
  const percent = ((candidates / local) * 100).toFixed(1);
  return (
    `refusing to delete ${candidates} of ${local} local users (${percent}%, more than the ${(share * 100).toFixed(0)}% ` +
    `allowed) that Stack Auth no longer lists; nothing was deleted. Check STACK_PROJECT_ID and STACK_API_URL, ` +
    `then run again with --force if these users really are gone.`
  );
}
