/**
 * The endpoint's error answers (SPEC §3 rows 405, 413, 400, 422, 409, 503 unavailable, and the retry of a
 * failed delivery), through the real handler, on both databases.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db";
import { createSyncStore } from "../../src/db/sync-store";
import { messageOf, type ErrorCode } from "../../src/errors";
import { MAX_BODY_BYTES } from "../../src/webhooks/body";
import { createWebhookHandler } from "../../src/webhooks/handler";
import { DATABASE_KINDS, type DatabaseKind } from "../support/databases";
import {
  TEST_SECRET,
  WEBHOOK_URL,
  createdEvent,
  deletedEvent,
  signedRequest,
  stackUser,
  updatedEvent,
  type EventBody,
  type SignOptions,
} from "../support/fixtures";
import { TEST_SYNC_OPTIONS, counts, eventRow, handlerFor, tableState, useEndpoint } from "../support/harness";
import { createTestDatabase } from "../support/postgres";

type Handler = ReturnType<typeof handlerFor>;

const STATUS: Partial<Record<ErrorCode, number>> = {
  method_not_allowed: 405,
  payload_too_large: 413,
  invalid_json: 400,
  invalid_payload: 422,
  email_conflict: 409,
  unavailable: 503,
};

async function send(handler: Handler, body: EventBody | string | Uint8Array, options: SignOptions = {}) {
  return handler(signedRequest(body, options));
}

/** Asserts an error answer: its status, and a body with nothing but the code and the code's fixed message. */
async function expectError(response: Response, code: ErrorCode) {
  expect({ status: response.status, body: await response.json() }).toEqual({
    status: STATUS[code],
    body: { error: { code, message: messageOf(code) } },
  });
}

const NOTHING = { users: 0, profiles: 0, tombstones: 0, events: 0 };

