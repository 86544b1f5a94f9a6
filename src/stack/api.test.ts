import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmulator, type Emulator } from "../emulator";
import { createStackApiClient, parseRetryAfter, StackApiError, type StackApiClientOptions } from "./api";

const PROJECT = "7d0c0a5e-2222-4333-8444-555566667777";
const KEY = "ssk_api_test";

/** A client whose fetch answers with `respond` and records what was asked. */
function clientAnswering(
  respond: (url: string, init: RequestInit) => Response | Promise<Response>,
  extra: Partial<StackApiClientOptions> = {},
) {
  const calls: { url: string; headers: Headers }[] = [];
  const fakeFetch: typeof fetch = async (input, init = {}) => {
    calls.push({ url: String(input), headers: new Headers(init.headers) });
    return respond(String(input), init);
  };
  return {
    calls,
    client: createStackApiClient({
      apiUrl: "https://api.example.com/",
      projectId: PROJECT,
      secretServerKey: KEY,
      fetch: fakeFetch,
      ...extra,
    }),
  };
}

async function failure(promise: Promise<unknown>): Promise<StackApiError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof StackApiError)) throw new Error(`expected a StackApiError, got ${String(error)}`);
  return error;
}

describe("against the emulator", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = createEmulator({ projectId: PROJECT, secretServerKey: KEY });
    await emulator.start();
  });
  afterAll(() => emulator.stop());

  it("reads a user, null for a missing one, and pages through the list", async () => {
    const client = createStackApiClient({ apiUrl: emulator.url, projectId: PROJECT, secretServerKey: KEY });
    const users = Array.from({ length: 5 }, (_, i) =>
      emulator.users.create({ primary_email: `p${i}@example.com` }, { signedUpAtMillis: i }),
    );
    const anonymous = emulator.users.signUpAnonymous({ signedUpAtMillis: 10 });
    expect(await client.getUser(users[0]?.id ?? "")).toMatchObject({
      id: users[0]?.id,
      primary_email: "p0@example.com",
    });
    emulator.users.delete(users[0]?.id ?? "", { notify: false });
    expect(await client.getUser(users[0]?.id ?? "")).toBeNull();

    const first = await client.listUsers({ limit: 2 });
    expect(first.items.map((u) => u.id)).toEqual([users[1]?.id, users[2]?.id]);
    const second = await client.listUsers({ limit: 2, cursor: first.nextCursor });
    expect(second.items.map((u) => u.id)).toEqual([users[3]?.id, users[4]?.id]);
    expect(second.nextCursor).toBeNull();
    expect((await client.listUsers({ includeAnonymous: true })).items.map((u) => u.id)).toContain(
      anonymous.id,
    );
  });

  it("reports a wrong key as unauthorized, naming Stack's error code but not the key", async () => {
    const client = createStackApiClient({
      apiUrl: emulator.url,
      projectId: PROJECT,
      secretServerKey: "ssk_wrong",
    });
    const error = await failure(client.listUsers());
    expect(error).toMatchObject({
      kind: "unauthorized",
      status: 401,
      details: { code: "INVALID_SECRET_SERVER_KEY" },
    });
    expect(error.message).not.toContain("ssk_wrong");
  });
});

describe("with a scripted server", () => {
  it("sends the three x-stack-* headers and Stack's list parameters", async () => {
    const { client, calls } = clientAnswering(() =>
      Response.json({ items: [], is_paginated: true, pagination: { next_cursor: null } }),
    );
    await client.listUsers({
      cursor: "c0ffee00-0000-4000-8000-000000000000",
      limit: 200,
      includeAnonymous: true,
      includeRestricted: true,
    });
    const call = calls[0];
    expect(call?.headers.get("x-stack-access-type")).toBe("server");
    expect(call?.headers.get("x-stack-project-id")).toBe(PROJECT);
    expect(call?.headers.get("x-stack-secret-server-key")).toBe(KEY);
    const url = new URL(call?.url ?? "");
    expect(url.pathname).toBe("/api/v1/users");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      order_by: "signed_up_at",
      desc: "false",
      limit: "200",
      cursor: "c0ffee00-0000-4000-8000-000000000000",
      include_anonymous: "true",
      include_restricted: "true",
    });
  });

  it("does not take a 404 without USER_NOT_FOUND for a deleted user", async () => {
    const { client } = clientAnswering(() => new Response("<html>Not Found</html>", { status: 404 }));
    expect(await failure(client.getUser("x"))).toMatchObject({ kind: "bad_response", status: 404 });
  });

  it("classifies 429 (with Retry-After), 5xx, 400 auth errors and bodies that are not users", async () => {
    const answer = (status: number, headers: Record<string, string> = {}, body = "{}") =>
      clientAnswering(() => new Response(body, { status, headers })).client;
    expect(await failure(answer(429, { "retry-after": "7" }).getUser("x"))).toMatchObject({
      kind: "rate_limited",
      retryAfterSeconds: 7,
    });
    expect((await failure(answer(429).getUser("x"))).retryAfterSeconds).toBeUndefined();
    expect(await failure(answer(503, { "retry-after": "2" }).listUsers())).toMatchObject({
      kind: "unavailable",
      retryAfterSeconds: 2,
    });
    expect(
      await failure(answer(400, { "x-stack-known-error": "ACCESS_TYPE_REQUIRED" }).listUsers()),
    ).toMatchObject({ kind: "unauthorized" });
    expect(await failure(answer(400, { "x-stack-known-error": "SCHEMA_ERROR" }).listUsers())).toMatchObject({
      kind: "bad_response",
    });
    expect(await failure(answer(200, {}, '{"id":42}').getUser("x"))).toMatchObject({ kind: "bad_response" });
    expect(await failure(answer(200, {}, "not json").listUsers())).toMatchObject({ kind: "bad_response" });
  });

  it("keeps a listed user that does not fit the schema apart, by id, and refuses an item without one", async () => {
    const good = { id: "a", primary_email: "a@example.com", display_name: null, profile_image_url: null };
    const bad = { id: "b", primary_email: 42, display_name: null, profile_image_url: null };
    const page = await clientAnswering(() =>
      Response.json({ items: [good, bad], pagination: { next_cursor: null } }),
    ).client.listUsers();
    expect(page.items.map((u) => u.id)).toEqual(["a"]);
    expect(page.invalid).toEqual([{ id: "b", error: expect.any(String) }]);
    const noId = clientAnswering(() =>
      Response.json({ items: [{ primary_email: "x" }], pagination: { next_cursor: null } }),
    ).client;
    expect(await failure(noId.listUsers())).toMatchObject({ kind: "bad_response" });
  });

  it("times out (unavailable) instead of waiting for a server that never answers", async () => {
    const hang = (_url: string, init: RequestInit) =>
      new Promise<Response>((_resolve, reject) =>
        init.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
      );
    const { client } = clientAnswering(hang, { timeoutMs: 50 });
    const started = performance.now();
    const error = await failure(client.getUser("x"));
    expect(error).toMatchObject({ kind: "unavailable" });
    expect(error.message).toContain("timed out after 50 ms");
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("reports a network failure as unavailable", async () => {
    const { client } = clientAnswering(() => Promise.reject(new TypeError("fetch failed")));
    expect(await failure(client.listUsers())).toMatchObject({ kind: "unavailable" });
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("120")).toBe(120);
    expect(parseRetryAfter(new Date(10_000 + 30_000).toUTCString(), 10_000)).toBe(30);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
