import { z } from "zod";
import { stackUserSchema, type StackUser } from "./schema";

/** Why a call to Stack's server API failed; callers decide from this whether to retry. */
export type StackApiErrorKind = "rate_limited" | "unavailable" | "unauthorized" | "bad_response";

/** A failed call to Stack's server API. The message never carries the server key. */
export class StackApiError extends Error {
  override readonly name = "StackApiError";

  constructor(
    readonly kind: StackApiErrorKind,
    message: string,
    readonly details: { status?: number; code?: string; retryAfterSeconds?: number } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Seconds the server asked us to wait (429 or 503 with `Retry-After`), when it said. */
  get retryAfterSeconds(): number | undefined {
    return this.details.retryAfterSeconds;
  }

  get status(): number | undefined {
    return this.details.status;
  }
}

export interface StackApiClientOptions {
  /** Base URL without `/api/v1`, e.g. `https://api.stack-auth.com` or the emulator's URL. */
  apiUrl: string;
  projectId: string;
  secretServerKey: string;
  /** Per request, body included. Default 5 s: well inside the 15 s Svix gives a webhook delivery. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface ListUsersOptions {
  /** The id of the first user of the page (inclusive), from the previous page's `nextCursor`. */
  cursor?: string | null;
  /** Page size; omitted means every user in one response. */
  limit?: number;
  includeAnonymous?: boolean;
  includeRestricted?: boolean;
}

/** One page of users in `signed_up_at`, then id, order. */
export interface UserPage {
  items: StackUser[];
  /** Id of the first user of the next page, or null at the end. */
  nextCursor: string | null;
  /** Items with an id that did not fit the user schema: they exist, but cannot be applied. */
  invalid: { id: string; error: string }[];
}

/** The two reads of Stack's server REST API the sync needs. */
export interface StackApiClient {
  /** The user's current state, or null when Stack answers 404 `USER_NOT_FOUND`. */
  getUser(id: string): Promise<StackUser | null>;
  listUsers(options?: ListUsersOptions): Promise<UserPage>;
}

/** Known errors Stack answers with 400 that mean the credentials or headers are wrong. */
const AUTH_ERROR_CODES = new Set([
  "ACCESS_TYPE_REQUIRED",
  "PROJECT_KEY_WITHOUT_ACCESS_TYPE",
  "INVALID_ACCESS_TYPE",
  "ACCESS_TYPE_WITHOUT_PROJECT_ID",
  "CURRENT_PROJECT_NOT_FOUND",
  "PROJECT_NOT_FOUND",
]);

const DEFAULT_TIMEOUT_MS = 5_000;

const listResponseSchema = z.looseObject({
  items: z.array(z.unknown()),
  pagination: z.looseObject({ next_cursor: z.string().nullable().optional() }).optional(),
});

const itemIdSchema = z.looseObject({ id: z.string().min(1) });

/** A client for Stack's server REST API (`x-stack-access-type: server`). */
export function createStackApiClient(options: StackApiClientOptions): StackApiClient {
  const base = options.apiUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const headers = {
    accept: "application/json",
    "x-stack-access-type": "server",
    "x-stack-project-id": options.projectId,
    "x-stack-secret-server-key": options.secretServerKey,
  };

  /** GETs a path; returns the response with its body already read, inside the timeout. */
  async function get(path: string): Promise<{ response: Response; text: string }> {
    const what = `GET ${path.split("?")[0]}`;
    try {
      const response = await doFetch(`${base}/api/v1${path}`, {
        headers,
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { response, text: await response.text() };
    } catch (error) {
      const timedOut =
        error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      const reason = timedOut ? `timed out after ${timeoutMs} ms` : "could not reach Stack Auth";
      throw new StackApiError("unavailable", `${what}: ${reason}`, {}, { cause: error });
    }
  }

  return {
    async getUser(id) {
      const path = `/users/${encodeURIComponent(id)}`;
      const { response, text } = await get(path);
      if (response.status === 404 && knownErrorCode(response, text) === "USER_NOT_FOUND") return null;
      if (!response.ok) throw errorFor(response, text, `GET /users/{id}`);
      const parsed = stackUserSchema.safeParse(parseJson(text));
      if (!parsed.success)
        throw new StackApiError("bad_response", `GET /users/{id}: the user does not fit the schema`);
      return parsed.data;
    },

    async listUsers(list = {}) {
      const query = new URLSearchParams({ order_by: "signed_up_at", desc: "false" });
      if (list.limit !== undefined) query.set("limit", String(list.limit));
      if (list.cursor) query.set("cursor", list.cursor);
      if (list.includeAnonymous) query.set("include_anonymous", "true");
      if (list.includeRestricted) query.set("include_restricted", "true");
      const { response, text } = await get(`/users?${query}`);
      if (!response.ok) throw errorFor(response, text, "GET /users");
      const body = listResponseSchema.safeParse(parseJson(text));
      if (!body.success) throw new StackApiError("bad_response", "GET /users: the body is not a user list");
      const page: UserPage = {
        items: [],
        nextCursor: body.data.pagination?.next_cursor ?? null,
        invalid: [],
      };
      for (const item of body.data.items) {
        const user = stackUserSchema.safeParse(item);
        if (user.success) {
          page.items.push(user.data);
          continue;
        }
        // Without an id we could not even tell which local user it is: the page cannot be trusted.
        const withId = itemIdSchema.safeParse(item);
        if (!withId.success) throw new StackApiError("bad_response", "GET /users: an item has no id");
        page.invalid.push({ id: withId.data.id, error: user.error.issues[0]?.message ?? "invalid" });
      }
      return page;
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Stack names its known errors in `x-stack-known-error` and in the body's `code`. */
function knownErrorCode(response: Response, text: string): string | null {
  const header = response.headers.get("x-stack-known-error");
  if (header) return header;
  const body = parseJson(text);
  if (typeof body === "object" && body !== null && "code" in body && typeof body.code === "string")
    return body.code;
  return null;
}

function errorFor(response: Response, text: string, what: string): StackApiError {
  const status = response.status;
  const code = knownErrorCode(response, text) ?? undefined;
  const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"));
  const details = {
    status,
    ...(code && { code }),
    ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
  };
  const message = `${what}: HTTP ${status}${code ? ` ${code}` : ""}`;
  if (status === 429) return new StackApiError("rate_limited", message, details);
  if (status === 401 || status === 403 || (status === 400 && code && AUTH_ERROR_CODES.has(code))) {
    return new StackApiError("unauthorized", message, details);
  }
  if (status >= 500) return new StackApiError("unavailable", message, details);
  return new StackApiError("bad_response", message, details);
}

/** `Retry-After` is delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}
