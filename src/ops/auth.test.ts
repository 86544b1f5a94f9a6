import { describe, expect, it } from "vitest";
import { loadConfig } from "../config";
import {
  ADMIN_COOKIE,
  SESSION_SECONDS,
  credentialsOf,
  handleAdminLogin,
  isAdmin,
  sessionValue,
} from "./auth";

const TOKEN = "admin-token-0123456789";
const PRODUCTION = { required: true, token: TOKEN };
const none = { authorization: null, session: null };

function loginRequest(body: string, url = "http://localhost/api/admin/session"): Request {
  return new Request(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
}

describe("isAdmin", () => {
  it("lets everyone in outside production", () => {
    expect(isAdmin({ required: false, token: undefined }, none)).toBe(true);
  });

  it("lets nobody in in production without a token configured", () => {
    const access = { required: true, token: undefined };
    expect(isAdmin(access, { authorization: "Bearer undefined", session: null })).toBe(false);
  });

  it("accepts the bearer token and refuses a wrong one, a prefix or none", () => {
    expect(isAdmin(PRODUCTION, { authorization: `Bearer ${TOKEN}`, session: null })).toBe(true);
    expect(isAdmin(PRODUCTION, { authorization: `bearer ${TOKEN}`, session: null })).toBe(true);
    expect(isAdmin(PRODUCTION, { authorization: `Bearer ${TOKEN}x`, session: null })).toBe(false);
    expect(isAdmin(PRODUCTION, { authorization: `Bearer ${TOKEN.slice(0, 8)}`, session: null })).toBe(false);
    expect(isAdmin(PRODUCTION, { authorization: TOKEN, session: null })).toBe(false);
    expect(isAdmin(PRODUCTION, none)).toBe(false);
  });

  it("accepts a session cookie until it expires, and only one signed with the same token", () => {
    const now = new Date("2026-12-01T00:00:00Z");
    const session = sessionValue(TOKEN, now);
    expect(isAdmin(PRODUCTION, { authorization: null, session }, now)).toBe(true);
    const later = new Date(now.getTime() + SESSION_SECONDS * 1000 + 1000);
    expect(isAdmin(PRODUCTION, { authorization: null, session }, later)).toBe(false);
    const other = sessionValue("another-token-0123456789", now);
    expect(isAdmin(PRODUCTION, { authorization: null, session: other }, now)).toBe(false);
    const [expires, mac] = session.split(".");
    const extended = `${Number(expires) + 3600}.${mac}`;
    expect(isAdmin(PRODUCTION, { authorization: null, session: extended }, now)).toBe(false);
  });

  it("never puts the token itself in the cookie", () => {
    expect(sessionValue(TOKEN)).not.toContain(TOKEN);
  });
});

describe("credentialsOf", () => {
  it("reads the Authorization header and the session cookie among others", () => {
    const request = new Request("http://localhost/", {
      headers: { authorization: "Bearer x", cookie: `a=1; ${ADMIN_COOKIE}=123.abc; b=2` },
    });
    expect(credentialsOf(request)).toEqual({ authorization: "Bearer x", session: "123.abc" });
    expect(credentialsOf(new Request("http://localhost/"))).toEqual(none);
  });
});

describe("handleAdminLogin", () => {
  it("sets an HttpOnly, SameSite=Strict session cookie and sends the browser to / for the right token", async () => {
    const res = await handleAdminLogin(loginRequest(`token=${TOKEN}`), PRODUCTION);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(
      new RegExp(`^${ADMIN_COOKIE}=\\d+\\.[\\w-]+; Path=/; HttpOnly; SameSite=Strict; Max-Age=`),
    );
    expect(cookie).not.toContain("Secure");
    const value = cookie.split(";")[0]?.split("=")[1] ?? null;
    expect(isAdmin(PRODUCTION, { authorization: null, session: value })).toBe(true);
  });

  it("marks the cookie Secure behind HTTPS", async () => {
    const res = await handleAdminLogin(
      loginRequest(`token=${TOKEN}`, "https://sync.example.com/x"),
      PRODUCTION,
    );
    expect(res.headers.get("set-cookie")).toContain("; Secure");
  });

  it("sends a wrong, missing or oversized token back to the form with a notice and no cookie", async () => {
    for (const body of ["token=wrong", "", `token=${"x".repeat(10_000)}`]) {
      const res = await handleAdminLogin(loginRequest(body), PRODUCTION);
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/?login=failed");
      expect(res.headers.get("set-cookie")).toBeNull();
    }
  });

  it("answers 405 to anything but POST", async () => {
    const res = await handleAdminLogin(new Request("http://localhost/api/admin/session"), PRODUCTION);
    expect(res.status).toBe(405);
  });
});

describe("ADMIN_TOKEN and RECONCILE_MAX_AGE_HOURS in the config", () => {
  it("reads both, and leaves them unset by default", () => {
    const config = loadConfig({ ADMIN_TOKEN: TOKEN, RECONCILE_MAX_AGE_HOURS: "48" }, "/srv");
    expect(config).toMatchObject({ adminToken: TOKEN, reconcileMaxAgeHours: 48 });
    expect(loadConfig({}, "/srv")).toMatchObject({ adminToken: undefined, reconcileMaxAgeHours: undefined });
  });

  it("refuses a short admin token and a zero max age, naming the variable", () => {
    expect(() => loadConfig({ ADMIN_TOKEN: "short" }, "/srv")).toThrow(/^ADMIN_TOKEN: must be at least 16/);
    expect(() => loadConfig({ RECONCILE_MAX_AGE_HOURS: "0" }, "/srv")).toThrow(/^RECONCILE_MAX_AGE_HOURS: /);
  });
});
