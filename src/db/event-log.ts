import type { PrismaClient } from "../generated/prisma/client";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes event-log rows not seen for `retentionDays`. Retention must outlast Svix's retry window
 * (about 27.5 hours; config enforces at least 2 days), or a late retry of a processed event would be
 * applied again. Tombstones are never pruned: they are what keeps deletes final.
 */
export async function pruneEventLog(
  prisma: PrismaClient,
  retentionDays: number,
  now: Date = new Date(),
): Promise<number> {
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
  const { count } = await prisma.webhookEvent.deleteMany({ where: { lastSeenAt: { lt: cutoff } } });
  return count;
}
