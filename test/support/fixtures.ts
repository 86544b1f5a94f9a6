import { randomUUID } from "node:crypto";
import type { StackUser } from "../../src/stack";
import { signPayload } from "../../src/webhooks/verify";

/** The secret every test signs with (Svix's documented example secret). */
export const TEST_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
export const OTHER_SECRET = "whsec_" + Buffer.from("another secret, for rotation tests").toString("base64");
export const WEBHOOK_URL = "http://localhost/api/webhooks/stack/user/sync";

/** A Stack user object shaped exactly like the `user.created` body in STACK-AUTH.md, with overrides. */
export function stackUser(overrides: Partial<StackUser> = {}): StackUser {
  return {
    auth_with_email: false,
    client_metadata: null,
    client_read_only_metadata: null,
    country_code: null,
    display_name: null,
    has_password: false,
    id: randomUUID(),
    is_anonymous: false,
    is_restricted: false,
    last_active_at_millis: 1700000000000,
    oauth_providers: [],
    otp_auth_enabled: false,
    passkey_auth_enabled: false,
    primary_email: `user-${randomUUID().slice(0, 8)}@example.com`,
    primary_email_auth_enabled: false,
    primary_email_verified: false,
    profile_image_url: null,
    requires_totp_mfa: false,
    restricted_by_admin: false,
    restricted_by_admin_private_details: null,
    restricted_by_admin_reason: null,
    restricted_reason: null,
    risk_scores: { sign_up: { bot: 0, free_trial_abuse: 0 } },
    selected_team: null,
    selected_team_id: null,
    server_metadata: null,
    signed_up_at_millis: 1700000000000,
    ...overrides,
  };
}

export type EventBody =
  | { type: "user.created" | "user.updated"; data: StackUser }
  | { type: "user.deleted"; data: { id: string; teams: { id: string }[] } }
  | { type: string; data: unknown };

export function createdEvent(user: StackUser): EventBody {
  return { type: "user.created", data: user };
}
export function updatedEvent(user: StackUser): EventBody {
  return { type: "user.updated", data: user };
}
export function deletedEvent(id: string): EventBody {
  return { type: "user.deleted", data: { id, teams: [] } };
}

export interface SignOptions {
  secret?: string;
  svixId?: string;
  /** Unix seconds; now by default. */
  timestamp?: number;
  /** Use the Standard Webhooks header names instead of Svix's. */
  standardHeaders?: boolean;
  method?: string;
  headers?: Record<string, string>;
}

/** A correctly signed delivery of `body` (an event object or raw text/bytes), as Svix would send it now. */
export function signedRequest(body: EventBody | string | Uint8Array, options: SignOptions = {}): Request {
  const raw = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
  const svixId = options.svixId ?? `msg_${randomUUID().replace(/-/g, "")}`;
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signed = signPayload(options.secret ?? TEST_SECRET, svixId, timestamp, raw);
  const headers: Record<string, string> = options.standardHeaders
    ? {
        "webhook-id": signed["svix-id"],
        "webhook-timestamp": signed["svix-timestamp"],
        "webhook-signature": signed["svix-signature"],
      }
    : { ...signed };
  return new Request(WEBHOOK_URL, {
    method: options.method ?? "POST",
    headers: { "content-type": "application/json", ...headers, ...options.headers },
    body: typeof raw === "string" ? raw : Buffer.from(raw),
  });
}
