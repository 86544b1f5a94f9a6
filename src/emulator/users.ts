import type { CreateExtras, UserDirectory } from "./directory";
import {
  toStackUser,
  type CreateUserInput,
  type EmulatedUser,
  type OAuthAccount,
  type UpdateUserInput,
  type UserRecord,
} from "./user-model";
import type { WebhookSender } from "./webhooks";

/** `notify: false` makes a change whose webhook is lost, as when Stack's call to Svix fails. */
export interface NotifyOption {
  notify?: boolean;
}

/** What an anonymous user gives when signing up for real. */
export interface UpgradeInput {
  primary_email: string;
  display_name?: string | null;
  primary_email_verified?: boolean;
  password?: string;
}

/**
 * The emulator's users, changed the ways Stack changes them: through the server API (with webhooks), and
 * through the flows that send none (email verification, contact channels, OAuth linking, passwords, activity).
 */
export interface EmulatorUsers {
  readonly count: number;
  get(id: string): EmulatedUser | null;
  /** Every user, in the API's list order (signed_up_at, then id), anonymous and restricted ones included. */
  list(): EmulatedUser[];
  /** `POST /api/v1/users`: sends `user.created`. */
  create(input?: CreateUserInput, options?: NotifyOption & CreateExtras): EmulatedUser;
  /** `PATCH /api/v1/users/{id}`: sends `user.updated`. */
  update(id: string, input: UpdateUserInput, options?: NotifyOption): EmulatedUser;
  /** `DELETE /api/v1/users/{id}`: sends `user.deleted` ({id, teams}) and one `team_membership.deleted` per team. */
  delete(id: string, options?: NotifyOption): void;
  /** Anonymous sign-up: `user.created` with `is_anonymous: true`. */
  signUpAnonymous(options?: NotifyOption & CreateExtras): EmulatedUser;
  /** Anonymous → real user: `user.updated` with `is_anonymous: false`, and no `user.created`. */
  upgradeAnonymous(id: string, input: UpgradeInput, options?: NotifyOption): EmulatedUser;
  /** No webhook. */
  verifyEmail(id: string): EmulatedUser;
  /** No webhook. */
  addContactChannel(
    id: string,
    email: string,
    options?: { isPrimary?: boolean; isVerified?: boolean },
  ): EmulatedUser;
  /** Changes the primary email through a contact channel. No webhook: only reconcile or the next event catches it. */
  setPrimaryEmail(id: string, email: string, options?: { isVerified?: boolean }): EmulatedUser;
  /** No webhook. */
  linkOAuth(id: string, account: OAuthAccount): EmulatedUser;
  /** No webhook. */
  setPassword(id: string): EmulatedUser;
  /** `last_active_at` moves; no webhook. */
  touch(id: string): EmulatedUser;
}

/** The users API over a directory, emitting Stack's webhooks where Stack emits them. */
export function usersApi(directory: UserDirectory, sender: WebhookSender): EmulatorUsers {
  const view = (record: UserRecord) => toStackUser(record, directory.settings);
  const send = (options: NotifyOption | undefined, type: string, data: unknown, userId: string) => {
    if (options?.notify !== false) sender.emit(type, data, userId);
  };
  return {
    get count() {
      return directory.size;
    },
    get: (id) => {
      const record = directory.get(id);
      return record ? view(record) : null;
    },
    list: () => directory.sorted().map(view),
    create(input = {}, options = {}) {
      const user = view(directory.create(input, options));
      send(options, "user.created", user, user.id);
      return user;
    },
    update(id, input, options) {
      const user = view(directory.update(id, input));
      send(options, "user.updated", user, id);
      return user;
    },
    delete(id, options) {
      const record = directory.remove(id);
      send(options, "user.deleted", { id, teams: record.teamIds.map((teamId) => ({ id: teamId })) }, id);
      for (const teamId of record.teamIds)
        send(options, "team_membership.deleted", { team_id: teamId, user_id: id }, id);
    },
    signUpAnonymous(options = {}) {
      const user = view(directory.create({ is_anonymous: true }, options));
      send(options, "user.created", user, user.id);
      return user;
    },
    upgradeAnonymous(id, input, options) {
      const user = view(
        directory.update(id, {
          is_anonymous: false,
          primary_email: input.primary_email,
          primary_email_auth_enabled: true,
          ...(input.display_name !== undefined && { display_name: input.display_name }),
          ...(input.primary_email_verified !== undefined && {
            primary_email_verified: input.primary_email_verified,
          }),
          ...(input.password !== undefined && { password: input.password }),
        }),
      );
      send(options, "user.updated", user, id);
      return user;
    },
    verifyEmail: (id) => view(directory.verifyEmail(id)),
    addContactChannel: (id, email, options) => view(directory.addContactChannel(id, email, options)),
    setPrimaryEmail: (id, email, options) => view(directory.setPrimaryEmail(id, email, options)),
    linkOAuth: (id, account) => view(directory.linkOAuth(id, account)),
    setPassword: (id) => view(directory.setPassword(id)),
    touch: (id) => view(directory.touch(id)),
  };
}
