import { createSyncStore } from "../../src/db/sync-store";
import type { SyncOptions } from "../../src/sync/engine";
import { createWebhookHandler, type WebhookHandler } from "../../src/webhooks/handler";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { openTestDatabase, type DatabaseKind, type TestDatabase } from "./databases";
import { TEST_SECRET } from "./fixtures";

/** Cost 4: tests check behaviour, not bcrypt's cost; the benchmarks measure cost 12. */
export const TEST_SYNC_OPTIONS: SyncOptions = { syncAnonymousUsers: false, passwordHashRounds: 4 };

/** The real handler over a test database, signed with TEST_SECRET unless told otherwise. */
export function handlerFor(
  test: TestDatabase,
  options: { secrets?: string[]; sync?: Partial<SyncOptions> } = {},
): WebhookHandler {
  return createWebhookHandler({
    store: createSyncStore(test.db.prisma),
    secrets: options.secrets ?? [TEST_SECRET],
    sync: { ...TEST_SYNC_OPTIONS, ...options.sync },
  });
}

/** Users joined with their profiles, ordered by id: what the tables hold. */
export async function tableState(test: TestDatabase) {
  const users = await test.db.prisma.user.findMany({ include: { profile: true }, orderBy: { id: "asc" } });
  return users.map((u) => ({
    id: u.id,
    email: u.email,
    username: u.profile?.username,
    displayName: u.profile?.displayName,
    avatar: u.profile?.avatar,
    plan: u.profile?.plan,
  }));
}

export async function eventRow(test: TestDatabase, svixId: string) {
  return test.db.prisma.webhookEvent.findUnique({ where: { svixId } });
}

export async function counts(test: TestDatabase) {
  const p = test.db.prisma;
  const [users, profiles, tombstones, events] = await Promise.all([
    p.user.count(),
    p.profile.count(),
    p.userTombstone.count(),
    p.webhookEvent.count(),
  ]);
  return { users, profiles, tombstones, events };
}

/**
 * One migrated database of `kind` and the real handler over it for a whole describe block, emptied before
 * each test. The fields are set once the block's `beforeAll` has run.
 */
export function useEndpoint(kind: DatabaseKind): { test: TestDatabase; handler: WebhookHandler } {
  const ctx = {} as { test: TestDatabase; handler: WebhookHandler };
  beforeAll(async () => {
    ctx.test = await openTestDatabase(kind);
    ctx.handler = handlerFor(ctx.test);
  });
  afterAll(() => ctx.test.close());
  beforeEach(() => ctx.test.reset());
  return ctx;
}
