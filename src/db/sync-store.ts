import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { SyncError } from "../errors";
import type { DeliveryRecord, EventOutcome, SyncStore, SyncTransaction, UserPresence } from "../sync/store";
import { usernameCandidates } from "../sync/username";
import type { Plan } from "../sync/user-state";
import { Prisma, type PrismaClient } from "../generated/prisma/client";
import type { TransactionClient } from "../generated/prisma/internal/prismaNamespace";
import { classifyDbError } from "./errors";

/** Advisory-lock namespaces (the two-key form, which never overlaps Prisma's single-key migration lock). */
const LOCK_USER = 0x53594e43; // "SYNC"
const LOCK_USERNAME = 0x53594e55; // "SYNU"

const MAX_ATTEMPTS = 10;
const USERNAME_BATCH = 32;

export interface SyncStoreOptions {
  /** Called on every retried attempt, for metrics and logs. */
  onRetry?: (reason: "conflict" | "unavailable", attempt: number) => void;
}

/** The sync rules' store over Prisma: the only code that knows how users, profiles and events are stored. */
export function createSyncStore(prisma: PrismaClient, options: SyncStoreOptions = {}): SyncStore {
  return {
    async eventOutcome(svixId) {
      return guard(
        async () =>
          (await prisma.webhookEvent.findUnique({ where: { svixId }, select: { outcome: true } }))?.outcome ??
          null,
      );
    },

    async preflight(svixId, userId) {
      return guard(async () => {
        const [row] = await prisma.$queryRaw<
          { outcome: EventOutcome | null; live: boolean; deleted: boolean }[]
        >`
          SELECT (SELECT outcome::text FROM webhook_events WHERE svix_id = ${svixId}::text) AS outcome,
                 EXISTS (SELECT 1 FROM users WHERE id = ${userId}) AS live,
                 EXISTS (SELECT 1 FROM user_tombstones WHERE user_id = ${userId}) AS deleted`;
        const presence: UserPresence = row?.deleted ? "deleted" : row?.live ? "live" : "absent";
        return { outcome: row?.outcome ?? null, presence };
      });
    },

    async transaction(lockKey, work) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await prisma.$transaction(async (tx) => {
            if (lockKey !== null)
              await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCK_USER}::int4, hashtext(${lockKey}))`;
            return work(transactionOver(tx));
          });
        } catch (error) {
          const failure = classifyDbError(error);
          if (failure === null) throw error;
          // Only users.email is unique on an email column.
          if (failure.kind === "unique" && failure.column === "email") {
            throw new SyncError("email_conflict", undefined, { cause: error });
          }
          // Data PostgreSQL will never take is the payload's fault: answered 422, not retried for 27 hours.
          if (failure.kind === "rejected")
            throw new SyncError("invalid_payload", "data rejected", { cause: error });
          // A lost race (username, event log, user id) or a serialization failure: run it again.
          // A broken connection gets one more try, for a pool that still held a connection from before a restart.
          const reason = failure.kind === "unavailable" ? "unavailable" : "conflict";
          const limit = reason === "unavailable" ? 2 : MAX_ATTEMPTS;
          if (attempt >= limit)
            throw new SyncError("unavailable", `${reason} after ${attempt} attempts`, { cause: error });
          options.onRetry?.(reason, attempt);
          await sleep(backoff(attempt));
        }
      }
    },

    async recordFailure(delivery, errorCode, payload) {
      await guard(
        () => prisma.$executeRaw`
          INSERT INTO webhook_events (svix_id, type, user_id, outcome, error_code, attempts, payload)
          VALUES (${delivery.svixId}, ${delivery.type}, ${delivery.userId}, 'failed', ${errorCode}, 1, ${payload})
          ON CONFLICT (svix_id) DO UPDATE
            SET type = EXCLUDED.type, user_id = EXCLUDED.user_id, error_code = EXCLUDED.error_code,
                payload = EXCLUDED.payload, attempts = webhook_events.attempts + 1, last_seen_at = now()
            WHERE webhook_events.outcome = 'failed'`,
      );
    },
  };
}

interface LockedStateRow {
  outcome: EventOutcome | null;
  deleted: boolean;
  id: string | null;
  email: string | null;
  displayName: string | null;
  avatar: string | null;
  plan: Plan | null;
}

function transactionOver(tx: TransactionClient): SyncTransaction {
  return {
    async eventOutcome(svixId): Promise<EventOutcome | null> {
      return (
        (await tx.webhookEvent.findUnique({ where: { svixId }, select: { outcome: true } }))?.outcome ?? null
      );
    },

    async recordOutcome(delivery: DeliveryRecord, outcome) {
      await tx.$executeRaw`
        INSERT INTO webhook_events (svix_id, type, user_id, outcome, attempts)
        VALUES (${delivery.svixId}, ${delivery.type}, ${delivery.userId}, ${outcome}::"EventOutcome", 1)
        ON CONFLICT (svix_id) DO UPDATE
          SET outcome = EXCLUDED.outcome, error_code = NULL, payload = NULL,
              attempts = webhook_events.attempts + 1, last_seen_at = now()`;
    },

    async lockedState(svixId, userId) {
      // One statement for three reads; the user columns are null when there is no such user.
      const [row] = await tx.$queryRaw<LockedStateRow[]>`
        SELECT (SELECT outcome::text FROM webhook_events WHERE svix_id = ${svixId}::text) AS outcome,
               EXISTS (SELECT 1 FROM user_tombstones WHERE user_id = ${userId}) AS deleted,
               u.id, u.email, p.display_name AS "displayName", p.avatar, p.plan::text AS plan
        FROM (SELECT 1) AS one
        LEFT JOIN (users u JOIN profiles p ON p.user_id = u.id) ON u.id = ${userId}`;
      if (!row) throw new Error("lockedState: the query returned no row");
      const { outcome, deleted, id, email, displayName, avatar, plan } = row;
      const user =
        id !== null && email !== null && plan !== null ? { id, email, displayName, avatar, plan } : null;
      return { outcome, deleted, user };
    },

    async createUser(user, password, usernameBase) {
      // Creators of the same base name queue here instead of racing for the same candidate.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCK_USERNAME}::int4, hashtext(${usernameBase}))`;
      const username = await firstFreeUsername(tx, usernameBase);
      // One raw statement for both rows: Prisma's model creates cost a statement each and a query plan.
      // The profile's foreign key is checked at the end of the statement, when the user row is there.
      await tx.$executeRaw`
        WITH new_user AS (
          INSERT INTO users (id, email, password, updated_at) VALUES (${user.id}, ${user.email}, ${password}, now())
        )
        INSERT INTO profiles (id, user_id, username, display_name, avatar, plan, updated_at)
        VALUES (${randomUUID()}, ${user.id}, ${username}, ${user.displayName}, ${user.avatar},
                ${user.plan ?? "FREE"}::"Plan", now())`;
    },

    async updateUser(userId, change) {
      // One raw statement for both tables: Prisma's model updates cost a statement each and a query plan.
      const profile = [
        change.displayName !== undefined && Prisma.sql`display_name = ${change.displayName}`,
        change.avatar !== undefined && Prisma.sql`avatar = ${change.avatar}`,
        change.plan !== undefined && Prisma.sql`plan = ${change.plan}::"Plan"`,
      ].filter((set) => set !== false);
      const updateUser =
        change.email !== undefined
          ? Prisma.sql`UPDATE users SET email = ${change.email}, updated_at = now() WHERE id = ${userId}`
          : null;
      const updateProfile =
        profile.length > 0
          ? Prisma.sql`UPDATE profiles SET ${Prisma.join(profile)}, updated_at = now() WHERE user_id = ${userId}`
          : null;
      if (updateUser && updateProfile) await tx.$executeRaw`WITH u AS (${updateUser}) ${updateProfile}`;
      else if (updateUser) await tx.$executeRaw(updateUser);
      else if (updateProfile) await tx.$executeRaw(updateProfile);
    },

    async deleteUser(userId) {
      // One statement: the delete (the profile goes by cascade) and the tombstone.
      await tx.$executeRaw`
        WITH gone AS (DELETE FROM users WHERE id = ${userId})
        INSERT INTO user_tombstones (user_id) VALUES (${userId}) ON CONFLICT DO NOTHING`;
    },
  };
}

async function firstFreeUsername(tx: TransactionClient, base: string): Promise<string> {
  for (let from = 0; ; from += USERNAME_BATCH) {
    const candidates = usernameCandidates(base, from, USERNAME_BATCH);
    const taken = await tx.profile.findMany({
      where: { username: { in: candidates } },
      select: { username: true },
    });
    const takenSet = new Set(taken.map((t) => t.username));
    const free = candidates.find((c) => !takenSet.has(c));
    if (free) return free;
  }
}

/** Runs a database call outside a transaction; database failures become `unavailable`. */
async function guard<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (classifyDbError(error) === null) throw error;
    throw new SyncError("unavailable", "database call failed", { cause: error });
  }
}

/** Jittered exponential backoff: 10 ms, 20 ms, … up to 500 ms. */
function backoff(attempt: number): number {
  const ceiling = Math.min(500, 10 * 2 ** (attempt - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
