import type { StackUser } from "../stack";
import type { DesiredUser, StoredUser } from "./store";

export const PLANS = ["FREE", "PRO", "ENTERPRISE"] as const;
export type Plan = (typeof PLANS)[number];

/** Domain of the stand-in email of users without one. `.invalid` can never be delivered (RFC 2606). */
export const PLACEHOLDER_EMAIL_DOMAIN = "stack-user.invalid";

/** The email a user is stored with: trimmed, lower-cased, or the placeholder when there is none. */
export function storedEmail(userId: string, primaryEmail: string | null): string {
  const email = primaryEmail?.trim().toLowerCase();
  return email ? email : placeholderEmail(userId);
}

export function placeholderEmail(userId: string): string {
  return `${userId}@${PLACEHOLDER_EMAIL_DOMAIN}`;
}

/** `server_metadata.plan` when it is one of the enum's values; undefined otherwise. */
export function planOf(serverMetadata: unknown): Plan | undefined {
  if (typeof serverMetadata !== "object" || serverMetadata === null) return undefined;
  const plan: unknown = (serverMetadata as Record<string, unknown>).plan;
  return PLANS.find((p) => p === plan);
}

/** The state the tables should hold for a Stack user snapshot. */
export function desiredUser(user: StackUser): DesiredUser {
  return {
    id: user.id,
    email: storedEmail(user.id, user.primary_email),
    // Stack sends an empty display name as null; treat a stray "" the same way.
    displayName: user.display_name === "" ? null : user.display_name,
    avatar: user.profile_image_url === "" ? null : user.profile_image_url,
    plan: planOf(user.server_metadata),
  };
}

/**
 * The fields of `desired` that differ from `stored`, or null when none do: email, display name and avatar
 * follow the snapshot; the plan only moves to a valid value.
 */
export function userDifferences(
  stored: StoredUser,
  desired: DesiredUser,
): Partial<Omit<DesiredUser, "id">> | null {
  const diff: Partial<Omit<DesiredUser, "id">> = {};
  if (stored.email !== desired.email) diff.email = desired.email;
  if (stored.displayName !== desired.displayName) diff.displayName = desired.displayName;
  if (stored.avatar !== desired.avatar) diff.avatar = desired.avatar;
  if (desired.plan !== undefined && stored.plan !== desired.plan) diff.plan = desired.plan;
  return Object.keys(diff).length > 0 ? diff : null;
}
