import type { PrismaClient } from "../db";

/** What a reconcile run changed, as `reconcile_runs` records it. */
export interface ReconcileCounts {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
}

export interface RecordRunOptions {
  dryRun: boolean;
  /** A machine code for a failure (e.g. `rate_limited`): the row is shown to operators, never a raw message. */
  errorCode: (error: unknown) => string;
}

/**
 * Runs a reconcile and records it in `reconcile_runs`, where health, metrics and the status page read it:
 * `running` at the start, then `succeeded` with its counts or `failed` with a code. The run's error is rethrown.
 */
export async function recordReconcileRun<T extends ReconcileCounts>(
  prisma: PrismaClient,
  options: RecordRunOptions,
  run: () => Promise<T>,
): Promise<T> {
  const { id } = await prisma.reconcileRun.create({
    data: { status: "running", dryRun: options.dryRun },
    select: { id: true },
  });
  let result: T;
  try {
    result = await run();
  } catch (error) {
    // The run's own error matters more than a failure to record it.
    await prisma.reconcileRun
      .update({
        where: { id },
        data: { status: "failed", errorCode: options.errorCode(error), finishedAt: new Date() },
      })
      .catch(() => undefined);
    throw error;
  }
  const { created, updated, deleted, unchanged } = result;
  await prisma.reconcileRun.update({
    where: { id },
    data: { status: "succeeded", created, updated, deleted, unchanged, finishedAt: new Date() },
  });
  return result;
}
