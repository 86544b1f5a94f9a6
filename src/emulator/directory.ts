import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { KnownErrors, StackHttpError, statusError } from "./errors";
import {
  createUserSchema,
  normalizeEmail,
  primaryChannel,
  updateUserSchema,
  type CreateUserInput,
  type OAuthAccount,
  type ProjectSettings,
  type UpdateUserInput,
  type UserRecord,
} from "./user-model";
import { formatIssues } from "./list-query";
import { checkRestriction, patchedRecord } from "./user-update";

/** Emulator-only choices at creation, which Stack makes itself (id, sign-up time) or through other routes (teams). */
export interface CreateExtras {
  id?: string;
  signedUpAtMillis?: number;
  teamIds?: string[];
}

/**
 * The project's users and the rules Stack applies when they change (apps/backend/.../users/crud.tsx).
 * Every method validates first and changes nothing when it throws a `StackHttpError`.
 */
export class UserDirectory {
  private readonly records = new Map<string, UserRecord>();
  /** Emails used for sign-in, which Stack keeps unique across users: email → user id, and user id → emails. */
  private readonly authEmails = new Map<string, string>();
  private readonly authEmailsOf = new Map<string, string[]>();
  private order: UserRecord[] | null = null;

  constructor(
    readonly settings: ProjectSettings,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.records.size;
  }

  get(id: string): UserRecord | undefined {
    return this.records.get(id);
  }

