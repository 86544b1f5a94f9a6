import type { PrismaClient } from "../db";
import type { StackUser } from "../stack";
import type { SyncOptions } from "../sync/engine";
import { desiredUser, userDifferences } from "../sync/user-state";

/**
 * The users of a page whose stored row already matches their snapshot, read in one query. Applying them would
 * change nothing, so reconcile counts them unchanged without a transaction each (a second run of 10,000 users
 * is then a few reads instead of 10,000 transactions). The rule is the engine's own (`userDifferences`);
 * everything else goes through `applyChange`.
 */
export async function unchangedUsers(
  prisma: PrismaClient,
  users: readonly StackUser[],
  options: SyncOptions,
): Promise<Set<string>> {
  // Anonymous users that are not synced are the engine's to skip.
  const candidates = users.filter((u) => options.syncAnonymousUsers || !u.is_anonymous);
  if (candidates.length === 0) return new Set();
  const rows = await prisma.user.findMany({
    where: { id: { in: candidates.map((u) => u.id) } },
    select: { id: true, email: true, profile: { select: { displayName: true, avatar: true, plan: true } } },
  });
  const stored = new Map(rows.map((r) => [r.id, r]));
  const same = new Set<string>();
  for (const user of candidates) {
    const row = stored.get(user.id);
    if (!row?.profile) continue;
    if (userDifferences({ id: row.id, email: row.email, ...row.profile }, desiredUser(user)) === null) {
      same.add(user.id);
    }
  }
  return same;
}
