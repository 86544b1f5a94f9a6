import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSyncStore } from "../../src/db/sync-store";
import type { StackUser } from "../../src/stack";
import { createWebhookHandler, type WebhookHandler } from "../../src/webhooks/handler";
import { DATABASE_KINDS, openTestDatabase, type TestDatabase } from "../support/databases";
import {
  createdEvent,
  deletedEvent,
  signedRequest,
  stackUser,
  TEST_SECRET,
  updatedEvent,
} from "../support/fixtures";
import { TEST_SYNC_OPTIONS, counts, tableState } from "../support/harness";

describe.each(DATABASE_KINDS)("fetch-on-notify on %s", (kind) => {
  let test: TestDatabase;
  /** Stack's current users, as the API would answer. */
  let stack: Map<string, StackUser>;
  let calls: string[];
  let apiDown: boolean;
  let handler: WebhookHandler;

  beforeAll(async () => {
    test = await openTestDatabase(kind);
  });
  afterAll(() => test.close());
  beforeEach(async () => {
    await test.reset();
    stack = new Map();
    calls = [];
    apiDown = false;
    handler = createWebhookHandler({
      store: createSyncStore(test.db.prisma),
      secrets: [TEST_SECRET],
      sync: TEST_SYNC_OPTIONS,
      fetchUser: async (id) => {
        calls.push(id);
        if (apiDown) throw new Error("429 from Stack");
        return stack.get(id) ?? null;
      },
    });
  });

  it("applies the user's current state, not the payload's", async () => {
    const old = stackUser({ display_name: "Old Name", primary_email: "old@example.com" });
    const current = { ...old, display_name: "New Name", primary_email: "new@example.com" };
    stack.set(old.id, current);
    const res = await handler(signedRequest(createdEvent(old)));
    expect(await res.json()).toEqual({ status: "processed" });
    expect(await tableState(test)).toMatchObject([
      { id: old.id, email: "new@example.com", displayName: "New Name" },
    ]);
  });

  it("makes a stale event delivered after a newer one change nothing", async () => {
    const v1 = stackUser({ display_name: "First" });
    const v2 = { ...v1, display_name: "Second", server_metadata: { plan: "PRO" } };
    stack.set(v1.id, v2);
    await handler(signedRequest(updatedEvent(v2)));
    const before = await tableState(test);
    const stale = await handler(signedRequest(createdEvent(v1)));
    expect(stale.status).toBe(200);
    expect(await tableState(test)).toEqual(before);
    expect(before).toMatchObject([{ displayName: "Second", plan: "PRO" }]);
  });

  it("deletes the user, with a tombstone, when Stack answers 404", async () => {
    const user = stackUser();
    stack.set(user.id, user);
    await handler(signedRequest(createdEvent(user)));
    stack.delete(user.id);
    const res = await handler(signedRequest(updatedEvent({ ...user, display_name: "Too late" })));
    expect(await res.json()).toEqual({ status: "processed" });
    expect(await counts(test)).toMatchObject({ users: 0, profiles: 0, tombstones: 1 });
  });

  it("turns a user.deleted for a user Stack still has into its current state", async () => {
    const user = stackUser({ display_name: "Still Here" });
    stack.set(user.id, user);
    const res = await handler(signedRequest(deletedEvent(user.id)));
    expect(res.status).toBe(200);
    expect(await tableState(test)).toMatchObject([{ id: user.id, displayName: "Still Here" }]);
  });

  it("answers 503 with Retry-After and writes nothing when the API fails", async () => {
    apiDown = true;
    const res = await handler(signedRequest(createdEvent(stackUser())));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await res.json()).toMatchObject({ error: { code: "unavailable" } });
    expect(await counts(test)).toEqual({ users: 0, profiles: 0, tombstones: 0, events: 0 });
  });

  it("does not call the API for a redelivery", async () => {
    const user = stackUser();
    stack.set(user.id, user);
    await handler(signedRequest(createdEvent(user), { svixId: "msg_once" }));
    const again = await handler(signedRequest(createdEvent(user), { svixId: "msg_once" }));
    expect(await again.json()).toEqual({ status: "duplicate" });
    expect(calls).toEqual([user.id]);
  });
});
