import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db";
import { startAppServer, type AppServer } from "../support/app-server";
import {
  createdEvent,
  deletedEvent,
  signedRequest,
  stackUser,
  TEST_SECRET,
  updatedEvent,
  type EventBody,
} from "../support/fixtures";
import { createTestDatabase } from "../support/postgres";

/** The built app (`next start`) over real HTTP, on PostgreSQL. */
describe("end to end over HTTP", () => {
  let server: AppServer;
  let db: Database;
  let dropDatabase: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase();
    dropDatabase = database.drop;
    server = await startAppServer({
      DATABASE_URL: database.url,
      STACK_WEBHOOK_SECRET: TEST_SECRET,
      PASSWORD_HASH_ROUNDS: "4",
    });
    db = await openDatabase({ kind: "postgres", url: database.url });
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await db?.close();
    await dropDatabase?.();
  });

  async function send(body: EventBody | string, options: Parameters<typeof signedRequest>[1] = {}) {
    const request = signedRequest(body, options);
    const res = await fetch(`${server.url}/api/webhooks/stack/user/sync`, {
      method: request.method,
      headers: request.headers,
      body: await request.text(),
    });
    return { status: res.status, body: (await res.json()) as unknown, headers: res.headers };
  }

  it("migrated the database on start", async () => {
    expect(await db.pendingMigrations()).toEqual([]);
  });

  it("creates, updates and deletes a user, with the rows to show for it", async () => {
    const user = stackUser({ display_name: "Ada Lovelace", primary_email: "Ada@Example.com" });
    expect(await send(createdEvent(user))).toMatchObject({ status: 200, body: { status: "processed" } });
    const created = await db.prisma.user.findUnique({ where: { id: user.id }, include: { profile: true } });
    expect(created).toMatchObject({
      email: "ada@example.com",
      profile: { username: "ada_lovelace", displayName: "Ada Lovelace" },
    });
    expect(created?.password).toMatch(/^\$2b\$04\$/);

    const renamed = { ...user, display_name: "Countess Ada", server_metadata: { plan: "PRO" } };
    expect(await send(updatedEvent(renamed))).toMatchObject({ status: 200, body: { status: "processed" } });
    expect(await db.prisma.profile.findUnique({ where: { userId: user.id } })).toMatchObject({
      username: "ada_lovelace",
      displayName: "Countess Ada",
      plan: "PRO",
    });

    expect(await send(deletedEvent(user.id))).toMatchObject({ status: 200, body: { status: "processed" } });
    expect(await db.prisma.user.count({ where: { id: user.id } })).toBe(0);
    expect(await db.prisma.profile.count({ where: { userId: user.id } })).toBe(0);
    expect(await db.prisma.userTombstone.count({ where: { userId: user.id } })).toBe(1);
  });

  it("answers a redelivery with duplicate and a bad signature with 401", async () => {
    const user = stackUser();
    const first = await send(createdEvent(user), { svixId: "msg_e2e_dup" });
    const again = await send(createdEvent(user), { svixId: "msg_e2e_dup" });
    expect([first.body, again.body]).toEqual([{ status: "processed" }, { status: "duplicate" }]);
    const forged = await send(createdEvent(stackUser()), {
      secret: "whsec_" + Buffer.from("wrong").toString("base64"),
    });
    expect(forged).toMatchObject({ status: 401, body: { error: { code: "invalid_signature" } } });
    expect(await db.prisma.user.count()).toBe(1);
  });

  it("answers GET with 405 and a body over 2 MiB with 413", async () => {
    const get = await fetch(`${server.url}/api/webhooks/stack/user/sync`);
    expect(get.status).toBe(405);
    const big = await send("x".repeat(2 * 1024 * 1024 + 1));
    expect(big).toMatchObject({ status: 413, body: { error: { code: "payload_too_large" } } });
  });
});
