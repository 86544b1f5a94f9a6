import { z } from "zod";

/** A string PostgreSQL can store: Stack's own database cannot hold NUL characters either. */
const text = () => z.string().refine((s) => !s.includes("\u0000"), { error: "must not contain NUL" });

/**
 * Stack Auth's user object (`usersCrudServerReadSchema`), as sent in `user.created`/`user.updated` and
 * returned by `GET /api/v1/users/{id}`. Lenient: unknown keys pass (Stack adds fields over time), and the
 * fields the sync does not use may be absent.
 */
export const stackUserSchema = z.looseObject({
  id: text().min(1).max(255),
  // RFC 5321 caps an address at 254 characters; a longer one could never fit the unique index either.
  primary_email: text().max(254).nullable(),
  primary_email_verified: z.boolean().optional(),
  primary_email_auth_enabled: z.boolean().optional(),
  display_name: text().max(1024).nullable(),
  // Up to 1,000,000 characters: a base64 data URL is allowed.
  profile_image_url: text().max(1_000_000).nullable(),
  signed_up_at_millis: z.number().optional(),
  last_active_at_millis: z.number().optional(),
  client_metadata: z.unknown().optional(),
  client_read_only_metadata: z.unknown().optional(),
  server_metadata: z.unknown().optional(),
  selected_team_id: z.string().nullable().optional(),
  selected_team: z.looseObject({ id: z.string() }).nullable().optional(),
  is_anonymous: z.boolean().default(false),
  is_restricted: z.boolean().optional(),
  restricted_by_admin: z.boolean().optional(),
  restricted_reason: z.looseObject({ type: z.string() }).nullable().optional(),
  restricted_by_admin_reason: z.string().nullable().optional(),
  restricted_by_admin_private_details: z.string().nullable().optional(),
  country_code: z.string().nullable().optional(),
  has_password: z.boolean().optional(),
  otp_auth_enabled: z.boolean().optional(),
  passkey_auth_enabled: z.boolean().optional(),
  auth_with_email: z.boolean().optional(),
  requires_totp_mfa: z.boolean().optional(),
  oauth_providers: z
    .array(z.looseObject({ id: z.string(), account_id: z.string(), email: z.string().nullable().optional() }))
    .optional(),
  risk_scores: z.unknown().optional(),
});

export type StackUser = z.output<typeof stackUserSchema>;

/** `user.deleted` carries only the id and the user's teams. */
export const stackDeletedUserSchema = z.looseObject({
  id: text().min(1).max(255),
  teams: z.array(z.looseObject({ id: z.string() })).optional(),
});

export type StackDeletedUser = z.output<typeof stackDeletedUserSchema>;

/** Every webhook body is exactly `{type, data}`; `data`'s shape depends on the type. */
export const webhookEnvelopeSchema = z.looseObject({ type: text().min(1).max(256), data: z.unknown() });

export const USER_EVENT_TYPES = ["user.created", "user.updated", "user.deleted"] as const;
export type UserEventType = (typeof USER_EVENT_TYPES)[number];

export function isUserEventType(type: string): type is UserEventType {
  return (USER_EVENT_TYPES as readonly string[]).includes(type);
}

/** A parsed, validated user event. */
export type UserEvent =
  | { type: "user.created" | "user.updated"; user: StackUser }
  | { type: "user.deleted"; user: StackDeletedUser };
