import { afterAll, beforeAll, beforeEach } from "vitest";
import {
  createEmulator,
  randomPerson,
  type Emulator,
  type EmulatedUser,
  type Random,
} from "../../src/emulator";
import { createSyncStore } from "../../src/db/sync-store";
import { reconcile, type ReconcileOptions, type ReconcileSummary } from "../../src/reconcile";
import { createStackApiClient, type StackApiClient } from "../../src/stack/api";
import { placeholderEmail, planOf } from "../../src/sync/user-state";
import { openTestDatabase, type DatabaseKind, type TestDatabase } from "../support/databases";
import { TEST_SYNC_OPTIONS } from "../support/harness";

export const PROJECT_ID = "4f1d3c2b-aaaa-4bbb-8ccc-ddddeeeeffff";
export const SERVER_KEY = "ssk_reconcile_tests";

/** One suite's database and emulator, opened once and emptied before each test. */
export function useReconcileSetup(kind: DatabaseKind): {
  test: TestDatabase;
  emulator: Emulator;
  api: StackApiClient;
} {
  const ctx = {} as { test: TestDatabase; emulator: Emulator; api: StackApiClient };
  beforeAll(async () => {
    ctx.test = await openTestDatabase(kind);
    Object.assign(ctx, await startEmulator());
  });
  afterAll(async () => {
    await ctx.emulator.stop();
    await ctx.test.close();
  });
  beforeEach(async () => {
    await ctx.test.reset();
    clearEmulator(ctx.emulator);
  });
  return ctx;
}

/** A started emulator and a client of its API. */
export async function startEmulator(): Promise<{ emulator: Emulator; api: StackApiClient }> {
  const emulator = createEmulator({ projectId: PROJECT_ID, secretServerKey: SERVER_KEY });
  await emulator.start();
  const api = createStackApiClient({
    apiUrl: emulator.url,
    projectId: PROJECT_ID,
    secretServerKey: SERVER_KEY,
  });
  return { emulator, api };
}

/** Empties the emulator, without webhooks. */
export function clearEmulator(emulator: Emulator): void {
  for (const user of emulator.users.list()) emulator.users.delete(user.id, { notify: false });
  emulator.setChaos({ rateLimit: 0, serverError: 0 });
}

/** `n` users with spread sign-up times, a share anonymous and a few restricted by an admin; no webhooks. */
export function populate(emulator: Emulator, n: number, random: Random, anonymousShare = 0.1): void {
  const start = Date.now() - n * 1000;
  for (let i = 0; i < n; i++) {
    const at = { signedUpAtMillis: start + i * 1000, notify: false };
    if (random() < anonymousShare) {
      emulator.users.signUpAnonymous(at);
      continue;
    }
    const restricted = random() < 0.03 ? { restricted_by_admin: true } : {};
    emulator.users.create({ ...randomPerson(random), primary_email_auth_enabled: true, ...restricted }, at);
  }
}

/** Runs reconcile over a test database with the test sync options, against an API. */
export function runReconcile(
  test: TestDatabase,
  api: ReconcileOptions["api"],
  extra: Partial<ReconcileOptions> = {},
): Promise<ReconcileSummary> {
  return reconcile({
    store: createSyncStore(test.db.prisma),
    prisma: test.db.prisma,
    api,
    options: TEST_SYNC_OPTIONS,
    ...extra,
  });
}

/** What the tables must hold for the emulator's users (plans are only ever set to valid values in these tests). */
export function expectedRows(users: EmulatedUser[], syncAnonymous = false) {
  return users
    .filter((u) => syncAnonymous || !u.is_anonymous)
    .map((u) => ({
      id: u.id,
      email: u.primary_email ? u.primary_email.trim().toLowerCase() : placeholderEmail(u.id),
      displayName: u.display_name,
      avatar: u.profile_image_url,
      plan: planOf(u.server_metadata) ?? "FREE",
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** The tables, in the same shape (username aside: it is made once and never compared with Stack). */
export async function actualRows(test: Pick<TestDatabase, "db">) {
  const users = await test.db.prisma.user.findMany({ include: { profile: true }, orderBy: { id: "asc" } });
  return users.map((u) => ({
    id: u.id,
    email: u.email,
    displayName: u.profile?.displayName ?? null,
    avatar: u.profile?.avatar ?? null,
    plan: u.profile?.plan,
  }));
}

/** Everything written, timestamps included, to prove a run changed nothing. */
export async function fingerprint(test: TestDatabase) {
  const p = test.db.prisma;
  const [users, profiles, tombstones, events] = await Promise.all([
    p.user.findMany({ orderBy: { id: "asc" } }),
    p.profile.findMany({ orderBy: { userId: "asc" } }),
    p.userTombstone.findMany({ orderBy: { userId: "asc" } }),
    p.webhookEvent.count(),
  ]);
  return { users, profiles, tombstones, events };
}

/** Picks `count` distinct items. */
export function sample<T>(items: readonly T[], count: number, random: Random): T[] {
  const pool = [...items];
  const picked: T[] = [];
  while (picked.length < count && pool.length > 0) {
    const [item] = pool.splice(Math.floor(random() * pool.length), 1);
    if (item !== undefined) picked.push(item);
  }
  return picked;
}

/**
 * Writes the rows the webhooks would have left for these users, straight into the tables: a large starting state
 * in a second instead of one engine transaction per user (which is the engine's speed, measured elsewhere).
 */
export async function seedTables(test: TestDatabase, users: EmulatedUser[]): Promise<void> {
  const rows = expectedRows(users);
  const p = test.db.prisma;
  for (let i = 0; i < rows.length; i += 1000) {
    const batch = rows.slice(i, i + 1000);
    await p.user.createMany({
      data: batch.map((r) => ({ id: r.id, email: r.email, password: "$2b$04$seeded.for.tests" })),
    });
    await p.profile.createMany({
      data: batch.map((r, j) => ({
        userId: r.id,
        username: `seeded_${i + j}`,
        displayName: r.displayName,
        avatar: r.avatar,
        plan: r.plan,
      })),
    });
  }
}
