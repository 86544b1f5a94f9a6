import type { PrismaClient } from "../db";
import { SyncError, messageOf, type ErrorCode } from "../errors";
import type { SyncResult } from "../sync/engine";
import { processDelivery, type ProcessOptions } from "../webhooks/process";

/** What replaying one event came to. */
export type ReplayOutcome =
  | { kind: "refused"; reason: "unknown"; svixId: string }
  | { kind: "refused"; reason: "not_failed"; svixId: string; outcome: string }
  | { kind: "refused"; reason: "no_payload"; svixId: string }
  | { kind: "applied"; svixId: string; result: SyncResult }
  | { kind: "failed"; svixId: string; code: ErrorCode; attempts: number | null };

export interface ReplayDeps extends ProcessOptions {
  prisma: PrismaClient;
}

/**
 * Applies a failed event's kept body again, through the webhook's own `processDelivery` (so it is recorded the
 * same way: processed clears the payload, a new failure counts one more attempt). Only failed events with a
 * payload are replayed: a processed or ignored one is settled, and replaying it would be a no-op at best.
 */
export async function replayEvent(svixId: string, deps: ReplayDeps): Promise<ReplayOutcome> {
  const row = await deps.prisma.webhookEvent.findUnique({
    where: { svixId },
    select: { outcome: true, payload: true },
  });
  if (!row) return { kind: "refused", reason: "unknown", svixId };
  if (row.outcome !== "failed")
    return { kind: "refused", reason: "not_failed", svixId, outcome: row.outcome };
  if (row.payload === null) return { kind: "refused", reason: "no_payload", svixId };
  try {
    const result = await processDelivery(svixId, new TextEncoder().encode(row.payload), deps);
    return { kind: "applied", svixId, result };
  } catch (error) {
    if (!(error instanceof SyncError)) throw error;
    const after = await deps.prisma.webhookEvent
      .findUnique({ where: { svixId }, select: { attempts: true } })
      .catch(() => null);
    return { kind: "failed", svixId, code: error.code, attempts: after?.attempts ?? null };
  }
}

/** One line saying what a replay did, for the command line. */
export function describeReplay(outcome: ReplayOutcome, retentionDays: number): string {
  const id = outcome.svixId;
  if (outcome.kind === "applied") {
    const { result } = outcome;
    const detail =
      result.status === "processed"
        ? ` (${result.change})`
        : result.status === "ignored"
          ? ` (${result.reason})`
          : "";
    return `${id}: ${result.status}${detail}.`;
  }
  if (outcome.kind === "failed") {
    const attempts = outcome.attempts === null ? "" : ` (attempt ${outcome.attempts})`;
    return `${id}: still failing${attempts}: ${outcome.code}: ${messageOf(outcome.code)}`;
  }
  switch (outcome.reason) {
    case "unknown":
      return `${id}: not in the event log (a wrong id, or pruned after ${retentionDays} days); nothing replayed.`;
    case "not_failed":
      return `${id}: the event is ${outcome.outcome}, not failed; only failed events are replayed.`;
    case "no_payload":
      return `${id}: the failed event has no kept body to replay; wait for Svix to retry it, or run reconcile.`;
  }
}
