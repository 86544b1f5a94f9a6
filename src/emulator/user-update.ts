import type { z } from "zod";
import { StackHttpError, statusError } from "./errors";
import { normalizeEmail, primaryChannel, type updateUserSchema, type UserRecord } from "./user-model";

/** A validated PATCH body. */
export type UpdateData = z.output<typeof updateUserSchema>;

export interface UpdateContext {
  now: number;
  /** Stack's `checkAuthData`: throws when a sign-in email would belong to two users. */
  checkAuth(email: string | null, verified: boolean, authEnabled: boolean, oldEmail: string | null): void;
}

const refuse = (message: string): never => {
  throw new StackHttpError(statusError(400, message));
};

/**
 * `onUpdate` of apps/backend/src/app/api/latest/users/crud.tsx, on a copy: the record after the PATCH, in
 * Stack's order of steps. Throws a `StackHttpError` (and changes nothing) where Stack refuses.
 */
export function patchedRecord(old: UserRecord, data: UpdateData, context: UpdateContext): UserRecord {
  const next = structuredClone(old);
  patchPrimaryEmail(old, next, data, context);
  patchAuthMethods(next, data);
  // Upgrading an anonymous user is its real sign-up: Stack moves signedUpAt to now.
  if (old.isAnonymous && data.is_anonymous === false) next.signedUpAtMillis = context.now;
  if (data.is_anonymous !== undefined) next.isAnonymous = data.is_anonymous;
  patchRestriction(next, data);
  if (data.display_name !== undefined) next.displayName = data.display_name || null;
  if (data.profile_image_url !== undefined) next.profileImageUrl = data.profile_image_url;
  if (data.client_metadata !== undefined) next.clientMetadata = data.client_metadata;
  if (data.client_read_only_metadata !== undefined)
    next.clientReadOnlyMetadata = data.client_read_only_metadata;
  if (data.server_metadata !== undefined) next.serverMetadata = data.server_metadata;
  if (data.totp_secret_base64 !== undefined) next.requiresTotpMfa = data.totp_secret_base64 !== null;
  if (data.country_code !== undefined) next.countryCode = data.country_code;
  if (data.risk_scores) next.riskScores = { ...data.risk_scores.sign_up };
  if (data.selected_team_id) refuse("The emulator does not model teams.");
  return next;
}

/** A new primary email becomes (or upgrades an existing) contact channel; the old one is demoted, never deleted. */
function patchPrimaryEmail(
  old: UserRecord,
  next: UserRecord,
  data: UpdateData,
  context: UpdateContext,
): void {
  const email =
    data.primary_email === undefined
      ? undefined
      : data.primary_email
        ? normalizeEmail(data.primary_email)
        : null;
  const oldPrimary = primaryChannel(old);
  const removing = email === null;
  const authEnabled = removing ? false : (data.primary_email_auth_enabled ?? !!oldPrimary?.usedForAuth);
  const verified = removing ? false : (data.primary_email_verified ?? !!oldPrimary?.isVerified);
  const effective = email !== undefined ? email : (oldPrimary?.value ?? null);
  context.checkAuth(effective, verified, authEnabled, oldPrimary?.value ?? null);

  if (email !== undefined) {
    const existing = email === null ? undefined : next.contactChannels.find((c) => c.value === email);
    for (const c of next.contactChannels) c.isPrimary = false;
    if (existing) {
      Object.assign(existing, { isPrimary: true, usedForAuth: authEnabled });
      if (data.primary_email_verified !== undefined) existing.isVerified = data.primary_email_verified;
    } else if (email !== null) {
      const isVerified = data.primary_email_verified ?? false;
      next.contactChannels.push({ value: email, isVerified, isPrimary: true, usedForAuth: authEnabled });
    }
    return;
  }
  const primary = primaryChannel(next);
  if (!primary) return;
  if (data.primary_email_verified !== undefined) primary.isVerified = data.primary_email_verified;
  if (data.primary_email_auth_enabled !== undefined) primary.usedForAuth = authEnabled;
}

function patchAuthMethods(next: UserRecord, data: UpdateData): void {
  if (data.otp_auth_enabled !== undefined) next.otpAuthEnabled = data.otp_auth_enabled;
  if (data.passkey_auth_enabled === true) {
    refuse("Cannot manually enable passkey auth, it is enabled iff there is a passkey auth method");
  }
  if (data.passkey_auth_enabled === false) next.passkeyAuthEnabled = false;
  const password = data.password !== undefined ? data.password : data.password_hash;
  if (password === undefined) return;
  if (password !== null && !primaryChannel(next)) refuse("password is set but primary_email is not set");
  next.hasPassword = password !== null;
}

function patchRestriction(next: UserRecord, data: UpdateData): void {
  next.restrictedByAdmin = data.restricted_by_admin ?? next.restrictedByAdmin;
  checkRestriction(
    next.restrictedByAdmin,
    data.restricted_by_admin_reason,
    data.restricted_by_admin_private_details,
  );
  if (!next.restrictedByAdmin) {
    next.restrictedByAdminReason = null;
    next.restrictedByAdminPrivateDetails = null;
    return;
  }
  if (data.restricted_by_admin_reason !== undefined) {
    next.restrictedByAdminReason = data.restricted_by_admin_reason || null;
  }
  if (data.restricted_by_admin_private_details !== undefined) {
    next.restrictedByAdminPrivateDetails = data.restricted_by_admin_private_details || null;
  }
}

/** A reason or private details only come with `restricted_by_admin: true`. */
export function checkRestriction(
  restricted: boolean,
  reason: string | null | undefined,
  details: string | null | undefined,
): void {
  if (restricted) return;
  if (reason != null) refuse("restricted_by_admin_reason requires restricted_by_admin=true");
  if (details != null) refuse("restricted_by_admin_private_details requires restricted_by_admin=true");
}
