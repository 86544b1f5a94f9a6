import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSyncStore } from "../../src/db/sync-store";
import type { SyncStore } from "../../src/sync/store";
import { createWebhookHandler } from "../../src/webhooks/handler";
import { openDatabase, type Database } from "../../src/db/index";
import { createdEvent, signedRequest, stackUser, TEST_SECRET } from "../support/fixtures";
import { TEST_SYNC_OPTIONS } from "../support/harness";
import { createTestDatabase } from "../support/postgres";

/**
 * Scenario 1, in miniature and deterministic: the connection of a transaction dies under it (what a
 * PostgreSQL restart, a failover or an idle-session killer does). pg then throws plain `Error`s
 * ("Client has encountered a connection error and is not queryable") that the Prisma adapter passes on
 * as they are; they must still be read as "database unavailable": retried, then 503, never a 500.
 */
describe("a transaction whose connection is terminated (PostgreSQL)", () => {
  let db: Database;
  let admin: pg.Client;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const created = await createTestDatabase();
    drop = created.drop;
    db = await openDatabase({ kind: "postgres", url: created.url });
    await db.migrate();
    admin = new pg.Client({ connectionString: created.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await db?.close();
    await drop?.();
  });
  beforeEach(async () => {
    await db.prisma.$executeRawUnsafe("TRUNCATE users, profiles, user_tombstones, webhook_events");
  });

  const OTHERS = `FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`;

  /**
   * Ends every other session on the test database (the app's pool connections, mid-transaction) and
   * waits until they are gone, so that the app's next query meets a closed connection.
   */
  async function terminateOthers(): Promise<number> {
    const { rowCount } = await admin.query(`SELECT pg_terminate_backend(pid) ${OTHERS}`);
    for (let i = 0; i < 200; i++) {
      const { rows } = await admin.query<{ n: string }>(`SELECT count(*) AS n ${OTHERS}`);
      if (Number(rows[0]?.n) === 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    return rowCount ?? 0;
  }

  /** The real store, whose transactions lose their connection on the first `failures` attempts. */
  function sabotaged(failures: number): { store: SyncStore; attempts: () => number } {
    const real = createSyncStore(db.prisma);
    let attempts = 0;
    return {
      attempts: () => attempts,
      store: {
        ...real,
        transaction: (userId, work) =>
          real.transaction(userId, async (tx) => {
            attempts++;
            if (attempts <= failures) expect(await terminateOthers()).toBeGreaterThan(0);
            return work(tx);
          }),
      },
    };
  }

  function handler(store: SyncStore) {
    return createWebhookHandler({ store, secrets: [TEST_SECRET], sync: TEST_SYNC_OPTIONS });
  }

  it("answers 503 unavailable with Retry-After, and writes nothing, when it keeps failing", async () => {
    const { store, attempts } = sabotaged(Infinity);
    const user = stackUser();
    const res = await handler(store)(signedRequest(createdEvent(user)));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await res.json()).toMatchObject({ error: { code: "unavailable" } });
    expect(attempts()).toBeGreaterThanOrEqual(2);
    expect(await db.prisma.user.count()).toBe(0);
    expect(await db.prisma.profile.count()).toBe(0);
    expect(await db.prisma.webhookEvent.count()).toBe(0);
  });

  it("retries on a fresh connection and processes the event once when the loss was passing", async () => {
    const { store, attempts } = sabotaged(1);
    const user = stackUser({ display_name: "Once Only" });
    const res = await handler(store)(signedRequest(createdEvent(user), { svixId: "msg_conn_loss_once" }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "processed" });
    expect(attempts()).toBe(2);
    expect(
      await db.prisma.user.findUnique({ where: { id: user.id }, include: { profile: true } }),
    ).toMatchObject({
      email: user.primary_email,
      profile: { displayName: "Once Only" },
    });
    expect(
      await db.prisma.webhookEvent.findUnique({ where: { svixId: "msg_conn_loss_once" } }),
    ).toMatchObject({
      outcome: "processed",
    });
  });
});