  /** Every user in Stack's list order: `signed_up_at`, then id. */
  sorted(): readonly UserRecord[] {
    this.order ??= [...this.records.values()].sort(
      (a, b) => a.signedUpAtMillis - b.signedUpAtMillis || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    return this.order;
  }

  create(input: CreateUserInput, extras: CreateExtras = {}): UserRecord {
    const data = parse(createUserSchema, input, "POST /api/v1/users");
    const id = extras.id ?? randomUUID();
    if (this.records.has(id)) throw new StackHttpError(statusError(409, `User ${id} already exists.`));
    const email = data.primary_email ? normalizeEmail(data.primary_email) : null;
    this.checkAuthData(id, email, !!data.primary_email_verified, !!data.primary_email_auth_enabled, null);
    const restrictedByAdmin = data.restricted_by_admin ?? false;
    checkRestriction(
      restrictedByAdmin,
      data.restricted_by_admin_reason,
      data.restricted_by_admin_private_details,
    );
    const now = this.now();
    const record: UserRecord = {
      id,
      displayName: data.display_name || null,
      profileImageUrl: data.profile_image_url ?? null,
      signedUpAtMillis: extras.signedUpAtMillis ?? now,
      lastActiveAtMillis: now,
      clientMetadata: data.client_metadata ?? null,
      clientReadOnlyMetadata: data.client_read_only_metadata ?? null,
      serverMetadata: data.server_metadata ?? null,
      isAnonymous: data.is_anonymous ?? false,
      restrictedByAdmin,
      restrictedByAdminReason: data.restricted_by_admin_reason || null,
      restrictedByAdminPrivateDetails: data.restricted_by_admin_private_details || null,
      countryCode: data.country_code ?? null,
      contactChannels: email
        ? [
            {
              value: email,
              isVerified: !!data.primary_email_verified,
              isPrimary: true,
              usedForAuth: !!data.primary_email_auth_enabled,
            },
          ]
        : [],
      hasPassword: !!(data.password || data.password_hash),
      otpAuthEnabled: !!data.otp_auth_enabled,
      passkeyAuthEnabled: false,
      requiresTotpMfa: !!data.totp_secret_base64,
      oauthProviders: (data.oauth_providers ?? []).map((a) => ({
        id: a.id,
        account_id: a.account_id,
        email: a.email ?? null,
      })),
      teamIds: [...(extras.teamIds ?? [])],
      riskScores: {
        bot: data.risk_scores?.sign_up.bot ?? 0,
        free_trial_abuse: data.risk_scores?.sign_up.free_trial_abuse ?? 0,
      },
    };
    this.commit(record);
    return record;
  }

  /** `PATCH /api/v1/users/{id}`: Stack's `onUpdate` rules (see user-update.ts). */
  update(id: string, input: UpdateUserInput): UserRecord {
    const data = parse(updateUserSchema, input, "PATCH /api/v1/users/{user_id}");
    const next = patchedRecord(this.require(id), data, {
      now: this.now(),
      checkAuth: (email, verified, authEnabled, oldEmail) =>
        this.checkAuthData(id, email, verified, authEnabled, oldEmail),
    });
    this.commit(next);
    return next;
  }

  remove(id: string): UserRecord {
    const record = this.require(id);
    this.records.delete(id);
    this.indexAuth(id, null);
    this.order = null;
    return record;
  }

  /** Marks the primary email verified. Stack sends no webhook for this. */
  verifyEmail(id: string): UserRecord {
    return this.change(id, (next) => {
      const primary = primaryChannel(next);
      if (!primary) throw new StackHttpError(statusError(400, "The user has no primary email."));
      primary.isVerified = true;
    });
  }

  /** Adds a contact channel, optionally as the primary email (no webhook, as in Stack). */
  addContactChannel(
    id: string,
    value: string,
    options: { isPrimary?: boolean; isVerified?: boolean } = {},
  ): UserRecord {
    const email = normalizeEmail(value);
    return this.change(id, (next) => {
      let channel = next.contactChannels.find((c) => c.value === email);
      if (!channel) {
        channel = {
          value: email,
          isVerified: options.isVerified ?? false,
          isPrimary: false,
          usedForAuth: false,
        };
        next.contactChannels.push(channel);
      } else if (options.isVerified !== undefined) {
        channel.isVerified = options.isVerified;
      }
      if (options.isPrimary) {
        for (const c of next.contactChannels) c.isPrimary = c === channel;
      }
    });
  }

  /** Makes an email the primary one through its contact channel (created if needed): the email changes with no webhook. */
  setPrimaryEmail(id: string, value: string, options: { isVerified?: boolean } = {}): UserRecord {
    return this.addContactChannel(id, value, { ...options, isPrimary: true });
  }

  linkOAuth(id: string, account: OAuthAccount): UserRecord {
    return this.change(id, (next) => void next.oauthProviders.push({ ...account }));
  }

  setPassword(id: string): UserRecord {
    return this.change(id, (next) => void (next.hasPassword = true));
  }

  touch(id: string): UserRecord {
    return this.change(id, (next) => void (next.lastActiveAtMillis = this.now()));
  }

  private change(id: string, mutate: (next: UserRecord) => void): UserRecord {
    const next = structuredClone(this.require(id));
    mutate(next);
    this.commit(next);
    return next;
  }

  private require(id: string): UserRecord {
    const record = this.records.get(id);
    if (!record) throw new StackHttpError(KnownErrors.userNotFound());
    return record;
  }

  private commit(record: UserRecord): void {
    const old = this.records.get(record.id);
    this.records.set(record.id, record);
    this.indexAuth(record.id, record);
    if (!old || old.signedUpAtMillis !== record.signedUpAtMillis) this.order = null;
    else if (this.order) this.order[this.order.indexOf(old)] = record;
  }

  private indexAuth(id: string, record: UserRecord | null): void {
    for (const email of this.authEmailsOf.get(id) ?? []) this.authEmails.delete(email);
    const emails = (record?.contactChannels ?? []).filter((c) => c.usedForAuth).map((c) => c.value);
    for (const email of emails) this.authEmails.set(email, id);
    if (emails.length > 0) this.authEmailsOf.set(id, emails);
    else this.authEmailsOf.delete(id);
  }

  /** `checkAuthData`: a sign-in email belongs to one user only. */
  private checkAuthData(
    id: string,
    email: string | null,
    verified: boolean,
    authEnabled: boolean,
    oldEmail: string | null,
  ): void {
    if (!email && authEnabled)
      throw new StackHttpError(
        statusError(400, "primary_email_auth_enabled cannot be true without primary_email"),
      );
    if (!email && verified)
      throw new StackHttpError(
        statusError(400, "primary_email_verified cannot be true without primary_email"),
      );
    if (!authEnabled || !email || oldEmail === email) return;
    const owner = this.authEmails.get(email);
    if (owner !== undefined && owner !== id)
      throw new StackHttpError(KnownErrors.userEmailAlreadyExists(email));
  }
}

function parse<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input ?? {});
  if (!result.success)
    throw new StackHttpError(KnownErrors.schemaError(formatIssues(what, "body", result.error.issues)));
  return result.data;
}
