import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { errorResponse } from "../errors";
import { readBodyLimited } from "../webhooks/body";

/** The cookie the status page's sign-in form sets: an expiry and its HMAC under ADMIN_TOKEN, never the token. */
export const ADMIN_COOKIE = "stack_sync_admin";
export const SESSION_SECONDS = 12 * 60 * 60;
const LOGIN_BODY_LIMIT = 4096;
const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Who may see the status page and the metrics. */
export interface AdminAccess {
  /** False in development: everything is open. */
  required: boolean;
  /** ADMIN_TOKEN; when required and unset, nobody gets in. */
  token: string | undefined;
}

/** What a request presents: an `Authorization` header and the session cookie's value. */
export interface Credentials {
  authorization: string | null;
  session: string | null;
}

/** Whether the credentials open the admin surfaces: `Authorization: Bearer <ADMIN_TOKEN>` or a valid session cookie. */
export function isAdmin(access: AdminAccess, credentials: Credentials, now: Date = new Date()): boolean {
  if (!access.required) return true;
  if (!access.token) return false;
  const bearer = BEARER.exec(credentials.authorization ?? "")?.[1];
  if (bearer !== undefined && same(bearer, access.token)) return true;
  return credentials.session !== null && validSession(access.token, credentials.session, now);
}

/** The credentials of a Web request (header and cookie). */
export function credentialsOf(request: Request): Credentials {
  const cookies = request.headers.get("cookie") ?? "";
  const session = cookies
    .split(";")
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${ADMIN_COOKIE}=`))
    ?.slice(ADMIN_COOKIE.length + 1);
  return { authorization: request.headers.get("authorization"), session: session ?? null };
}

/** 401 for the metrics endpoint, in the service's error shape. */
export function unauthorizedResponse(): Response {
  const response = errorResponse("unauthorized");
  response.headers.set("cache-control", "no-store");
  return response;
}

/**
 * The sign-in form's target (`POST token=…`): a right token sets the session cookie; either way the browser is
 * sent back to the page (303), which shows the data or the form again with a notice. No client script needed.
 */
export async function handleAdminLogin(
  request: Request,
  access: AdminAccess,
  now: Date = new Date(),
): Promise<Response> {
  if (request.method !== "POST") return errorResponse("method_not_allowed");
  let token: string | null = null;
  try {
    const body = new TextDecoder().decode(await readBodyLimited(request, LOGIN_BODY_LIMIT));
    token = new URLSearchParams(body).get("token");
  } catch {
    token = null;
  }
  const granted =
    access.required && access.token !== undefined && token !== null && same(token, access.token);
  if (!granted) return redirect(access.required ? "/?login=failed" : "/");
  const secure =
    new URL(request.url).protocol === "https:" || request.headers.get("x-forwarded-proto") === "https";
  const cookie = [
    `${ADMIN_COOKIE}=${sessionValue(access.token ?? "", now)}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${SESSION_SECONDS}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
  return redirect("/", cookie);
}

/** A session cookie value: its expiry (unix seconds) and an HMAC of it under the token. */
export function sessionValue(token: string, now: Date = new Date()): string {
  const expires = Math.floor(now.getTime() / 1000) + SESSION_SECONDS;
  return `${expires}.${sign(token, expires)}`;
}

function validSession(token: string, value: string, now: Date): boolean {
  const match = /^(\d{1,12})\.([\w-]+)$/.exec(value);
  if (!match?.[1] || !match[2]) return false;
  const expires = Number(match[1]);
  return expires * 1000 > now.getTime() && same(match[2], sign(token, expires));
}

function sign(token: string, expires: number): string {
  return createHmac("sha256", token).update(`stack-sync admin session ${expires}`).digest("base64url");
}

/** Constant-time string equality (digests first, so lengths never leak either). */
function same(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function redirect(location: string, cookie?: string): Response {
  const headers: Record<string, string> = { location, "cache-control": "no-store" };
  if (cookie) headers["set-cookie"] = cookie;
  return new Response(null, { status: 303, headers });
}
