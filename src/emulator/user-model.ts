import { z } from "zod";

/** One of a user's emails (Stack's `ContactChannel`); the primary one is the user's `primary_email`. */
export interface ContactChannel {
  value: string;
  isVerified: boolean;
  isPrimary: boolean;
  usedForAuth: boolean;
}

export interface OAuthAccount {
  id: string;
  account_id: string;
  email: string | null;
}

/** What the emulator stores for a user: Stack's `ProjectUser` with its contact channels and auth methods. */
export interface UserRecord {
  id: string;
  displayName: string | null;
  profileImageUrl: string | null;
  signedUpAtMillis: number;
  lastActiveAtMillis: number;
  clientMetadata: unknown;
  clientReadOnlyMetadata: unknown;
  serverMetadata: unknown;
  isAnonymous: boolean;
  restrictedByAdmin: boolean;
  restrictedByAdminReason: string | null;
  restrictedByAdminPrivateDetails: string | null;
  countryCode: string | null;
  contactChannels: ContactChannel[];
  hasPassword: boolean;
  otpAuthEnabled: boolean;
  passkeyAuthEnabled: boolean;
  requiresTotpMfa: boolean;
  oauthProviders: OAuthAccount[];
  /** Teams the user belongs to: only their ids, for `user.deleted` and `team_membership.deleted`. */
  teamIds: string[];
  riskScores: { bot: number; free_trial_abuse: number };
}

/** The user object exactly as Stack sends it (`usersCrudServerReadSchema`): every key, in the example's order. */
export type EmulatedUser = {
  auth_with_email: boolean;
  client_metadata: unknown;
  client_read_only_metadata: unknown;
  country_code: string | null;
  display_name: string | null;
  has_password: boolean;
  id: string;
  is_anonymous: boolean;
  is_restricted: boolean;
  last_active_at_millis: number;
  oauth_providers: OAuthAccount[];
  otp_auth_enabled: boolean;
  passkey_auth_enabled: boolean;
  primary_email: string | null;
  primary_email_auth_enabled: boolean;
  primary_email_verified: boolean;
  profile_image_url: string | null;
  requires_totp_mfa: boolean;
  restricted_by_admin: boolean;
  restricted_by_admin_private_details: string | null;
  restricted_by_admin_reason: string | null;
  restricted_reason: { type: string } | null;
  risk_scores: { sign_up: { bot: number; free_trial_abuse: number } };
  selected_team: null;
  selected_team_id: null;
  server_metadata: unknown;
  signed_up_at_millis: number;
};

export interface ProjectSettings {
  /** Stack's `onboarding.requireEmailVerification`: users with an unverified primary email are restricted. */
  requireEmailVerification: boolean;
}

export function primaryChannel(record: UserRecord): ContactChannel | undefined {
  return record.contactChannels.find((c) => c.isPrimary);
}

/** `computeRestrictedStatus` of apps/backend/src/app/api/latest/users/crud.tsx, in the same order. */
export function restrictedStatus(record: UserRecord, settings: ProjectSettings): { type: string } | null {
  if (record.isAnonymous) return { type: "anonymous" };
  if (settings.requireEmailVerification && !primaryChannel(record)?.isVerified)
    return { type: "email_not_verified" };
  if (record.restrictedByAdmin) return { type: "restricted_by_administrator" };
  return null;
}

/** `userPrismaToCrud`: the record as the API and webhooks show it. Copies, so callers cannot change the store. */
export function toStackUser(record: UserRecord, settings: ProjectSettings): EmulatedUser {
  const primary = primaryChannel(record);
  const restricted = restrictedStatus(record, settings);
  return {
    auth_with_email: record.hasPassword || record.otpAuthEnabled,
    client_metadata: structuredClone(record.clientMetadata),
    client_read_only_metadata: structuredClone(record.clientReadOnlyMetadata),
    country_code: record.countryCode,
    display_name: record.displayName || null,
    has_password: record.hasPassword,
    id: record.id,
    is_anonymous: record.isAnonymous,
    is_restricted: restricted !== null,
    last_active_at_millis: record.lastActiveAtMillis,
    oauth_providers: record.oauthProviders.map((a) => ({ ...a })),
    otp_auth_enabled: record.otpAuthEnabled,
    passkey_auth_enabled: record.passkeyAuthEnabled,
    primary_email: primary?.value || null,
    primary_email_auth_enabled: !!primary?.usedForAuth,
    primary_email_verified: !!primary?.isVerified,
    profile_image_url: record.profileImageUrl,
    requires_totp_mfa: record.requiresTotpMfa,
    restricted_by_admin: record.restrictedByAdmin,
    restricted_by_admin_private_details: record.restrictedByAdminPrivateDetails,
    restricted_by_admin_reason: record.restrictedByAdminReason,
    restricted_reason: restricted,
    risk_scores: { sign_up: { ...record.riskScores } },
    selected_team: null,
    selected_team_id: null,
    server_metadata: structuredClone(record.serverMetadata),
    signed_up_at_millis: record.signedUpAtMillis,
  };
}

const email = z
  .string()
  .max(1024)
  .regex(/^[^\s@]+@[^\s@]+$/, { error: "must be a valid email" });
const metadata = z.json().nullable().optional();

/** The body of `POST /api/v1/users` (server access), the fields the emulator models; unknown keys are refused as Stack does. */
export const createUserSchema = z.strictObject({
  display_name: z.string().max(256).nullable().optional(),
  primary_email: email.nullable().optional(),
  primary_email_verified: z.boolean().optional(),
  primary_email_auth_enabled: z.boolean().optional(),
  password: z.string().min(1).max(70).nullable().optional(),
  password_hash: z.string().optional(),
  otp_auth_enabled: z.boolean().optional(),
  totp_secret_base64: z.string().nullable().optional(),
  profile_image_url: z.string().max(1_000_000).nullable().optional(),
  client_metadata: metadata,
  client_read_only_metadata: metadata,
  server_metadata: metadata,
  is_anonymous: z.boolean().optional(),
  restricted_by_admin: z.boolean().optional(),
  restricted_by_admin_reason: z.string().nullable().optional(),
  restricted_by_admin_private_details: z.string().nullable().optional(),
  country_code: z.string().nullable().optional(),
  oauth_providers: z
    .array(z.strictObject({ id: z.string(), account_id: z.string(), email: email.nullable().optional() }))
    .optional(),
  risk_scores: z
    .strictObject({ sign_up: z.strictObject({ bot: z.number(), free_trial_abuse: z.number() }) })
    .optional(),
});

/** The body of `PATCH /api/v1/users/{id}` (server access). */
export const updateUserSchema = createUserSchema.omit({ oauth_providers: true }).extend({
  passkey_auth_enabled: z.boolean().optional(),
  selected_team_id: z.string().nullable().optional(),
});

export type CreateUserInput = z.input<typeof createUserSchema>;
export type UpdateUserInput = z.input<typeof updateUserSchema>;

/** Stack lower-cases emails (`normalizeEmail`). */
export function normalizeEmail(value: string): string {
  return value.trim().toLowerCase();
}
