/**
 * Simultaneous deliveries (SPEC §4 "Concurrency", "Username"): fifty sign-ups of one display name, and the
 * same message delivered many times at once, through the real handler, on both databases.
 */
import { describe, expect, it } from "vitest";
import { DATABASE_KINDS } from "../support/databases";
import {
  createdEvent,
  deletedEvent,
  signedRequest,
  stackUser,
  updatedEvent,
  type EventBody,
} from "../support/fixtures";
import { counts, eventRow, handlerFor, tableState, useEndpoint } from "../support/harness";

type Handler = ReturnType<typeof handlerFor>;

async function deliver(handler: Handler, body: EventBody, svixId?: string) {
  const response = await handler(signedRequest(body, svixId ? { svixId } : {}));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe.each(DATABASE_KINDS)("concurrent deliveries on %s", (kind) => {
  const ctx = useEndpoint(kind);

  it('creates fifty simultaneous sign-ups of "John Smith" with fifty different usernames', async () => {
    const users = Array.from({ length: 50 }, (_, i) =>
      stackUser({ display_name: "John Smith", primary_email: `john.smith.${i}@example.com` }),
    );
    const results = await Promise.all(users.map((u) => deliver(ctx.handler, createdEvent(u))));
    expect(results).toEqual(users.map(() => ({ status: 200, body: { status: "processed" } })));

    expect(await counts(ctx.test)).toEqual({ users: 50, profiles: 50, tombstones: 0, events: 50 });
    const state = await tableState(ctx.test);
    expect(state.map((s) => s.id).sort()).toEqual(users.map((u) => u.id).sort());
    const usernames = state.map((s) => s.username ?? "");
    expect(new Set(usernames).size).toBe(50);
    for (const name of usernames) expect(name).toMatch(/^john_smith\d*$/);
    expect(usernames).toContain("john_smith");
    // Each user kept its own email.
    for (const user of users) expect(state.find((s) => s.id === user.id)?.email).toBe(user.primary_email);
  });

  it("processes twenty simultaneous deliveries of one svix-id once and answers duplicate to the rest", async () => {
    const user = stackUser({ display_name: "Only Once" });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => deliver(ctx.handler, createdEvent(user), "msg_same")),
    );
    const statuses = results.map((r) => `${r.status} ${String(r.body.status)}`).sort();
    expect(statuses).toEqual(["200 processed", ...Array.from({ length: 19 }, () => "200 duplicate")].sort());
    expect(await counts(ctx.test)).toEqual({ users: 1, profiles: 1, tombstones: 0, events: 1 });
    expect(await eventRow(ctx.test, "msg_same")).toMatchObject({ outcome: "processed", attempts: 1 });
    expect((await tableState(ctx.test))[0]).toMatchObject({ id: user.id, username: "only_once" });
  });

  it("processes twenty simultaneous deliveries of one svix-id of a user.deleted once", async () => {
    const user = stackUser();
    await deliver(ctx.handler, createdEvent(user));
    const results = await Promise.all(
      Array.from({ length: 20 }, () => deliver(ctx.handler, deletedEvent(user.id), "msg_del")),
    );
    expect(results.filter((r) => r.body.status === "processed")).toHaveLength(1);
    expect(results.filter((r) => r.body.status === "duplicate")).toHaveLength(19);
    expect(await counts(ctx.test)).toEqual({ users: 0, profiles: 0, tombstones: 1, events: 2 });
  });

  it("records twenty simultaneous deliveries of one svix-id of a team.created once, as a serial order would", async () => {
    // The race is narrow: five rounds, each of its own message, make it show reliably.
    const rounds = 5;
    for (let round = 0; round < rounds; round++) {
      const team = { type: "team.created", data: { id: `team-${round}`, display_name: "Team" } };
      const svixId = `msg_team_same_${round}`;
      const results = await Promise.all(Array.from({ length: 20 }, () => deliver(ctx.handler, team, svixId)));
      expect(results.every((r) => r.status === 200)).toBe(true);
      const answers = results.map((r) => String(r.body.status));
      expect({ round, ignored: answers.filter((a) => a === "ignored").length }).toEqual({
        round,
        ignored: 1,
      });
      expect({ round, duplicate: answers.filter((a) => a === "duplicate").length }).toEqual({
        round,
        duplicate: 19,
      });
      expect(await eventRow(ctx.test, svixId)).toMatchObject({ outcome: "ignored", attempts: 1 });
    }
    expect(await counts(ctx.test)).toEqual({ users: 0, profiles: 0, tombstones: 0, events: rounds });
  });

  it("makes one user of the same user.created arriving twenty times at once under twenty svix-ids", async () => {
    const user = stackUser({ display_name: "Rate Limited" });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => deliver(ctx.handler, createdEvent(user), `msg_rl_${i}`)),
    );
    expect(results).toEqual(results.map(() => ({ status: 200, body: { status: "processed" } })));
    expect(await counts(ctx.test)).toEqual({ users: 1, profiles: 1, tombstones: 0, events: 20 });
    expect((await tableState(ctx.test))[0]).toMatchObject({ id: user.id, username: "rate_limited" });
  });

  it("lets exactly one of two simultaneous sign-ups with the same email in, and answers 409 to the other", async () => {
    const a = stackUser({ primary_email: "race@example.com" });
    const b = stackUser({ primary_email: "race@example.com" });
    const results = await Promise.all([
      deliver(ctx.handler, createdEvent(a), "msg_a"),
      deliver(ctx.handler, createdEvent(b), "msg_b"),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const winner = results[0]?.status === 200 ? a : b;
    const loserSvixId = results[0]?.status === 200 ? "msg_b" : "msg_a";
    expect((await tableState(ctx.test)).map((s) => s.id)).toEqual([winner.id]);
    expect(await eventRow(ctx.test, loserSvixId)).toMatchObject({
      outcome: "failed",
      errorCode: "email_conflict",
    });
  });

  it("gives distinct usernames when clashing bases race: John Smith against John Smith1", async () => {
    const plain = Array.from({ length: 15 }, () => stackUser({ display_name: "John Smith" }));
    const numbered = Array.from({ length: 5 }, () => stackUser({ display_name: "John Smith1" }));
    const results = await Promise.all(
      [...plain, ...numbered].map((u) => deliver(ctx.handler, createdEvent(u))),
    );
    expect(results.every((r) => r.status === 200 && r.body.status === "processed")).toBe(true);
    const usernames = (await tableState(ctx.test)).map((s) => s.username);
    expect(usernames).toHaveLength(20);
    expect(new Set(usernames).size).toBe(20);
    expect(await counts(ctx.test)).toMatchObject({ users: 20, profiles: 20 });
  });

  it("ends a burst of creates, updates and a delete of one user with the delete, never with a 500", async () => {
    const user = stackUser({ display_name: "Busy User" });
    await deliver(ctx.handler, createdEvent(user));
    const updates = Array.from({ length: 10 }, (_, i) =>
      updatedEvent({ ...user, display_name: `Busy ${i}` }),
    );
    const burst = [...updates, createdEvent(user), deletedEvent(user.id), ...updates];
    const results = await Promise.all(burst.map((b) => deliver(ctx.handler, b)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    // Whatever order they ran in, the delete wins and writes a tombstone.
    expect(await counts(ctx.test)).toMatchObject({ users: 0, profiles: 0, tombstones: 1 });
  });
});
