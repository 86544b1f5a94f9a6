import type { StackUser } from "../stack";
import { makeUnusablePassword } from "./password";
import type { DeliveryRecord, SyncStore, SyncTransaction } from "./store";
import { desiredUser, userDifferences } from "./user-state";
import { usernameBase } from "./username";

export interface SyncOptions {
  syncAnonymousUsers: boolean;
  passwordHashRounds: number;
  /** Told how long each password hash took (metrics): bcrypt is most of a create's time. */
  onPasswordHash?: (durationMs: number) => void;
}

/** Why a change was not applied although the delivery was valid. */
export type IgnoreReason = "anonymous" | "deleted" | "unhandled_type";

export type SyncResult =
  | { status: "processed"; change: "created" | "updated" | "unchanged" | "deleted" }
  | { status: "ignored"; reason: IgnoreReason }
  | { status: "duplicate" };

/** What to apply: a user's whole current state, or its deletion. */
export type UserChange = { kind: "snapshot"; user: StackUser } | { kind: "deletion"; userId: string };

/**
 * Applies one change to the tables, idempotently: by delivery (the `svix-id` in `delivery`, recorded in the
 * same transaction) and by content (a snapshot is an upsert; a deletion writes a tombstone that later
 * snapshots never get past). `delivery` is null for changes that do not come from a webhook (reconcile).
 */
export async function applyChange(
  store: SyncStore,
  change: UserChange,
  delivery: DeliveryRecord | null,
  options: SyncOptions,
): Promise<SyncResult> {
  if (change.kind === "deletion") {
    if (delivery && isSettled(await store.eventOutcome(delivery.svixId))) return { status: "duplicate" };
    return applyDeletion(store, change.userId, delivery);
  }
  const { user } = change;
  // The duplicate fast path and the presence check share one round trip.
  const preflight = await store.preflight(delivery?.svixId ?? null, user.id);
  if (delivery && isSettled(preflight.outcome)) return { status: "duplicate" };
  if (user.is_anonymous && !options.syncAnonymousUsers) {
    return recordIgnored(store, user.id, delivery, "anonymous");
  }
  // Hash before the transaction opens, and only when the user may have to be created:
  // a slow hash must never hold a connection or a lock.
  let password = preflight.presence === "absent" ? await hashPassword(options) : null;
  for (;;) {
    const result = await store.transaction(user.id, (tx) => applySnapshot(tx, user, delivery, password));
    if (result !== NEEDS_PASSWORD) return result;
    // The user vanished between the presence check and the transaction without a tombstone.
    password = await hashPassword(options);
  }
}

async function hashPassword(options: SyncOptions): Promise<string> {
  const started = performance.now();
  const password = await makeUnusablePassword(options.passwordHashRounds);
  options.onPasswordHash?.(performance.now() - started);
  return password;
}

/** Records a valid delivery of a type the sync does not handle. */
export async function recordUnhandled(store: SyncStore, delivery: DeliveryRecord): Promise<SyncResult> {
  if (isSettled(await store.eventOutcome(delivery.svixId))) return { status: "duplicate" };
  return recordIgnored(store, null, delivery, "unhandled_type");
}

const NEEDS_PASSWORD = Symbol("needs password");

async function applySnapshot(
  tx: SyncTransaction,
  user: StackUser,
  delivery: DeliveryRecord | null,
  password: string | null,
): Promise<SyncResult | typeof NEEDS_PASSWORD> {
  const state = await tx.lockedState(delivery?.svixId ?? null, user.id);
  if (delivery && isSettled(state.outcome)) return { status: "duplicate" };
  if (state.deleted) {
    if (delivery) await tx.recordOutcome(delivery, "ignored");
    return { status: "ignored", reason: "deleted" };
  }
  const desired = desiredUser(user);
  const stored = state.user;
  let change: "created" | "updated" | "unchanged";
  if (!stored) {
    if (password === null) return NEEDS_PASSWORD;
    await tx.createUser(
      desired,
      password,
      usernameBase(user.display_name, user.primary_email?.trim() || null),
    );
    change = "created";
  } else {
    const diff = userDifferences(stored, desired);
    if (diff) await tx.updateUser(user.id, diff);
    change = diff ? "updated" : "unchanged";
  }
  if (delivery) await tx.recordOutcome(delivery, "processed");
  return { status: "processed", change };
}

async function applyDeletion(
  store: SyncStore,
  userId: string,
  delivery: DeliveryRecord | null,
): Promise<SyncResult> {
  return store.transaction(userId, async (tx) => {
    if (delivery && isSettled(await tx.eventOutcome(delivery.svixId))) return { status: "duplicate" };
    await tx.deleteUser(userId);
    if (delivery) await tx.recordOutcome(delivery, "processed");
    return { status: "processed", change: "deleted" };
  });
}

async function recordIgnored(
  store: SyncStore,
  userId: string | null,
  delivery: DeliveryRecord | null,
  reason: IgnoreReason,
): Promise<SyncResult> {
  if (!delivery) return { status: "ignored", reason };
  // A delivery about no user is serialized on its svix-id, so simultaneous copies record it once.
  return store.transaction(userId ?? `delivery:${delivery.svixId}`, async (tx) => {
    if (isSettled(await tx.eventOutcome(delivery.svixId))) return { status: "duplicate" };
    await tx.recordOutcome(delivery, "ignored");
    return { status: "ignored", reason };
  });
}

/** A processed or ignored delivery is settled; a failed one is tried again. */
function isSettled(outcome: string | null): boolean {
  return outcome === "processed" || outcome === "ignored";
}
