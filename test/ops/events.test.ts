import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSyncStore } from "../../src/db/sync-store";
import { describeReplay, replayEvent, type ReplayDeps } from "../../src/ops/events";
import { readEvents } from "../../src/ops/queries";
import { DATABASE_KINDS, openTestDatabase, type TestDatabase } from "../support/databases";
import { createdEvent, deletedEvent, signedRequest, stackUser } from "../support/fixtures";
import { eventRow, handlerFor, TEST_SYNC_OPTIONS } from "../support/harness";

describe.each(DATABASE_KINDS)("failed events on %s", (kind) => {
  let test: TestDatabase;
  let deps: ReplayDeps;
  beforeAll(async () => {
    test = await openTestDatabase(kind);
    deps = { prisma: test.db.prisma, store: createSyncStore(test.db.prisma), sync: TEST_SYNC_OPTIONS };
  });
  afterAll(() => test.close());
  beforeEach(() => test.reset());

  /** A user holding an email, and a second user's create that fails on it (409), kept for replay. */
  async function emailConflict() {
    const handler = handlerFor(test);
    const holder = stackUser({ primary_email: "shared@example.com" });
    const newcomer = stackUser({ primary_email: "shared@example.com", display_name: "New Comer" });
    await handler(signedRequest(createdEvent(holder), { svixId: "msg_holder" }));
    const res = await handler(signedRequest(createdEvent(newcomer), { svixId: "msg_conflict" }));
    expect(res.status).toBe(409);
    return { handler, holder, newcomer };
  }

  it("keeps a failed event's body, and lists it among the failed ones", async () => {
    await emailConflict();
    const failed = await readEvents(test.db.prisma, { failed: true, limit: 10 });
    expect(failed).toEqual([
      expect.objectContaining({
        svixId: "msg_conflict",
        type: "user.created",
        outcome: "failed",
        errorCode: "email_conflict",
        attempts: 1,
        hasPayload: true,
      }),
    ]);
    const all = await readEvents(test.db.prisma, { limit: 10 });
    expect(all.map((e) => [e.svixId, e.outcome, e.hasPayload])).toEqual([
      ["msg_conflict", "failed", true],
      ["msg_holder", "processed", false],
    ]);
    expect(await readEvents(test.db.prisma, { limit: 1 })).toHaveLength(1);
  });

  it("replays a 409 email_conflict event once the conflicting user is deleted: processed, payload cleared", async () => {
    const { handler, holder, newcomer } = await emailConflict();
    await handler(signedRequest(deletedEvent(holder.id)));

    const outcome = await replayEvent("msg_conflict", deps);
    expect(outcome).toEqual({
      kind: "applied",
      svixId: "msg_conflict",
      result: { status: "processed", change: "created" },
    });
    expect(describeReplay(outcome, 7)).toBe("msg_conflict: processed (created).");
    expect(await eventRow(test, "msg_conflict")).toMatchObject({
      outcome: "processed",
      errorCode: null,
      payload: null,
      attempts: 2,
    });
    const user = await test.db.prisma.user.findUnique({
      where: { id: newcomer.id },
      include: { profile: true },
    });
    expect(user).toMatchObject({ email: "shared@example.com", profile: { displayName: "New Comer" } });
  });

  it("applies Stack's current state on replay with fetch-on-notify, as a live delivery would", async () => {
    const { newcomer } = await emailConflict();
    const current = { ...newcomer, primary_email: "newcomer@example.com" };
    const fetchUser = async (id: string) => (id === newcomer.id ? current : null);
    const outcome = await replayEvent("msg_conflict", { ...deps, fetchUser });
    expect(outcome).toMatchObject({ kind: "applied", result: { status: "processed", change: "created" } });
    const user = await test.db.prisma.user.findUnique({ where: { id: newcomer.id } });
    expect(user?.email).toBe("newcomer@example.com");
  });

  it("counts one more attempt and keeps the body when the cause is not fixed yet", async () => {
    await emailConflict();
    const outcome = await replayEvent("msg_conflict", deps);
    expect(outcome).toEqual({ kind: "failed", svixId: "msg_conflict", code: "email_conflict", attempts: 2 });
    expect(describeReplay(outcome, 7)).toBe(
      "msg_conflict: still failing (attempt 2): email_conflict: The email is held by another user.",
    );
    expect(await eventRow(test, "msg_conflict")).toMatchObject({ outcome: "failed", attempts: 2 });
    expect((await eventRow(test, "msg_conflict"))?.payload).toContain("shared@example.com");
  });

  it("refuses an unknown id, an event that is not failed, and a failed event without a body", async () => {
    await emailConflict();
    expect(await replayEvent("msg_nope", deps)).toEqual({
      kind: "refused",
      reason: "unknown",
      svixId: "msg_nope",
    });
    const processed = await replayEvent("msg_holder", deps);
    expect(processed).toEqual({
      kind: "refused",
      reason: "not_failed",
      svixId: "msg_holder",
      outcome: "processed",
    });
    await test.db.prisma.webhookEvent.update({ where: { svixId: "msg_conflict" }, data: { payload: null } });
    const bodiless = await replayEvent("msg_conflict", deps);
    expect(bodiless).toEqual({ kind: "refused", reason: "no_payload", svixId: "msg_conflict" });

    expect(describeReplay({ kind: "refused", reason: "unknown", svixId: "msg_nope" }, 7)).toBe(
      "msg_nope: not in the event log (a wrong id, or pruned after 7 days); nothing replayed.",
    );
    expect(describeReplay(processed, 7)).toBe(
      "msg_holder: the event is processed, not failed; only failed events are replayed.",
    );
    expect(describeReplay(bodiless, 7)).toMatch(/^msg_conflict: the failed event has no kept body/);
    expect(await eventRow(test, "msg_holder")).toMatchObject({ outcome: "processed", attempts: 1 });
  });
});