describe.each(DATABASE_KINDS)("endpoint on %s: error answers", (kind) => {
  /** About PostgreSQL's server and pool, which PGlite does not have: defined on PostgreSQL only, not skipped. */
  const onPostgres = (name: string, fn: () => Promise<void>, timeout?: number) => {
    if (kind === "postgres") it(name, fn, timeout);
  };

  const ctx = useEndpoint(kind);

  describe("405 method_not_allowed", () => {
    it.each(["GET", "HEAD", "OPTIONS"])(
      "answers a %s with 405 and Allow: POST, writing nothing",
      async (method) => {
        const response = await ctx.handler(new Request(WEBHOOK_URL, { method }));
        expect(response.status).toBe(405);
        expect(response.headers.get("allow")).toBe("POST");
        if (method !== "HEAD") await expectError(response, "method_not_allowed");
        expect(await counts(ctx.test)).toEqual(NOTHING);
      },
    );

    it.each(["PUT", "PATCH", "DELETE"])(
      "answers a correctly signed %s of a user.created with 405, writing nothing",
      async (method) => {
        const response = await ctx.handler(signedRequest(createdEvent(stackUser()), { method }));
        expect(response.headers.get("allow")).toBe("POST");
        await expectError(response, "method_not_allowed");
        expect(await counts(ctx.test)).toEqual(NOTHING);
      },
    );
  });

  describe("413 payload_too_large", () => {
    it("answers a signed body of 2 MiB + 1 with 413, writing nothing", async () => {
      const user = stackUser();
      const body = paddedBody(createdEvent(user), MAX_BODY_BYTES + 1);
      await expectError(await send(ctx.handler, body), "payload_too_large");
      expect(await counts(ctx.test)).toEqual(NOTHING);
    });

    it("processes a signed body of exactly 2 MiB", async () => {
      const user = stackUser({ display_name: "Exactly Two" });
      const body = paddedBody(createdEvent(user), MAX_BODY_BYTES);
      const response = await send(ctx.handler, body);
      expect({ status: response.status, body: await response.json() }).toEqual({
        status: 200,
        body: { status: "processed" },
      });
      expect((await tableState(ctx.test)).map((u) => u.id)).toEqual([user.id]);
    });

    it("answers 413 to an over-long body before looking at its signature", async () => {
      const body = new Uint8Array(MAX_BODY_BYTES + 1).fill(0x20);
      const response = await ctx.handler(new Request(WEBHOOK_URL, { method: "POST", body }));
      await expectError(response, "payload_too_large");
      expect(await counts(ctx.test)).toEqual(NOTHING);
    });
  });

  describe("400 invalid_json", () => {
    it.each([
      ["plain text", "this is not json"],
      ["a cut-off object", '{"type":"user.created","data":{'],
      ["an empty body", ""],
      ["JSON with a trailing comma", '{"type":"user.created",}'],
    ])(
      "answers a verified body of %s with 400 and logs it as failed with its payload",
      async (_label, body) => {
        const response = await send(ctx.handler, body, { svixId: "msg_bad_json" });
        await expectError(response, "invalid_json");
        expect(await eventRow(ctx.test, "msg_bad_json")).toMatchObject({
          svixId: "msg_bad_json",
          outcome: "failed",
          errorCode: "invalid_json",
          attempts: 1,
          payload: body,
          type: null,
          userId: null,
        });
        expect(await counts(ctx.test)).toEqual({ ...NOTHING, events: 1 });
      },
    );

    it("answers a verified body that is not UTF-8 with 400 and logs it with the bad bytes replaced", async () => {
      const prefix = new TextEncoder().encode('{"type":"user.created","data":{"display_name":"');
      const suffix = new TextEncoder().encode('"}}');
      const body = new Uint8Array([...prefix, 0xff, 0xfe, 0xc3, ...suffix]);
      await expectError(await send(ctx.handler, body, { svixId: "msg_latin" }), "invalid_json");
      const row = await eventRow(ctx.test, "msg_latin");
      expect(row).toMatchObject({ outcome: "failed", errorCode: "invalid_json", attempts: 1 });
      expect(row?.payload).toBe('{"type":"user.created","data":{"display_name":"\uFFFD\uFFFD\uFFFD"}}');
      expect(await counts(ctx.test)).toEqual({ ...NOTHING, events: 1 });
    });

    it("answers a verified body with a raw NUL byte with 400 and still logs it", async () => {
      const body = new Uint8Array([
        ...new TextEncoder().encode('{"type":"'),
        0x00,
        ...new TextEncoder().encode('"}'),
      ]);
      await expectError(await send(ctx.handler, body, { svixId: "msg_nul" }), "invalid_json");
      expect(await eventRow(ctx.test, "msg_nul")).toMatchObject({
        outcome: "failed",
        errorCode: "invalid_json",
        payload: '{"type":"\uFFFD"}',
      });
    });

    it("counts a second failed delivery of the same svix-id as a second attempt", async () => {
      await send(ctx.handler, "nope", { svixId: "msg_twice_bad" });
      await expectError(await send(ctx.handler, "still nope", { svixId: "msg_twice_bad" }), "invalid_json");
      expect(await eventRow(ctx.test, "msg_twice_bad")).toMatchObject({
        outcome: "failed",
        attempts: 2,
        payload: "still nope",
      });
    });
  });

  describe("422 invalid_payload", () => {
    const base = () => stackUser({ id: "8d4f2b7a-1111-4aaa-8bbb-000000000422" });
    const cases: [string, string, unknown][] = [
      ["user.created", "data without an id", (({ id: _id, ...rest }) => rest)(base())],
      ["user.created", "a numeric id", { ...base(), id: 42 }],
      ["user.created", "an empty id", { ...base(), id: "" }],
      ["user.created", "a numeric email", { ...base(), primary_email: 12 }],
      ["user.created", "a missing primary_email", (({ primary_email: _e, ...rest }) => rest)(base())],
      ["user.created", "a display name of 1025 characters", { ...base(), display_name: "x".repeat(1025) }],
      [
        "user.created",
        "an avatar of 1,000,001 characters",
        { ...base(), profile_image_url: "a".repeat(1_000_001) },
      ],
      ["user.created", "a NUL character in the display name", { ...base(), display_name: "bad\u0000name" }],
      ["user.created", "is_anonymous as a string", { ...base(), is_anonymous: "yes" }],
      ["user.created", "null data", null],
      ["user.updated", "data that is a string", "6f1c2a8e"],
      ["user.updated", "data that is an array", [base()]],
      ["user.deleted", "data without an id", { teams: [] }],
      ["user.deleted", "a numeric id", { id: 7, teams: [] }],
    ];

    it.each(cases)(
      "answers a verified %s with %s with 422 and logs it as failed",
      async (type, _label, data) => {
        const body = JSON.stringify({ type, data });
        await expectError(await send(ctx.handler, body, { svixId: "msg_invalid" }), "invalid_payload");
        const row = await eventRow(ctx.test, "msg_invalid");
        expect(row).toMatchObject({
          outcome: "failed",
          errorCode: "invalid_payload",
          type,
          attempts: 1,
          payload: body,
        });
        expect(await counts(ctx.test)).toEqual({ ...NOTHING, events: 1 });
      },
    );

    it("logs the user id of an invalid user.updated when the id itself is readable", async () => {
      const user = base();
      const body = JSON.stringify({ type: "user.updated", data: { ...user, primary_email: false } });
      await expectError(await send(ctx.handler, body, { svixId: "msg_invalid_id" }), "invalid_payload");
      expect(await eventRow(ctx.test, "msg_invalid_id")).toMatchObject({
        userId: user.id,
        type: "user.updated",
      });
    });

    it("leaves an existing user alone when its update is invalid", async () => {
      const user = stackUser({ display_name: "Valid First" });
      await send(ctx.handler, createdEvent(user));
      const before = await tableState(ctx.test);
      const body = JSON.stringify({ type: "user.updated", data: { ...user, display_name: 5 } });
      await expectError(await send(ctx.handler, body), "invalid_payload");
      expect(await tableState(ctx.test)).toEqual(before);
    });

    it.each([
      ["an array", "[1,2,3]"],
      ["a number", "42"],
      ["null", "null"],
      ["an object without type", '{"data":{}}'],
      ["a numeric type", '{"type":5,"data":{}}'],
      ["a user.updated without data", '{"type":"user.updated"}'],
    ])("refuses JSON that is %s instead of an event with a 4xx, logged as failed", async (_label, body) => {
      const response = await send(ctx.handler, body, { svixId: "msg_not_event" });
      expect([400, 422]).toContain(response.status);
      const code = response.status === 400 ? "invalid_json" : "invalid_payload";
      await expectError(response, code);
      expect(await eventRow(ctx.test, "msg_not_event")).toMatchObject({
        outcome: "failed",
        errorCode: code,
        payload: body,
      });
      expect(await counts(ctx.test)).toEqual({ ...NOTHING, events: 1 });
    });
  });

  describe("409 email_conflict", () => {
    it("refuses a user.created whose email another user holds, logs it as failed and leaves the other user alone", async () => {
      const holder = stackUser({ display_name: "Holder", primary_email: "taken@example.com" });
      await send(ctx.handler, createdEvent(holder));
      const before = await tableState(ctx.test);
      const newcomer = stackUser({ display_name: "Newcomer", primary_email: "  Taken@Example.COM " });
      const body = JSON.stringify(createdEvent(newcomer));
      await expectError(await send(ctx.handler, body, { svixId: "msg_conflict" }), "email_conflict");
      expect(await eventRow(ctx.test, "msg_conflict")).toMatchObject({
        outcome: "failed",
        errorCode: "email_conflict",
        type: "user.created",
        userId: newcomer.id,
        attempts: 1,
        payload: body,
      });
      expect(await tableState(ctx.test)).toEqual(before);
      expect(await counts(ctx.test)).toEqual({ users: 1, profiles: 1, tombstones: 0, events: 2 });
    });

    it("refuses a user.updated to an email another user holds and changes neither user", async () => {
      const a = stackUser({ display_name: "Alpha", primary_email: "alpha@example.com" });
      const b = stackUser({ display_name: "Beta", primary_email: "beta@example.com" });
      await send(ctx.handler, createdEvent(a));
      await send(ctx.handler, createdEvent(b));
      const before = await tableState(ctx.test);
      const response = await send(
        ctx.handler,
        updatedEvent({ ...b, primary_email: "alpha@example.com", display_name: "Beta 2" }),
        {
          svixId: "msg_update_conflict",
        },
      );
      await expectError(response, "email_conflict");
      expect(await tableState(ctx.test)).toEqual(before);
      expect(await eventRow(ctx.test, "msg_update_conflict")).toMatchObject({
        outcome: "failed",
        errorCode: "email_conflict",
      });
    });

    it("processes the failed delivery when it is retried after the conflict is gone, counting two attempts", async () => {
      const holder = stackUser({ primary_email: "moving@example.com" });
      const newcomer = stackUser({ display_name: "Patient", primary_email: "moving@example.com" });
      await send(ctx.handler, createdEvent(holder));
      const body = JSON.stringify(createdEvent(newcomer));
      await expectError(await send(ctx.handler, body, { svixId: "msg_retry" }), "email_conflict");

      // The holder's change arrives; Svix then retries the same message under the same svix-id.
      await send(ctx.handler, updatedEvent({ ...holder, primary_email: "moved@example.com" }));
      const response = await send(ctx.handler, body, { svixId: "msg_retry" });
      expect({ status: response.status, body: await response.json() }).toEqual({
        status: 200,
        body: { status: "processed" },
      });
      expect(await eventRow(ctx.test, "msg_retry")).toMatchObject({
        outcome: "processed",
        errorCode: null,
        payload: null,
        attempts: 2,
      });
      const state = await tableState(ctx.test);
      expect(state.find((u) => u.id === newcomer.id)).toMatchObject({
        email: "moving@example.com",
        username: "patient",
      });
      expect(state.find((u) => u.id === holder.id)?.email).toBe("moved@example.com");

      // A third delivery of it is now a duplicate.
      const again = await send(ctx.handler, body, { svixId: "msg_retry" });
      expect(await again.json()).toEqual({ status: "duplicate" });
      expect(await eventRow(ctx.test, "msg_retry")).toMatchObject({ outcome: "processed", attempts: 2 });
    });

    it("does not count the conflicting user's email as held once that user is deleted", async () => {
      const holder = stackUser({ primary_email: "freed@example.com" });
      await send(ctx.handler, createdEvent(holder));
      const newcomer = stackUser({ primary_email: "freed@example.com" });
      await expectError(
        await send(ctx.handler, createdEvent(newcomer), { svixId: "msg_wait" }),
        "email_conflict",
      );
      await send(ctx.handler, deletedEvent(holder.id));
      const response = await send(ctx.handler, createdEvent(newcomer), { svixId: "msg_wait" });
      expect(response.status).toBe(200);
      expect((await tableState(ctx.test)).map((u) => u.id)).toEqual([newcomer.id]);
    });
  });

  describe("503 unavailable", () => {
    it("answers 503 with Retry-After, never 500, to every kind of delivery when the database is closed, and writes nothing", async () => {
      const closable = await openClosableDatabase(kind);
      try {
        const seeded = stackUser({ display_name: "Seeded", primary_email: "seeded@example.com" });
        const live = createWebhookHandler({
          store: createSyncStore(closable.db.prisma),
          secrets: [TEST_SECRET],
          sync: TEST_SYNC_OPTIONS,
        });
        expect((await live(signedRequest(createdEvent(seeded), { svixId: "msg_seed" }))).status).toBe(200);
        await closable.db.close();

        const closedHandler = createWebhookHandler({
          store: createSyncStore(closable.db.prisma),
          secrets: [TEST_SECRET],
          sync: TEST_SYNC_OPTIONS,
        });
        const deliveries: [string, Request][] = [
          ["a new user", signedRequest(createdEvent(stackUser({ display_name: "Newcomer" })))],
          ["an update", signedRequest(updatedEvent({ ...seeded, display_name: "Changed" }))],
          ["a delete", signedRequest(deletedEvent(seeded.id))],
          [
            "a redelivery of a processed svix-id",
            signedRequest(createdEvent(seeded), { svixId: "msg_seed" }),
          ],
          ["an unhandled type", signedRequest({ type: "team.created", data: { id: "team" } })],
          [
            "an anonymous user",
            signedRequest(createdEvent(stackUser({ is_anonymous: true, primary_email: null }))),
          ],
          ["a body that is not JSON", signedRequest("not json")],
          ["an invalid user", signedRequest({ type: "user.created", data: { id: 1 } })],
        ];
        for (const [label, request] of deliveries) {
          const response = await closedHandler(request);
          expect.soft({ label, status: response.status }).toEqual({ label, status: 503 });
          expect
            .soft({ label, retryAfter: response.headers.get("retry-after") })
            .toEqual({ label, retryAfter: "30" });
          expect.soft({ label, body: await response.json() }).toEqual({
            label,
            body: { error: { code: "unavailable", message: messageOf("unavailable") } },
          });
        }

        const reopened = await closable.reopen();
        const [users, profiles, tombstones, events] = await Promise.all([
          reopened.prisma.user.findMany({ include: { profile: true } }),
          reopened.prisma.profile.count(),
          reopened.prisma.userTombstone.count(),
          reopened.prisma.webhookEvent.findMany(),
        ]);
        expect(users.map((u) => ({ id: u.id, email: u.email, displayName: u.profile?.displayName }))).toEqual(
          [{ id: seeded.id, email: "seeded@example.com", displayName: "Seeded" }],
        );
        expect({ profiles, tombstones, events: events.map((e) => e.svixId) }).toEqual({
          profiles: 1,
          tombstones: 0,
          events: ["msg_seed"],
        });
        await reopened.close();
      } finally {
        await closable.dispose();
      }
    });

    onPostgres(
      "answers 503 with Retry-After when no pool connection comes free in time, and writes nothing",
      async () => {
        const closable = await openClosableDatabase(kind, { poolSize: 1 });
        try {
          const busy = createWebhookHandler({
            store: createSyncStore(closable.db.prisma),
            secrets: [TEST_SECRET],
            sync: TEST_SYNC_OPTIONS,
          });
          // Hold the pool's only connection in a long transaction.
          let release!: () => void;
          const held = closable.db.prisma.$transaction(
            async (tx) => {
              await tx.$executeRaw`SELECT 1`;
              await new Promise<void>((resolve) => (release = resolve));
            },
            { timeout: 60_000 },
          );
          await new Promise((resolve) => setTimeout(resolve, 200));
          const response = await busy(signedRequest(createdEvent(stackUser())));
          release();
          await held;
          expect(response.headers.get("retry-after")).toBe("30");
          await expectError(response, "unavailable");
          expect(await closable.db.prisma.user.count()).toBe(0);
          expect(await closable.db.prisma.webhookEvent.count()).toBe(0);
          await closable.db.close();
        } finally {
          await closable.dispose();
        }
      },
      30_000,
    );

    onPostgres("answers 503 with Retry-After when the PostgreSQL server cannot be reached", async () => {
      // Port 1 on the loopback: nothing listens there, so every connection is refused at once.
      const unreachable = await openDatabase(
        { kind: "postgres", url: "postgres://postgres@127.0.0.1:1/none" },
        { poolSize: 1 },
      );
      try {
        const far = createWebhookHandler({
          store: createSyncStore(unreachable.prisma),
          secrets: [TEST_SECRET],
          sync: TEST_SYNC_OPTIONS,
        });
        for (const request of [signedRequest(createdEvent(stackUser())), signedRequest("not json")]) {
          const response = await far(request);
          expect(response.headers.get("retry-after")).toBe("30");
          await expectError(response, "unavailable");
        }
      } finally {
        await unreachable.close();
      }
    });
  });
});

/** `event` as JSON, padded with an unknown field to exactly `size` bytes. */
function paddedBody(event: EventBody, size: number): string {
  const json = JSON.stringify(event);
  const shell = json.slice(0, -1) + ',"padding":""}';
  const body = shell.slice(0, -2) + "x".repeat(size - Buffer.byteLength(shell)) + '"}';
  expect(Buffer.byteLength(body)).toBe(size);
  return body;
}

/**
 * A second database of the kind, which a test may close and then open again to look at what it holds:
 * PGlite in a folder on disk, or another database on the suite's PostgreSQL server.
 */
async function openClosableDatabase(kind: DatabaseKind, options: { poolSize?: number } = {}) {
  let dispose: () => Promise<void>;
  let reopen: () => Promise<Database>;
  if (kind === "pglite") {
    const dir = mkdtempSync(join(tmpdir(), "stack-sync-closable-"));
    reopen = () => openDatabase({ kind: "pglite", dataDir: dir });
    dispose = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const created = await createTestDatabase();
    reopen = () => openDatabase({ kind: "postgres", url: created.url }, { poolSize: options.poolSize ?? 2 });
    dispose = () => created.drop();
  }
  const db = await reopen();
  await db.migrate();
  return { db, reopen, dispose };
}
