import type { StackUser } from "../stack";
import { storedEmail } from "../sync/user-state";

export interface ConflictContext {
  /** Applies a snapshot; "conflict" when its email is held by another user. */
  apply(user: StackUser): Promise<"applied" | "conflict">;
  /** Which local user holds each stored email. */
  holders(emails: string[]): Promise<Map<string, string>>;
}

const MAX_ROUNDS = 20;

/**
 * Applies the snapshots that failed on an email held by another user, once deletions have freed what they held.
 * Rounds repeat while they make progress. A chain or cycle (A takes B's old email while B takes A's) cannot
 * progress by order alone: a holder that is itself waiting to move first gets its snapshot without an email (the
 * placeholder, unique by id), which frees its old one; its real snapshot follows in the next round. Returns the ids
 * still in conflict: their email is held by a user Stack also gives it to, or by one this run does not touch.
 */
export async function resolveEmailConflicts(
  deferred: readonly StackUser[],
  ctx: ConflictContext,
): Promise<string[]> {
  let pending = [...deferred];
  for (let round = 0; pending.length > 0 && round < MAX_ROUNDS; round++) {
    const still: StackUser[] = [];
    for (const user of pending) if ((await ctx.apply(user)) === "conflict") still.push(user);
    const progressed = still.length < pending.length;
    pending = still;
    if (progressed || pending.length === 0) continue;

    const waiting = new Map(pending.map((u) => [u.id, u]));
    const holders = await ctx.holders(pending.map((u) => storedEmail(u.id, u.primary_email)));
    let freed = false;
    for (const user of pending) {
      const holderId = holders.get(storedEmail(user.id, user.primary_email));
      const holder = holderId !== undefined && holderId !== user.id ? waiting.get(holderId) : undefined;
      if (!holder) continue;
      if ((await ctx.apply({ ...holder, primary_email: null })) === "applied") freed = true;
      waiting.delete(holder.id);
    }
    if (!freed) break;
  }
  return pending.map((u) => u.id);
}
