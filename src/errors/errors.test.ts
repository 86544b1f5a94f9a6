import { describe, expect, it } from "vitest";
import { RETRY_AFTER_SECONDS, SyncError, errorResponse, messageOf, statusOf, type ErrorCode } from "./index";

/** SPEC §3's table, code by code (a Record, so that a new code without a row fails to compile). */
const STATUS: Record<ErrorCode, number> = {
  method_not_allowed: 405,
  payload_too_large: 413,
  not_configured: 503,
  invalid_signature: 401,
  invalid_json: 400,
  invalid_payload: 422,
  email_conflict: 409,
  unavailable: 503,
  unauthorized: 401,
  stack_api_not_configured: 503,
  reconcile_running: 409,
  internal_error: 500,
};
const CODES = Object.keys(STATUS) as ErrorCode[];

describe("statusOf", () => {
  it.each(CODES)("maps %s to its status", (code) => {
    expect(statusOf(code)).toBe(STATUS[code]);
  });
});

describe("errorResponse", () => {
  it.each(CODES)(
    "answers %s with its status and a JSON body holding only the code and a fixed message",
    async (code) => {
      const response = errorResponse(code);
      expect(response.status).toBe(STATUS[code]);
      expect(response.headers.get("content-type")).toBe("application/json");
      expect(await response.json()).toEqual({ error: { code, message: messageOf(code) } });
    },
  );

  it.each(CODES.filter((c) => STATUS[c] === 503))("sends Retry-After with %s", (code) => {
    expect(errorResponse(code).headers.get("retry-after")).toBe(String(RETRY_AFTER_SECONDS));
    expect(RETRY_AFTER_SECONDS).toBeGreaterThan(0);
  });

  it.each(CODES.filter((c) => STATUS[c] !== 503))("sends no Retry-After with %s", (code) => {
    expect(errorResponse(code).headers.get("retry-after")).toBeNull();
  });

  it("sends Allow: POST with method_not_allowed", () => {
    expect(errorResponse("method_not_allowed").headers.get("allow")).toBe("POST");
  });

  it.each(CODES)("never puts the internal detail of a %s error in the body", async (code) => {
    const detail = `relation "users" does not exist at /srv/app/src/db/sync-store.ts:42 password=hunter2`;
    const error = new SyncError(code, detail, { cause: new Error("ECONNREFUSED 10.0.0.5:5432") });
    const text = await errorResponse(error.code).text();
    expect(text).not.toContain("users");
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("sync-store");
    expect(text).not.toContain("ECONNREFUSED");
  });
});

describe("messageOf", () => {
  it("gives every code its own non-empty message", () => {
    const messages = CODES.map(messageOf);
    for (const message of messages) expect(message.length).toBeGreaterThan(0);
    expect(new Set(messages).size).toBe(CODES.length);
  });
});

describe("SyncError", () => {
  it("keeps the code, the detail and the cause for the logs", () => {
    const cause = new Error("socket hang up");
    const error = new SyncError("unavailable", "database call failed", { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("SyncError");
    expect(error.code).toBe("unavailable");
    expect(error.detail).toBe("database call failed");
    expect(error.cause).toBe(cause);
    expect(error.message).toBe("unavailable: database call failed");
  });

  it("has the code as its message when there is no detail", () => {
    expect(new SyncError("invalid_json").message).toBe("invalid_json");
  });
});
