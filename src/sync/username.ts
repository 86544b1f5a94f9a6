import anyAscii from "any-ascii";

/** Longest username, suffix included. */
export const USERNAME_MAX_LENGTH = 24;
/** A source must give this many usable characters to be used. */
const MIN_USABLE = 3;
const FALLBACK = "user";

/** Never used bare: they read as the app's own pages or staff. A numeric suffix is always added. */
export const RESERVED_USERNAMES: ReadonlySet<string> = new Set([
  "admin",
  "administrator",
  "root",
  "api",
  "support",
  "system",
  "null",
  "undefined",
  "me",
  "settings",
  "www",
  "stack",
  "help",
  "info",
  "mail",
  "email",
  "login",
  "logout",
  "signin",
  "signup",
  "register",
  "auth",
  "account",
  "accounts",
  "profile",
  "profiles",
  "user",
  "users",
  "staff",
  "moderator",
  "mod",
  "owner",
  "billing",
  "security",
  "status",
  "official",
  "anonymous",
  "guest",
  "test",
  "webhook",
  "webhooks",
]);

/** Folds text to `[a-z0-9_]`: Unicode to ASCII (é → e), lower case, runs of `_` collapsed, trimmed of `_`. */
export function foldUsername(text: string): string {
  // Emoji would fold to their names (":smile:"), which nobody chose as a name.
  const withoutPictographs = text.replace(/\p{Extended_Pictographic}/gu, " ");
  return anyAscii(withoutPictographs)
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/_+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, USERNAME_MAX_LENGTH)
    .replace(/_+$/, "");
}

/**
 * The username a user would get without clashes: from the display name when it gives at least three usable
 * characters, else from the email's local part (same rule), else `user`.
 * `email` must be the user's real email, never the placeholder.
 */
export function usernameBase(displayName: string | null, email: string | null): string {
  for (const source of [displayName, email?.split("@")[0] ?? null]) {
    if (!source) continue;
    const folded = foldUsername(source);
    if (folded.replace(/_/g, "").length >= MIN_USABLE) return folded;
  }
  return FALLBACK;
}

/** The n-th candidate for a base: the base itself for 0 (unless reserved), else the base cut to fit + n. */
export function usernameCandidate(base: string, n: number): string {
  if (n === 0) return base;
  const suffix = String(n);
  return base.slice(0, USERNAME_MAX_LENGTH - suffix.length).replace(/_+$/, "") + suffix;
}

/**
 * The candidates of a base in the order they are tried, `count` of them from position `from`: the base
 * itself first (unless it is reserved), then base1, base2, … cut to fit. Looked up a batch at a time
 * with one indexed query.
 */
export function usernameCandidates(base: string, from: number, count: number): string[] {
  // Cutting a long base to fit a suffix can repeat a string ("…1b" + 1 and "…" + 11; "…9" + 9 is the base):
  // each string is offered once, at its first position.
  const offered = new Set<string>(RESERVED_USERNAMES.has(base) ? [base] : []);
  const candidates: string[] = [];
  for (let n = 0, position = 0; candidates.length < count; n++) {
    const candidate = usernameCandidate(base, n);
    if (offered.has(candidate)) continue;
    offered.add(candidate);
    if (position++ >= from) candidates.push(candidate);
  }
  return candidates;
}
