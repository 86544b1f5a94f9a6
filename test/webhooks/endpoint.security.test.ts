/**
 * The endpoint's guard (SPEC §3 rows 401 and 503 not_configured, "nothing touches the database before the
 * signature holds", "an error body never echoes internal messages"), through the real handler, on both
 * databases.
 */
import { describe, expect, it } from "vitest";
import { messageOf, type ErrorCode } from "../../src/errors";
import { signPayload } from "../../src/webhooks/verify";
import { DATABASE_KINDS } from "../support/databases";
import {
  OTHER_SECRET,
  TEST_SECRET,
  WEBHOOK_URL,
  createdEvent,
  deletedEvent,
  signedRequest,
  stackUser,
  updatedEvent,
} from "../support/fixtures";
import { counts, eventRow, handlerFor, tableState, useEndpoint } from "../support/harness";

const NOTHING = { users: 0, profiles: 0, tombstones: 0, events: 0 };

async function expectError(response: Response, status: number, code: ErrorCode) {
  const text = await response.text();
  expect({ status: response.status, body: JSON.parse(text) as unknown }).toEqual({
    status,
    body: { error: { code, message: messageOf(code) } },
  });
  return text;
}

/** A request with exactly these headers and body. */
function rawRequest(body: string, headers: Record<string, string>): Request {
  return new Request(WEBHOOK_URL, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

const now = () => Math.floor(Date.now() / 1000);

describe.each(DATABASE_KINDS)("endpoint on %s: signatures and secrets", (kind) => {
  const ctx = useEndpoint(kind);

  describe("401 invalid_signature, nothing written", () => {
    it.each(["svix-id", "svix-timestamp", "svix-signature"])(
      "refuses a delivery without %s",
      async (header) => {
        const body = JSON.stringify(createdEvent(stackUser()));
        const headers: Record<string, string> = signPayload(TEST_SECRET, "msg_missing", now(), body);
        delete headers[header];
        await expectError(await ctx.handler(rawRequest(body, headers)), 401, "invalid_signature");
        expect(await counts(ctx.test)).toEqual(NOTHING);
      },
    );

    it.each(["webhook-id", "webhook-timestamp", "webhook-signature"])(
      "refuses a Standard Webhooks delivery without %s",
      async (header) => {
        const body = JSON.stringify(createdEvent(stackUser()));
        const signed = signPayload(TEST_SECRET, "msg_missing_std", now(), body);
        const headers: Record<string, string> = {
          "webhook-id": signed["svix-id"],
          "webhook-timestamp": signed["svix-timestamp"],
          "webhook-signature": signed["svix-signature"],
        };
        delete headers[header];
        await expectError(await ctx.handler(rawRequest(body, headers)), 401, "invalid_signature");
        expect(await counts(ctx.test)).toEqual(NOTHING);
      },
    );

    it("refuses a delivery with no signature headers at all", async () => {
      await expectError(
        await ctx.handler(rawRequest(JSON.stringify(createdEvent(stackUser())), {})),
        401,
        "invalid_signature",
      );
      expect(await counts(ctx.test)).toEqual(NOTHING);
    });

    it("refuses a forged signature", async () => {
      const body = JSON.stringify(createdEvent(stackUser()));
      const headers = {
        ...signPayload(TEST_SECRET, "msg_forged", now(), body),
        "svix-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
      };
      await expectError(await ctx.handler(rawRequest(body, headers)), 401, "invalid_signature");
      expect(await counts(ctx.test)).toEqual(NOTHING);
    });

    it("refuses a delivery signed with another secret", async () => {
      const request = signedRequest(createdEvent(stackUser()), { secret: OTHER_SECRET });
      await expectError(await ctx.handler(request), 401, "invalid_signature");
      expect(await counts(ctx.test)).toEqual(NOTHING);
    });

    it.each([
      ["six minutes old", -360],
      ["a day old", -86_400],
      ["six minutes in the future", 360],
    ])("refuses a correctly signed delivery whose timestamp is %s", async (_label, offset) => {
      const request = signedRequest(createdEvent(stackUser()), { timestamp: now() + offset });
      await expectError(await ctx.handler(request), 401, "invalid_signature");
      expect(await counts(ctx.test)).toEqual(NOTHING);
    });

    it("accepts a correctly signed delivery whose timestamp is four minutes old", async () => {
      const user = stackUser();
      const response = await ctx.handler(signedRequest(createdEvent(user), { timestamp: now() - 240 }));
      expect(await response.json()).toEqual({ status: "processed" });
      expect((await tableState(ctx.test)).map((u) => u.id)).toEqual([user.id]);
    });

    it("refuses a signed body whose content was changed on the way", async () => {
      const user = stackUser({ server_metadata: { plan: "FREE" } });
      const signedBody = JSON.stringify(createdEvent(user));
      const headers = signPayload(TEST_SECRET, "msg_tampered", now(), signedBody);
      const tampered = signedBody.replace('"plan":"FREE"', '"plan":"ENTERPRISE"');
      expect(tampered).not.toBe(signedBody);
      await expectError(await ctx.handler(rawRequest(tampered, headers)), 401, "invalid_signature");
      expect(await counts(ctx.test)).toEqual(NOTHING);
    });

    it("refuses a valid signature replayed under another svix-id", async () => {
      const body = JSON.stringify(createdEvent(stackUser()));
      const headers = { ...signPayload(TEST_SECRET, "msg_original", now(), body), "svix-id": "msg_replayed" };
      await expectError(await ctx.handler(rawRequest(body, headers)), 401, "invalid_signature");
      expect(await counts(ctx.test)).toEqual(NOTHING);
    });

    it("refuses an unsigned delete and leaves the user in place", async () => {
      const user = stackUser({ display_name: "Protected" });
      await ctx.handler(signedRequest(createdEvent(user)));
      const before = await tableState(ctx.test);
      const body = JSON.stringify(deletedEvent(user.id));
      const headers = { ...signPayload(OTHER_SECRET, "msg_evil_delete", now(), body) };
      await expectError(await ctx.handler(rawRequest(body, headers)), 401, "invalid_signature");
      expect(await tableState(ctx.test)).toEqual(before);
      expect(await eventRow(ctx.test, "msg_evil_delete")).toBeNull();
      expect(await counts(ctx.test)).toMatchObject({ users: 1, tombstones: 0, events: 1 });
    });

    it("answers 401, not 400, to an unsigned body that is not JSON, and logs nothing", async () => {
      await expectError(
        await ctx.handler(rawRequest("not json", { "svix-id": "msg_x" })),
        401,
        "invalid_signature",
      );
      const headers = signPayload(OTHER_SECRET, "msg_y", now(), "not json");
      await expectError(await ctx.handler(rawRequest("not json", headers)), 401, "invalid_signature");
      expect(await counts(ctx.test)).toEqual(NOTHING);
    });

    it("does not let a wrongly signed delivery mark its svix-id as seen", async () => {
      const user = stackUser();
      const body = JSON.stringify(createdEvent(user));
      await ctx.handler(rawRequest(body, signPayload(OTHER_SECRET, "msg_later_good", now(), body)));
      const response = await ctx.handler(
        rawRequest(body, signPayload(TEST_SECRET, "msg_later_good", now(), body)),
      );
      expect(await response.json()).toEqual({ status: "processed" });
      expect(await eventRow(ctx.test, "msg_later_good")).toMatchObject({ outcome: "processed", attempts: 1 });
    });
  });

  describe("accepted signatures", () => {
    it("accepts the Standard Webhooks header names", async () => {
      const user = stackUser();
      const response = await ctx.handler(
        signedRequest(createdEvent(user), { standardHeaders: true, svixId: "msg_std" }),
      );
      expect(await response.json()).toEqual({ status: "processed" });
      expect(await eventRow(ctx.test, "msg_std")).toMatchObject({ outcome: "processed", userId: user.id });
    });

    it("accepts a signature header that lists an old signature next to the right one", async () => {
      const user = stackUser();
      const body = JSON.stringify(createdEvent(user));
      const signed = signPayload(TEST_SECRET, "msg_multi", now(), body);
      const stale = signPayload(OTHER_SECRET, "msg_multi", now(), body)["svix-signature"];
      const response = await ctx.handler(
        rawRequest(body, { ...signed, "svix-signature": `${stale} ${signed["svix-signature"]}` }),
      );
      expect(await response.json()).toEqual({ status: "processed" });
      expect(await counts(ctx.test)).toMatchObject({ users: 1, events: 1 });
    });

    it("accepts deliveries signed with either secret during a rotation", async () => {
      const rotating = handlerFor(ctx.test, { secrets: [OTHER_SECRET, TEST_SECRET] });
      const a = stackUser();
      const b = stackUser();
      expect(await (await rotating(signedRequest(createdEvent(a), { secret: TEST_SECRET }))).json()).toEqual({
        status: "processed",
      });
      expect(await (await rotating(signedRequest(createdEvent(b), { secret: OTHER_SECRET }))).json()).toEqual(
        { status: "processed" },
      );
      expect((await tableState(ctx.test)).map((u) => u.id).sort()).toEqual([a.id, b.id].sort());
    });

    it("stores a hostile svix-id verbatim as data, not as SQL", async () => {
      const svixId = `msg_'); DELETE FROM users; --"\\`;
      const first = stackUser();
      await ctx.handler(signedRequest(createdEvent(first)));
      const second = stackUser();
      const response = await ctx.handler(signedRequest(createdEvent(second), { svixId }));
      expect(await response.json()).toEqual({ status: "processed" });
      expect(await eventRow(ctx.test, svixId)).toMatchObject({ svixId, outcome: "processed" });
      expect(await counts(ctx.test)).toMatchObject({ users: 2, profiles: 2 });
    });
  });

  describe("503 not_configured", () => {
    it("answers a correctly signed delivery with 503 and Retry-After when no secret is configured, writing nothing", async () => {
      const unconfigured = handlerFor(ctx.test, { secrets: [] });
      const response = await unconfigured(signedRequest(createdEvent(stackUser())));
      expect(response.headers.get("retry-after")).not.toBeNull();
      await expectError(response, 503, "not_configured");
      expect(await counts(ctx.test)).toEqual(NOTHING);
    });

    it("answers an unsigned delivery with 503 too when no secret is configured", async () => {
      const unconfigured = handlerFor(ctx.test, { secrets: [] });
      await expectError(await unconfigured(rawRequest("{}", {})), 503, "not_configured");
      expect(await counts(ctx.test)).toEqual(NOTHING);
    });

    it("still answers 405 to a GET before saying it is not configured", async () => {
      const unconfigured = handlerFor(ctx.test, { secrets: [] });
      await expectError(
        await unconfigured(new Request(WEBHOOK_URL, { method: "GET" })),
        405,
        "method_not_allowed",
      );
    });
  });

  describe("error bodies", () => {
    it("never echo the request, the secret, SQL or a stack trace", async () => {
      const marker = "SENTINEL_7f3a";
      const user = stackUser({ display_name: marker, primary_email: `${marker}@example.com` });
      await ctx.handler(
        signedRequest(createdEvent(stackUser({ primary_email: `${marker.toLowerCase()}@example.com` }))),
      );
      const answers = [
        await ctx.handler(new Request(WEBHOOK_URL, { method: "GET" })),
        await ctx.handler(rawRequest(JSON.stringify(createdEvent(user)), { "svix-id": marker })),
        await ctx.handler(signedRequest(`${marker} not json`)),
        await ctx.handler(signedRequest({ type: "user.created", data: { id: marker, primary_email: 1 } })),
        await ctx.handler(signedRequest(createdEvent(user))), // email conflict with the first user
        await ctx.handler(signedRequest(updatedEvent({ ...user, display_name: "x".repeat(5000) }))),
      ];
      const statuses = answers.map((a) => a.status);
      expect(statuses).toEqual([405, 401, 400, 422, 409, 422]);
      for (const answer of answers) {
        const text = await answer.text();
        expect(text).not.toContain(marker);
        expect(text.toLowerCase()).not.toContain(marker.toLowerCase());
        expect(text).not.toContain(TEST_SECRET.slice(6));
        expect(text).not.toMatch(/\bat \w|\.ts:\d|prisma|select |insert |unique constraint|users_email/i);
        expect(Object.keys(JSON.parse(text) as object)).toEqual(["error"]);
      }
    });
  });
});
