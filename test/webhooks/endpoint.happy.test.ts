/**
 * The endpoint on its good paths (SPEC §3 rows "processed", "duplicate", "ignored"; SPEC §4 rules other
 * than fetch-on-notify), through the real handler, on both databases.
 */
import { describe, expect, it } from "vitest";
import type { StackUser } from "../../src/stack";
import { DATABASE_KINDS, type TestDatabase } from "../support/databases";
import {
  createdEvent,
  deletedEvent,
  signedRequest,
  stackUser,
  updatedEvent,
  type EventBody,
  type SignOptions,
} from "../support/fixtures";
import { counts, eventRow, handlerFor, tableState, useEndpoint } from "../support/harness";

type Handler = ReturnType<typeof handlerFor>;

async function send(handler: Handler, body: EventBody | string, options: SignOptions = {}) {
  const response = await handler(signedRequest(body, options));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const PROCESSED = { status: 200, body: { status: "processed" } };
const DUPLICATE = { status: 200, body: { status: "duplicate" } };

/** An "ignored" answer: status 200 and `status: "ignored"` (a `reason` may come with it). */
function expectIgnored(result: { status: number; body: Record<string, unknown> }) {
  expect(result.status).toBe(200);
  expect(result.body.status).toBe("ignored");
  expect(Object.keys(result.body).every((k) => k === "status" || k === "reason")).toBe(true);
}

/** The full rows of one user, timestamps and password included. */
async function rowsOf(test: TestDatabase, id: string) {
  const user = await test.db.prisma.user.findUnique({ where: { id } });
  const profile = await test.db.prisma.profile.findUnique({ where: { userId: id } });
  return { user, profile };
}

async function isTombstoned(test: TestDatabase, id: string) {
  return (await test.db.prisma.userTombstone.findUnique({ where: { userId: id } })) !== null;
}

const BCRYPT_TEST_ROUNDS = /^\$2b\$04\$[./A-Za-z0-9]{53}$/;

describe.each(DATABASE_KINDS)("endpoint on %s: good deliveries", (kind) => {
  const ctx = useEndpoint(kind);

  describe("200 processed", () => {
    it("writes the user, the profile and the event log row of a user.created, exactly", async () => {
      const user = stackUser({
        display_name: "Ada Lovelace",
        primary_email: "ada@example.com",
        profile_image_url: "https://example.com/ada.png",
        server_metadata: { plan: "PRO" },
      });
      const svixId = "msg_created_exact";
      expect(await send(ctx.handler, createdEvent(user), { svixId })).toEqual(PROCESSED);

      const { user: row, profile } = await rowsOf(ctx.test, user.id);
      expect(row).toMatchObject({ id: user.id, email: "ada@example.com" });
      expect(row?.password).toMatch(BCRYPT_TEST_ROUNDS);
      expect(row?.createdAt).toBeInstanceOf(Date);
      expect(profile).toMatchObject({
        userId: user.id,
        username: "ada_lovelace",
        displayName: "Ada Lovelace",
        avatar: "https://example.com/ada.png",
        plan: "PRO",
      });
      expect(profile?.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await eventRow(ctx.test, svixId)).toMatchObject({
        svixId,
        type: "user.created",
        userId: user.id,
        outcome: "processed",
        errorCode: null,
        attempts: 1,
        payload: null,
      });
      expect(await counts(ctx.test)).toEqual({ users: 1, profiles: 1, tombstones: 0, events: 1 });
    });

    it("applies a user.updated to the email, display name, avatar and plan", async () => {
      const user = stackUser({ display_name: "Old Name", primary_email: "old@example.com" });
      await send(ctx.handler, createdEvent(user));
      const updated = {
        ...user,
        display_name: "New Name",
        primary_email: "new@example.com",
        profile_image_url: "https://example.com/new.png",
        server_metadata: { plan: "ENTERPRISE" },
      };
      expect(await send(ctx.handler, updatedEvent(updated), { svixId: "msg_update" })).toEqual(PROCESSED);
      expect(await tableState(ctx.test)).toEqual([
        {
          id: user.id,
          email: "new@example.com",
          username: "old_name",
          displayName: "New Name",
          avatar: "https://example.com/new.png",
          plan: "ENTERPRISE",
        },
      ]);
      expect(await eventRow(ctx.test, "msg_update")).toMatchObject({
        type: "user.updated",
        userId: user.id,
        outcome: "processed",
      });
    });

    it("parses the real user.created body of STACK-AUTH.md byte for byte", async () => {
      const raw =
        '{"type":"user.created","data":{"auth_with_email":false,"client_metadata":null,"client_read_only_metadata":null,' +
        '"country_code":null,"display_name":null,"has_password":false,"id":"6f1c2a8e-3d4b-4c5a-9e7f-0a1b2c3d4e5f",' +
        '"is_anonymous":false,"is_restricted":false,"last_active_at_millis":1700000000000,"oauth_providers":[],' +
        '"otp_auth_enabled":false,"passkey_auth_enabled":false,"primary_email":"test@example.com",' +
        '"primary_email_auth_enabled":false,"primary_email_verified":false,"profile_image_url":null,' +
        '"requires_totp_mfa":false,"restricted_by_admin":false,"restricted_by_admin_private_details":null,' +
        '"restricted_by_admin_reason":null,"restricted_reason":null,"risk_scores":{"sign_up":{"bot":0,"free_trial_abuse":0}},' +
        '"selected_team":null,"selected_team_id":null,"server_metadata":null,"signed_up_at_millis":1700000000000}}';
      expect(await send(ctx.handler, raw)).toEqual(PROCESSED);
      expect(await tableState(ctx.test)).toEqual([
        {
          id: "6f1c2a8e-3d4b-4c5a-9e7f-0a1b2c3d4e5f",
          email: "test@example.com",
          // "test" is a reserved word.
          username: "test1",
          displayName: null,
          avatar: null,
          plan: "FREE",
        },
      ]);
    });

    it("accepts unknown extra fields in the user object", async () => {
      const user = {
        ...stackUser({ display_name: "Future Field" }),
        some_new_field: { nested: [1, 2] },
      } as StackUser;
      expect(await send(ctx.handler, createdEvent(user))).toEqual(PROCESSED);
      expect((await tableState(ctx.test))[0]?.displayName).toBe("Future Field");
    });

    it("stores a 1,000,000-character data URL avatar whole", async () => {
      const prefix = "data:image/png;base64,";
      const avatar = prefix + "iVBORw0KGgo".repeat(90_000).padEnd(1_000_000 - prefix.length, "A");
      expect(avatar).toHaveLength(1_000_000);
      const user = stackUser({ profile_image_url: avatar });
      expect(await send(ctx.handler, createdEvent(user))).toEqual(PROCESSED);
      const stored = await ctx.test.db.prisma.profile.findUnique({
        where: { userId: user.id },
        select: { avatar: true },
      });
      expect(stored?.avatar).toBe(avatar);
    });
  });

  describe("idempotency", () => {
    it("answers duplicate to a processed svix-id delivered again and changes nothing", async () => {
      const user = stackUser({ display_name: "Dup Licate" });
      await send(ctx.handler, createdEvent(user), { svixId: "msg_dup" });
      const before = await rowsOf(ctx.test, user.id);
      const eventBefore = await eventRow(ctx.test, "msg_dup");
      expect(await send(ctx.handler, createdEvent(user), { svixId: "msg_dup" })).toEqual(DUPLICATE);
      expect(await rowsOf(ctx.test, user.id)).toEqual(before);
      expect(await eventRow(ctx.test, "msg_dup")).toEqual(eventBefore);
      expect(await counts(ctx.test)).toEqual({ users: 1, profiles: 1, tombstones: 0, events: 1 });
    });

    it("answers duplicate to a processed svix-id even when the body differs, and applies nothing of it", async () => {
      const user = stackUser({ display_name: "First Body" });
      await send(ctx.handler, createdEvent(user), { svixId: "msg_same_id" });
      const other = { ...user, display_name: "Second Body" };
      expect(await send(ctx.handler, updatedEvent(other), { svixId: "msg_same_id" })).toEqual(DUPLICATE);
      expect((await tableState(ctx.test))[0]?.displayName).toBe("First Body");
    });

    it("answers duplicate to an ignored svix-id delivered again", async () => {
      const team = { type: "team.created", data: { id: "team-1", display_name: "Team" } };
      expectIgnored(await send(ctx.handler, team, { svixId: "msg_team" }));
      expect(await send(ctx.handler, team, { svixId: "msg_team" })).toEqual(DUPLICATE);
      expect(await eventRow(ctx.test, "msg_team")).toMatchObject({ outcome: "ignored", attempts: 1 });
      expect(await counts(ctx.test)).toEqual({ users: 0, profiles: 0, tombstones: 0, events: 1 });
    });

    it("answers duplicate to a processed user.deleted delivered again", async () => {
      const user = stackUser();
      await send(ctx.handler, createdEvent(user));
      expect(await send(ctx.handler, deletedEvent(user.id), { svixId: "msg_del" })).toEqual(PROCESSED);
      expect(await send(ctx.handler, deletedEvent(user.id), { svixId: "msg_del" })).toEqual(DUPLICATE);
      expect(await counts(ctx.test)).toEqual({ users: 0, profiles: 0, tombstones: 1, events: 2 });
    });

    it("changes nothing when the same user.created arrives under two svix-ids", async () => {
      const user = stackUser({ display_name: "Twice Created", server_metadata: { plan: "PRO" } });
      expect(await send(ctx.handler, createdEvent(user), { svixId: "msg_first" })).toEqual(PROCESSED);
      const before = await rowsOf(ctx.test, user.id);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await send(ctx.handler, createdEvent(user), { svixId: "msg_second" })).toEqual(PROCESSED);
      const after = await rowsOf(ctx.test, user.id);
      expect(after).toEqual(before);
      expect(after.user?.updatedAt.getTime()).toBe(before.user?.updatedAt.getTime());
      expect(after.profile?.updatedAt.getTime()).toBe(before.profile?.updatedAt.getTime());
      expect(await eventRow(ctx.test, "msg_second")).toMatchObject({ outcome: "processed", attempts: 1 });
      expect(await counts(ctx.test)).toEqual({ users: 1, profiles: 1, tombstones: 0, events: 2 });
    });

    it("changes nothing when an update repeats the state already stored", async () => {
      const user = stackUser({ display_name: "Same State" });
      await send(ctx.handler, createdEvent(user));
      const before = await rowsOf(ctx.test, user.id);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await send(ctx.handler, updatedEvent(user))).toEqual(PROCESSED);
      expect(await rowsOf(ctx.test, user.id)).toEqual(before);
    });
  });

  describe("upsert and deletes", () => {
    it("creates the user from a user.updated that arrives before its user.created", async () => {
      const user = stackUser({ display_name: "Early Update", primary_email: "early@example.com" });
      expect(await send(ctx.handler, updatedEvent(user))).toEqual(PROCESSED);
      const { user: row } = await rowsOf(ctx.test, user.id);
      expect(row?.password).toMatch(BCRYPT_TEST_ROUNDS);
      expect(await tableState(ctx.test)).toEqual([
        {
          id: user.id,
          email: "early@example.com",
          username: "early_update",
          displayName: "Early Update",
          avatar: null,
          plan: "FREE",
        },
      ]);
    });

    it("deletes the user, its profile by cascade, and writes a tombstone", async () => {
      const user = stackUser({ display_name: "To Delete" });
      const other = stackUser({ display_name: "Stays Here" });
      await send(ctx.handler, createdEvent(user));
      await send(ctx.handler, createdEvent(other));
      const otherBefore = await rowsOf(ctx.test, other.id);
      expect(await send(ctx.handler, deletedEvent(user.id), { svixId: "msg_delete" })).toEqual(PROCESSED);
      expect(await rowsOf(ctx.test, user.id)).toEqual({ user: null, profile: null });
      expect(await isTombstoned(ctx.test, user.id)).toBe(true);
      expect(await rowsOf(ctx.test, other.id)).toEqual(otherBefore);
      expect(await eventRow(ctx.test, "msg_delete")).toMatchObject({
        type: "user.deleted",
        userId: user.id,
        outcome: "processed",
      });
      expect(await counts(ctx.test)).toEqual({ users: 1, profiles: 1, tombstones: 1, events: 3 });
    });

    it("succeeds in deleting a user it never had, and still writes the tombstone", async () => {
      const id = "a5b0c4d2-0000-4000-8000-000000000001";
      expect(await send(ctx.handler, deletedEvent(id))).toEqual(PROCESSED);
      expect(await isTombstoned(ctx.test, id)).toBe(true);
      expect(await counts(ctx.test)).toEqual({ users: 0, profiles: 0, tombstones: 1, events: 1 });
    });

    it("accepts a user.deleted that carries the user's teams", async () => {
      const user = stackUser();
      await send(ctx.handler, createdEvent(user));
      const body = { type: "user.deleted", data: { id: user.id, teams: [{ id: "t1" }, { id: "t2" }] } };
      expect(await send(ctx.handler, body)).toEqual(PROCESSED);
      expect(await counts(ctx.test)).toMatchObject({ users: 0, profiles: 0, tombstones: 1 });
    });
  });

  describe("200 ignored", () => {
    it.each([
      ["team.created", { id: "team-1", display_name: "A team" }],
      ["team_membership.deleted", { team_id: "team-1", user_id: "u-1" }],
      ["project_permission.created", { id: "perm", user_id: "u-1" }],
      ["stack.test", { message: "Test event", endpointUrl: "https://example.com/hook" }],
    ])("ignores a %s and records it in the event log", async (type, data) => {
      const result = await send(ctx.handler, { type, data }, { svixId: `msg_${type}` });
      expectIgnored(result);
      expect(await eventRow(ctx.test, `msg_${type}`)).toMatchObject({
        type,
        outcome: "ignored",
        errorCode: null,
        attempts: 1,
      });
      expect(await counts(ctx.test)).toEqual({ users: 0, profiles: 0, tombstones: 0, events: 1 });
    });

    it("ignores an anonymous user's user.created while anonymous users are not synced", async () => {
      const user = stackUser({ is_anonymous: true, primary_email: null, display_name: null });
      expectIgnored(await send(ctx.handler, createdEvent(user), { svixId: "msg_anon" }));
      expect(await eventRow(ctx.test, "msg_anon")).toMatchObject({
        type: "user.created",
        userId: user.id,
        outcome: "ignored",
      });
      expect(await counts(ctx.test)).toEqual({ users: 0, profiles: 0, tombstones: 0, events: 1 });
    });

    it("ignores an anonymous user's user.updated while anonymous users are not synced", async () => {
      const user = stackUser({ is_anonymous: true, primary_email: null, display_name: "Guest" });
      expectIgnored(await send(ctx.handler, updatedEvent(user), { svixId: "msg_anon_upd" }));
      expect(await eventRow(ctx.test, "msg_anon_upd")).toMatchObject({ outcome: "ignored" });
      expect(await counts(ctx.test)).toEqual({ users: 0, profiles: 0, tombstones: 0, events: 1 });
    });

    it("ignores a user.created for a deleted id, so a late event never brings the user back", async () => {
      const user = stackUser({ display_name: "Gone For Good" });
      await send(ctx.handler, createdEvent(user));
      await send(ctx.handler, deletedEvent(user.id));
      expectIgnored(await send(ctx.handler, createdEvent(user), { svixId: "msg_late_create" }));
      expect(await eventRow(ctx.test, "msg_late_create")).toMatchObject({
        outcome: "ignored",
        userId: user.id,
      });
      expect(await rowsOf(ctx.test, user.id)).toEqual({ user: null, profile: null });
      expect(await counts(ctx.test)).toEqual({ users: 0, profiles: 0, tombstones: 1, events: 3 });
    });

    it("ignores a user.updated for a deleted id, even when the delete came first", async () => {
      const user = stackUser({ display_name: "Deleted First" });
      await send(ctx.handler, deletedEvent(user.id));
      expectIgnored(await send(ctx.handler, updatedEvent(user), { svixId: "msg_late_update" }));
      expectIgnored(await send(ctx.handler, createdEvent(user)));
      expect(await eventRow(ctx.test, "msg_late_update")).toMatchObject({ outcome: "ignored" });
      expect(await counts(ctx.test)).toEqual({ users: 0, profiles: 0, tombstones: 1, events: 3 });
    });
  });

  describe("email", () => {
    it("trims and lower-cases the email", async () => {
      const user = stackUser({ primary_email: "  Mixed.Case@Example.COM \t" });
      expect(await send(ctx.handler, createdEvent(user))).toEqual(PROCESSED);
      expect((await tableState(ctx.test))[0]?.email).toBe("mixed.case@example.com");
    });

    it("stores the placeholder <id>@stack-user.invalid for a user without email, and replaces it when one arrives", async () => {
      const user = stackUser({ primary_email: null, display_name: "No Mail" });
      expect(await send(ctx.handler, createdEvent(user))).toEqual(PROCESSED);
      expect((await tableState(ctx.test))[0]?.email).toBe(`${user.id}@stack-user.invalid`);
      expect(await send(ctx.handler, updatedEvent({ ...user, primary_email: "Found@Example.com" }))).toEqual(
        PROCESSED,
      );
      expect((await tableState(ctx.test))[0]).toMatchObject({
        email: "found@example.com",
        username: "no_mail",
      });
    });

    it("goes back to the placeholder when the email is removed", async () => {
      const user = stackUser({ primary_email: "had@example.com" });
      await send(ctx.handler, createdEvent(user));
      expect(await send(ctx.handler, updatedEvent({ ...user, primary_email: null }))).toEqual(PROCESSED);
      expect((await tableState(ctx.test))[0]?.email).toBe(`${user.id}@stack-user.invalid`);
    });

    it("lets two users without email live side by side", async () => {
      const a = stackUser({ primary_email: null });
      const b = stackUser({ primary_email: null });
      expect(await send(ctx.handler, createdEvent(a))).toEqual(PROCESSED);
      expect(await send(ctx.handler, createdEvent(b))).toEqual(PROCESSED);
      expect((await tableState(ctx.test)).map((u) => u.email).sort()).toEqual(
        [`${a.id}@stack-user.invalid`, `${b.id}@stack-user.invalid`].sort(),
      );
    });

    it("lets a user take an email that another user gave up earlier", async () => {
      const a = stackUser({ primary_email: "shared@example.com" });
      const b = stackUser({ primary_email: "b@example.com" });
      await send(ctx.handler, createdEvent(a));
      await send(ctx.handler, createdEvent(b));
      expect(await send(ctx.handler, updatedEvent({ ...a, primary_email: "a-new@example.com" }))).toEqual(
        PROCESSED,
      );
      expect(await send(ctx.handler, updatedEvent({ ...b, primary_email: "shared@example.com" }))).toEqual(
        PROCESSED,
      );
      const state = await tableState(ctx.test);
      expect(state.find((u) => u.id === a.id)?.email).toBe("a-new@example.com");
      expect(state.find((u) => u.id === b.id)?.email).toBe("shared@example.com");
    });

    it("lets a deleted user's email be used by a new user", async () => {
      const a = stackUser({ primary_email: "reuse@example.com" });
      await send(ctx.handler, createdEvent(a));
      await send(ctx.handler, deletedEvent(a.id));
      const b = stackUser({ primary_email: "reuse@example.com" });
      expect(await send(ctx.handler, createdEvent(b))).toEqual(PROCESSED);
      expect((await tableState(ctx.test)).map((u) => u.id)).toEqual([b.id]);
    });
  });

  describe("username", () => {
    it("comes from the display name, folded to ASCII", async () => {
      const user = stackUser({ display_name: "Zoë Ærøskøbing-Straße" });
      await send(ctx.handler, createdEvent(user));
      expect((await tableState(ctx.test))[0]?.username).toBe("zoe_aeroskobing_strasse");
    });

    it("comes from the email's local part when the display name is missing or too short", async () => {
      const a = stackUser({ display_name: null, primary_email: "Mary.Jane@Example.com" });
      const b = stackUser({ display_name: "Jo", primary_email: "jo.march@example.com" });
      await send(ctx.handler, createdEvent(a));
      await send(ctx.handler, createdEvent(b));
      const state = await tableState(ctx.test);
      expect(state.find((u) => u.id === a.id)?.username).toBe("mary_jane");
      expect(state.find((u) => u.id === b.id)?.username).toBe("jo_march");
    });

    it("is user with a number when neither the display name nor the email gives three usable characters", async () => {
      const a = stackUser({ display_name: "😀", primary_email: "x@example.com" });
      const b = stackUser({ display_name: null, primary_email: "!!@example.com" });
      await send(ctx.handler, createdEvent(a));
      await send(ctx.handler, createdEvent(b));
      const names = (await tableState(ctx.test)).map((u) => u.username).sort();
      expect(names).toEqual(["user1", "user2"]);
    });

    it("never uses a reserved word bare", async () => {
      const a = stackUser({ display_name: "Admin" });
      const b = stackUser({ display_name: null, primary_email: "support@example.com" });
      await send(ctx.handler, createdEvent(a));
      await send(ctx.handler, createdEvent(b));
      const state = await tableState(ctx.test);
      expect(state.find((u) => u.id === a.id)?.username).toBe("admin1");
      expect(state.find((u) => u.id === b.id)?.username).toBe("support1");
    });

    it("adds a numeric suffix on a clash", async () => {
      const users = [0, 1, 2].map(() => stackUser({ display_name: "John Smith" }));
      for (const user of users) expect(await send(ctx.handler, createdEvent(user))).toEqual(PROCESSED);
      const state = await tableState(ctx.test);
      expect(users.map((u) => state.find((s) => s.id === u.id)?.username)).toEqual([
        "john_smith",
        "john_smith1",
        "john_smith2",
      ]);
    });

    it("keeps the suffixed name of a long display name within 24 characters", async () => {
      const users = [0, 1].map(() => stackUser({ display_name: "Bartholomew Maximilian Fitzgerald" }));
      for (const user of users) await send(ctx.handler, createdEvent(user));
      const names = users.map((u) => u.id).map(async (id) => (await rowsOf(ctx.test, id)).profile?.username);
      expect(await Promise.all(names)).toEqual(["bartholomew_maximilian_f", "bartholomew_maximilian1"]);
    });

    it("never changes when the display name or the email changes", async () => {
      const user = stackUser({ display_name: "Original Name", primary_email: "orig@example.com" });
      await send(ctx.handler, createdEvent(user));
      await send(
        ctx.handler,
        updatedEvent({ ...user, display_name: "Completely Different", primary_email: "other@example.com" }),
      );
      await send(ctx.handler, updatedEvent({ ...user, display_name: null, primary_email: null }));
      expect((await tableState(ctx.test))[0]?.username).toBe("original_name");
    });

    it("stores a hostile display name verbatim and makes a safe username of it", async () => {
      const hostile = `Robert'); DROP TABLE users;-- \u202e ../../etc/passwd`;
      const user = stackUser({ display_name: hostile });
      expect(await send(ctx.handler, createdEvent(user))).toEqual(PROCESSED);
      expect((await tableState(ctx.test))[0]).toMatchObject({
        displayName: hostile,
        username: "robert_drop_table_users",
      });
    });
  });

  describe("password", () => {
    it("is a bcrypt hash at the configured rounds, different for every user", async () => {
      const a = stackUser();
      const b = stackUser();
      await send(ctx.handler, createdEvent(a));
      await send(ctx.handler, createdEvent(b));
      const pa = (await rowsOf(ctx.test, a.id)).user?.password;
      const pb = (await rowsOf(ctx.test, b.id)).user?.password;
      expect(pa).toMatch(BCRYPT_TEST_ROUNDS);
      expect(pb).toMatch(BCRYPT_TEST_ROUNDS);
      expect(pa).not.toBe(pb);
    });

    it("never changes on updates or repeated creates", async () => {
      const user = stackUser({ display_name: "Keeps Password" });
      await send(ctx.handler, createdEvent(user));
      const password = (await rowsOf(ctx.test, user.id)).user?.password;
      await send(
        ctx.handler,
        updatedEvent({ ...user, display_name: "Changed", primary_email: "changed@example.com" }),
      );
      await send(ctx.handler, createdEvent(user));
      expect((await rowsOf(ctx.test, user.id)).user?.password).toBe(password);
    });
  });

  describe("plan", () => {
    it("is FREE when server_metadata has no valid plan at creation", async () => {
      const a = stackUser({ server_metadata: null });
      const b = stackUser({ server_metadata: { plan: "gold" } });
      const c = stackUser({ server_metadata: { plan: "pro" } });
      for (const u of [a, b, c]) expect(await send(ctx.handler, createdEvent(u))).toEqual(PROCESSED);
      expect((await tableState(ctx.test)).map((u) => u.plan)).toEqual(["FREE", "FREE", "FREE"]);
    });

    it("follows a valid server_metadata.plan and stays put on an invalid or missing one", async () => {
      const user = stackUser({ server_metadata: { plan: "PRO" } });
      await send(ctx.handler, createdEvent(user));
      expect((await tableState(ctx.test))[0]?.plan).toBe("PRO");
      await send(ctx.handler, updatedEvent({ ...user, server_metadata: { plan: "ENTERPRISE" } }));
      expect((await tableState(ctx.test))[0]?.plan).toBe("ENTERPRISE");
      await send(ctx.handler, updatedEvent({ ...user, server_metadata: { plan: "PLATINUM" } }));
      expect((await tableState(ctx.test))[0]?.plan).toBe("ENTERPRISE");
      await send(ctx.handler, updatedEvent({ ...user, server_metadata: null }));
      expect((await tableState(ctx.test))[0]?.plan).toBe("ENTERPRISE");
      await send(ctx.handler, updatedEvent({ ...user, server_metadata: { plan: "FREE" } }));
      expect((await tableState(ctx.test))[0]?.plan).toBe("FREE");
    });
  });

  describe("clearing fields", () => {
    it("clears the display name and the avatar when the update sends null", async () => {
      const user = stackUser({ display_name: "Has Both", profile_image_url: "https://example.com/a.png" });
      await send(ctx.handler, createdEvent(user));
      expect(
        await send(ctx.handler, updatedEvent({ ...user, display_name: null, profile_image_url: null })),
      ).toEqual(PROCESSED);
      expect((await tableState(ctx.test))[0]).toMatchObject({
        displayName: null,
        avatar: null,
        username: "has_both",
      });
    });

    it("treats an empty display name as null", async () => {
      const user = stackUser({ display_name: "Will Empty" });
      await send(ctx.handler, createdEvent(user));
      await send(ctx.handler, updatedEvent({ ...user, display_name: "" }));
      expect((await tableState(ctx.test))[0]?.displayName).toBeNull();
    });
  });

  describe("anonymous users", () => {
    it("creates the user when an anonymous user is upgraded by a user.updated", async () => {
      const anonymous = stackUser({ is_anonymous: true, primary_email: null, display_name: null });
      expectIgnored(await send(ctx.handler, createdEvent(anonymous)));
      const upgraded = {
        ...anonymous,
        is_anonymous: false,
        primary_email: "Upgraded@Example.com",
        display_name: "Now Real",
      };
      expect(await send(ctx.handler, updatedEvent(upgraded), { svixId: "msg_upgrade" })).toEqual(PROCESSED);
      expect(await tableState(ctx.test)).toEqual([
        {
          id: anonymous.id,
          email: "upgraded@example.com",
          username: "now_real",
          displayName: "Now Real",
          avatar: null,
          plan: "FREE",
        },
      ]);
      expect((await rowsOf(ctx.test, anonymous.id)).user?.password).toMatch(BCRYPT_TEST_ROUNDS);
      expect(await eventRow(ctx.test, "msg_upgrade")).toMatchObject({
        outcome: "processed",
        type: "user.updated",
      });
    });

    it("syncs anonymous users with placeholder emails when SYNC_ANONYMOUS_USERS is true", async () => {
      const syncing = handlerFor(ctx.test, { sync: { syncAnonymousUsers: true } });
      const a = stackUser({ is_anonymous: true, primary_email: null, display_name: null });
      const b = stackUser({ is_anonymous: true, primary_email: null, display_name: null });
      expect(await send(syncing, createdEvent(a))).toEqual(PROCESSED);
      expect(await send(syncing, createdEvent(b))).toEqual(PROCESSED);
      const state = await tableState(ctx.test);
      expect(state).toHaveLength(2);
      expect(state.find((u) => u.id === a.id)).toMatchObject({
        email: `${a.id}@stack-user.invalid`,
        username: "user1",
      });
      expect(state.find((u) => u.id === b.id)).toMatchObject({
        email: `${b.id}@stack-user.invalid`,
        username: "user2",
      });

      // The upgrade replaces the placeholder and keeps the username.
      const upgraded = {
        ...a,
        is_anonymous: false,
        primary_email: "real@example.com",
        display_name: "Real Person",
      };
      expect(await send(syncing, updatedEvent(upgraded))).toEqual(PROCESSED);
      expect((await tableState(ctx.test)).find((u) => u.id === a.id)).toMatchObject({
        email: "real@example.com",
        username: "user1",
        displayName: "Real Person",
      });
    });
  });

  describe("header names", () => {
    it("processes a delivery signed with the Standard Webhooks header names", async () => {
      const user = stackUser();
      expect(
        await send(ctx.handler, createdEvent(user), { standardHeaders: true, svixId: "msg_std" }),
      ).toEqual(PROCESSED);
      expect(await eventRow(ctx.test, "msg_std")).toMatchObject({ outcome: "processed" });
      expect(await counts(ctx.test)).toMatchObject({ users: 1, profiles: 1 });
    });
  });
});
