/**
 * The emulator's server API against the shapes STACK-AUTH.md documents: the user object's exact keys, the
 * x-stack-* checks, 404 USER_NOT_FOUND, and pagination (inclusive cursor, next_cursor, no limit = all, filters).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createEmulator, type Emulator } from "../../src/emulator";
import { stackUserSchema } from "../../src/stack";
import { stackUser } from "../support/fixtures";

const PROJECT = "0b4c2f3e-1111-4222-8333-444455556666";
const KEY = "ssk_test_key";
const SERVER = {
  "x-stack-access-type": "server",
  "x-stack-project-id": PROJECT,
  "x-stack-secret-server-key": KEY,
};

let emulator: Emulator;
beforeAll(async () => {
  emulator = createEmulator({ projectId: PROJECT, secretServerKey: KEY });
  await emulator.start();
});
afterAll(() => emulator.stop());
beforeEach(() => {
  for (const user of emulator.users.list()) emulator.users.delete(user.id, { notify: false });
});

async function call(
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
) {
  const response = await fetch(`${emulator.url}${path}`, {
    method: init.method ?? "GET",
    headers: {
      ...(init.body !== undefined && { "content-type": "application/json" }),
      ...(init.headers ?? SERVER),
    },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: text.startsWith("{") ? (JSON.parse(text) as Record<string, unknown>) : null,
  };
}

type ListBody = {
  items: { id: string }[];
  is_paginated: boolean;
  pagination: { next_cursor: string | null };
};
async function list(query: string) {
  const result = await call(`/api/v1/users${query}`);
  expect(result.status).toBe(200);
  return result.json as unknown as ListBody;
}

describe("the user object", () => {
  it("has exactly the keys of STACK-AUTH.md's user.created example, and fits the sync's schema", async () => {
    const created = await call("/api/v1/users", {
      method: "POST",
      body: { primary_email: "Test@Example.com", display_name: "" },
    });
    expect(created.status).toBe(201);
    const read = await call(`/api/v1/users/${String(created.json?.id)}`);
    expect(read.status).toBe(200);
    expect(Object.keys(read.json ?? {}).sort()).toEqual(Object.keys(stackUser()).sort());
    expect(Object.keys(read.json ?? {})).toHaveLength(27);
    expect(read.json).toMatchObject({
      primary_email: "test@example.com",
      display_name: null,
      is_anonymous: false,
    });
    expect(stackUserSchema.safeParse(read.json).success).toBe(true);
    expect(read.json).toEqual(created.json);
  });

  it("shows the restricted reason of anonymous users and of users restricted by an admin", () => {
    const anonymous = emulator.users.signUpAnonymous();
    expect(anonymous).toMatchObject({
      is_anonymous: true,
      is_restricted: true,
      restricted_reason: { type: "anonymous" },
      primary_email: null,
    });
    const banned = emulator.users.create({
      primary_email: "x@example.com",
      restricted_by_admin: true,
      restricted_by_admin_reason: "spam",
    });
    expect(banned).toMatchObject({
      is_restricted: true,
      restricted_reason: { type: "restricted_by_administrator" },
      restricted_by_admin_reason: "spam",
    });
  });
});

describe("authentication", () => {
  const expectKnownError = (r: Awaited<ReturnType<typeof call>>, status: number, code: string) => {
    expect(r.status).toBe(status);
    expect(r.headers.get("x-stack-known-error")).toBe(code);
    expect(r.json).toMatchObject({ code, error: expect.any(String) });
  };

  it("answers 401 for a missing or wrong server key, and for another project", async () => {
    const { "x-stack-secret-server-key": _key, ...noKey } = SERVER;
    expectKnownError(await call("/api/v1/users", { headers: noKey }), 401, "SERVER_AUTHENTICATION_REQUIRED");
    expectKnownError(
      await call("/api/v1/users", { headers: { ...SERVER, "x-stack-secret-server-key": "ssk_wrong" } }),
      401,
      "INVALID_SECRET_SERVER_KEY",
    );
    const other = await call("/api/v1/users", { headers: { ...SERVER, "x-stack-project-id": randomUUID() } });
    expectKnownError(other, 401, "INVALID_SECRET_SERVER_KEY");
    expect(other.json?.details).toEqual({ project_id: expect.any(String) });
  });

  it("answers a client key or no access level the way Stack does", async () => {
    expectKnownError(
      await call("/api/v1/users", { headers: { ...SERVER, "x-stack-access-type": "client" } }),
      401,
      "CLIENT_AUTHENTICATION_REQUIRED",
    );
    const { "x-stack-access-type": _type, ...noType } = SERVER;
    // Stack answers 400 (not 401) when the headers themselves are malformed.
    expectKnownError(
      await call("/api/v1/users", { headers: noType }),
      400,
      "PROJECT_KEY_WITHOUT_ACCESS_TYPE",
    );
    expectKnownError(await call("/api/v1/users", { headers: {} }), 400, "ACCESS_TYPE_REQUIRED");
    expectKnownError(
      await call("/api/v1/users", { headers: { ...SERVER, "x-stack-access-type": "root" } }),
      400,
      "INVALID_ACCESS_TYPE",
    );
    const { "x-stack-project-id": _project, ...noProject } = SERVER;
    expectKnownError(
      await call("/api/v1/users", { headers: noProject }),
      400,
      "ACCESS_TYPE_WITHOUT_PROJECT_ID",
    );
  });
});

describe("reading one user", () => {
  it("answers 404 USER_NOT_FOUND with its header and exact body", async () => {
    const result = await call(`/api/v1/users/${randomUUID()}`);
    expect(result.status).toBe(404);
    expect(result.headers.get("x-stack-known-error")).toBe("USER_NOT_FOUND");
    expect(JSON.parse(result.text)).toEqual({ code: "USER_NOT_FOUND", error: "User not found." });
  });

  it("refuses an id that is not a UUID with SCHEMA_ERROR", async () => {
    const result = await call("/api/v1/users/not-a-uuid");
    expect(result.status).toBe(400);
    expect(result.headers.get("x-stack-known-error")).toBe("SCHEMA_ERROR");
  });
});

describe("changing users through the API", () => {
  it("updates with PATCH, deletes with DELETE, and refuses unknown body keys", async () => {
    const user = emulator.users.create({ primary_email: "a@example.com" });
    const patched = await call(`/api/v1/users/${user.id}`, {
      method: "PATCH",
      body: { display_name: "Jane", server_metadata: { plan: "PRO" } },
    });
    expect(patched.json).toMatchObject({
      display_name: "Jane",
      server_metadata: { plan: "PRO" },
      primary_email: "a@example.com",
    });
    expect(
      (await call(`/api/v1/users/${user.id}`, { method: "PATCH", body: { nickname: "x" } })).status,
    ).toBe(400);
    expect(await call(`/api/v1/users/${user.id}`, { method: "DELETE" })).toMatchObject({
      status: 200,
      json: { success: true },
    });
    expect((await call(`/api/v1/users/${user.id}`, { method: "DELETE" })).status).toBe(404);
  });

  it("keeps sign-in emails unique, as Stack does, and allows the same email without sign-in", async () => {
    emulator.users.create({ primary_email: "same@example.com", primary_email_auth_enabled: true });
    const clash = await call("/api/v1/users", {
      method: "POST",
      body: { primary_email: "same@example.com", primary_email_auth_enabled: true },
    });
    expect(clash.status).toBe(409);
    expect(clash.headers.get("x-stack-known-error")).toBe("USER_EMAIL_ALREADY_EXISTS");
    expect(
      (await call("/api/v1/users", { method: "POST", body: { primary_email: "same@example.com" } })).status,
    ).toBe(201);
  });
});

describe("listing", () => {
  /** n users with distinct sign-up times, returned in list order. */
  function makeUsers(
    n: number,
    extra: (i: number) => Parameters<Emulator["users"]["create"]>[0] = () => ({}),
  ) {
    return Array.from({ length: n }, (_, i) =>
      emulator.users.create(
        { primary_email: `u${i}@example.com`, ...extra(i) },
        { signedUpAtMillis: 1_700_000_000_000 + i * 1000 },
      ),
    );
  }

  it("returns everything in one response without a limit", async () => {
    const users = makeUsers(25);
    const body = await list("");
    expect(body.items.map((u) => u.id)).toEqual(users.map((u) => u.id));
    expect(body).toMatchObject({ is_paginated: true, pagination: { next_cursor: null } });
  });

  it("pages with an inclusive cursor: next_cursor is the id of the next page's first user, null at the end", async () => {
    const users = makeUsers(7);
    const first = await list("?limit=3");
    expect(first.items.map((u) => u.id)).toEqual(users.slice(0, 3).map((u) => u.id));
    expect(first.pagination.next_cursor).toBe(users[3]?.id);
    const second = await list(`?limit=3&cursor=${first.pagination.next_cursor}`);
    expect(second.items[0]?.id).toBe(users[3]?.id);
    const third = await list(`?limit=3&cursor=${second.pagination.next_cursor}`);
    expect(third.items.map((u) => u.id)).toEqual([users[6]?.id]);
    expect(third.pagination.next_cursor).toBeNull();
    const exact = await list("?limit=7");
    expect(exact.pagination.next_cursor).toBeNull();
  });

  it("orders by signed_up_at then id, and desc=true reverses it", async () => {
    const at = 1_700_000_000_000;
    const ids = ["c", "a", "b"].map(
      (c) =>
        emulator.users.create({}, { id: `${c.repeat(8)}-0000-4000-8000-000000000000`, signedUpAtMillis: at })
          .id,
    );
    const late = emulator.users.create({}, { signedUpAtMillis: at - 1 }).id;
    expect((await list("")).items.map((u) => u.id)).toEqual([late, ...[...ids].sort()]);
    expect((await list("?desc=true")).items.map((u) => u.id)).toEqual(
      [...[...ids].sort()].reverse().concat(late),
    );
  });

  it("answers an empty page when the cursor user no longer exists (Prisma's cursor)", async () => {
    const users = makeUsers(4);
    const first = await list("?limit=2");
    emulator.users.delete(first.pagination.next_cursor ?? "", { notify: false });
    expect(await list(`?limit=2&cursor=${first.pagination.next_cursor}`)).toMatchObject({
      items: [],
      pagination: { next_cursor: null },
    });
    expect(users).toHaveLength(4);
  });

  it("leaves anonymous and restricted users out by default; include_restricted and include_anonymous bring them", async () => {
    const normal = emulator.users.create({ primary_email: "n@example.com" }, { signedUpAtMillis: 1 });
    const restricted = emulator.users.create(
      { primary_email: "r@example.com", restricted_by_admin: true },
      { signedUpAtMillis: 2 },
    );
    const anonymous = emulator.users.signUpAnonymous({ signedUpAtMillis: 3 });
    const ids = async (q: string) => (await list(q)).items.map((u) => u.id);
    expect(await ids("")).toEqual([normal.id]);
    expect(await ids("?include_restricted=true")).toEqual([normal.id, restricted.id]);
    expect(await ids("?include_anonymous=true")).toEqual([normal.id, restricted.id, anonymous.id]);
    expect(await ids("?include_anonymous=true&only_anonymous=true")).toEqual([anonymous.id]);
  });

  it("treats unverified users as restricted when the project requires verification", async () => {
    const strict = createEmulator({
      projectId: PROJECT,
      secretServerKey: KEY,
      requireEmailVerification: true,
    });
    const user = strict.users.create({ primary_email: "v@example.com" });
    expect(user).toMatchObject({ is_restricted: true, restricted_reason: { type: "email_not_verified" } });
    const url = new URL("http://emulator.invalid/api/v1/users");
    const listed = async () =>
      JSON.parse((await strict.handle({ method: "GET", url, headers: SERVER, body: "" })).body) as ListBody;
    expect((await listed()).items).toHaveLength(0);
    strict.users.verifyEmail(user.id);
    expect((await listed()).items.map((u) => u.id)).toEqual([user.id]);
  });

  it("refuses malformed queries with SCHEMA_ERROR", async () => {
    for (const query of [
      "?limit=0",
      "?limit=abc",
      "?cursor=nope",
      "?include_anonymous=yes",
      "?includeAnonymous=true",
    ]) {
      const result = await call(`/api/v1/users${query}`);
      expect(result.status, query).toBe(400);
      expect(result.headers.get("x-stack-known-error"), query).toBe("SCHEMA_ERROR");
    }
  });
});

describe("chaos on the API", () => {
  it("answers a seeded share of requests 429 with Retry-After", async () => {
    emulator.setChaos({ seed: 42, rateLimit: 0.5, retryAfterSeconds: 3 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) {
        const result = await call("/api/v1/users");
        statuses.push(result.status);
        if (result.status === 429) expect(result.headers.get("retry-after")).toBe("3");
      }
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(5);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(5);
    } finally {
      emulator.setChaos({ rateLimit: 0 });
    }
  });
});
