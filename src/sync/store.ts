import type { Plan } from "./user-state";

/** What the event log says about a delivery. */
export type EventOutcome = "processed" | "ignored" | "failed";

/** The identity of one delivery, for the event log. */
export interface DeliveryRecord {
  svixId: string;
  type: string | null;
  userId: string | null;
}

/** A user row and its profile, as the sync compares them. */
export interface StoredUser {
  id: string;
  email: string;
  displayName: string | null;
  avatar: string | null;
  plan: Plan;
}

/** The user state a snapshot asks for; `plan` undefined means "leave as it is" (or FREE on creation). */
export interface DesiredUser {
  id: string;
  email: string;
  displayName: string | null;
  avatar: string | null;
  plan: Plan | undefined;
}

/** Where a user id stands before a change is applied. */
export type UserPresence = "live" | "deleted" | "absent";

/** Read before the transaction, in one statement: the delivery's outcome and where its user stands. */
export interface Preflight {
  outcome: EventOutcome | null;
  presence: UserPresence;
}

/** Read under the user's lock, in one statement: the delivery's outcome, the tombstone, the stored user. */
export interface LockedState {
  outcome: EventOutcome | null;
  deleted: boolean;
  user: StoredUser | null;
}

/**
 * The database operations the sync rules need. Implemented over Prisma in `db/`; the rules never see SQL.
 * Everything inside `transaction` runs in one database transaction holding the lock of one user id.
 */
export interface SyncStore {
  /** The recorded outcome of a delivery, read without a transaction (a fast path for duplicates). */
  eventOutcome(svixId: string): Promise<EventOutcome | null>;
  /**
   * Read without a transaction, in one round trip: the delivery's outcome (a fast path for duplicates) and
   * where its user stands (to decide whether a password hash is needed before the transaction opens).
   */
  preflight(svixId: string | null, userId: string): Promise<Preflight>;
  /**
   * Runs `work` in a transaction that holds the lock of `lockKey` (a user id, or another key for changes
   * that concern no user; null for none), retrying serialization
   * failures, deadlocks and lost races. Throws `SyncError("email_conflict")` when an email is held by
   * another user, and `SyncError("unavailable")` when the database cannot be reached or retries run out.
   */
  transaction<T>(lockKey: string | null, work: (tx: SyncTransaction) => Promise<T>): Promise<T>;
  /** Records a failed delivery (outside any transaction); a delivery already processed or ignored is left alone. */
  recordFailure(delivery: DeliveryRecord, errorCode: string, payload: string | null): Promise<void>;
}

export interface SyncTransaction {
  eventOutcome(svixId: string): Promise<EventOutcome | null>;
  /** The delivery's outcome, the user's tombstone and the stored user, in one round trip. */
  lockedState(svixId: string | null, userId: string): Promise<LockedState>;
  /** Records the final outcome of a delivery; a failed record for it is replaced. */
  recordOutcome(delivery: DeliveryRecord, outcome: "processed" | "ignored"): Promise<void>;
  /** Creates the user and its profile. The username is picked inside, under a lock on its base. */
  createUser(user: DesiredUser, password: string, usernameBase: string): Promise<void>;
  /** Writes only the fields that are given. */
  updateUser(userId: string, change: Partial<Omit<DesiredUser, "id">>): Promise<void>;
  /** Deletes the user (its profile by cascade), if present, and writes its tombstone. */
  deleteUser(userId: string): Promise<void>;
}
