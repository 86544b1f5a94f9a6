import type { Random } from "../../src/emulator/random";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import type { StackUser } from "../../src/stack/index";
import { signPayload } from "../../src/webhooks/verify";
import { stackUser, TEST_SECRET } from "./fixtures";

/** `FULL=1` runs the long forms of the reliability scenarios; CI runs reduced forms of the same checks. */
export const FULL = process.env.FULL === "1";

/** The CI value or the FULL value of a knob. */
export function scaled<T>(ci: T, full: T): T {
  return FULL ? full : ci;
}

export const WEBHOOK_PATH = "/api/webhooks/stack/user/sync";

// ---------------------------------------------------------------------------------------------------------
// Randomness: seeded, so that a failing run can be repeated with RELIABILITY_SEED.

export { seededRandom, type Random } from "../../src/emulator/random";

/** RELIABILITY_SEED when set, else a fresh seed; printed by the caller so a failure can be replayed. */
export function runSeed(): number {
  const given = Number(process.env.RELIABILITY_SEED);
  return Number.isInteger(given) && given > 0 ? given : Math.floor(Math.random() * 2 ** 31) + 1;
}

export function pickOne<T>(random: Random, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error("pickOne of an empty list");
  return item;
}

export function shuffle<T>(random: Random, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Stack-side timelines: what Stack Auth would send for each user, in Stack's order.

export type Plan = "FREE" | "PRO" | "ENTERPRISE";
const PLANS: readonly Plan[] = ["FREE", "PRO", "ENTERPRISE"];

/** One delivery as Svix sends it: a message id and a body (signed at send time, as each attempt is). */
export interface Delivery {
  svixId: string;
  body: string;
  userId: string;
  /** The user state this event carries; null for a deletion. */
  snapshot: StackUser | null;
}

export interface UserTimeline {
  userId: string;
  /** Stack's order: a created, then updates, then maybe a deletion. */
  events: Delivery[];
}

export interface TimelineOptions {
  /** Distinguishes the ids and emails of one run from another's on a shared database. */
  tag: string;
  users: number;
  /** Events per user, created included: from min to max. */
  events: [number, number];
  /** Share of users whose last event is a deletion. */
  deleteShare: number;
  /** This many users are all called "John Smith" at every version (username contention). */
  sameName?: number;
  /** Bytes of the data-URL avatar that some snapshots carry (0: only short URLs). */
  bigAvatarBytes?: number;
}

const NAMES = [
  "John Smith",
  "Zoë Ångström",
  "Ada Lovelace",
  "李小龙",
  "admin",
  "O'Brien-Smythe",
  "  spaced  out  ",
  "😀 Emoji Person",
  "x",
  "",
  null,
] as const;

export function buildTimelines(random: Random, options: TimelineOptions): UserTimeline[] {
  const timelines: UserTimeline[] = [];
  for (let i = 0; i < options.users; i++) {
    const base = stackUser();
    const userId = base.id;
    const count = options.events[0] + Math.floor(random() * (options.events[1] - options.events[0] + 1));
    const deleted = random() < options.deleteShare;
    const snapshots = deleted ? count - 1 : count;
    const events: Delivery[] = [];
    for (let v = 0; v < Math.max(1, snapshots); v++) {
      const last = !deleted && v === snapshots - 1;
      const sameName = i < (options.sameName ?? 0);
      const email = emailFor(random, options.tag, i, v);
      const snapshot: StackUser = {
        ...base,
        primary_email: email,
        display_name: sameName ? "John Smith" : pickOne(random, NAMES),
        profile_image_url: avatarFor(random, options, i, v),
        // The last snapshot always carries a valid plan; the others may carry none, or a bad one.
        server_metadata:
          last || random() < 0.6
            ? { plan: pickOne(random, PLANS) }
            : pickOne(random, [null, { plan: "GOLD" }, {}]),
      };
      events.push({
        svixId: svixIdFor(options.tag, i, v),
        body: JSON.stringify({ type: v === 0 ? "user.created" : "user.updated", data: snapshot }),
        userId,
        snapshot,
      });
    }
    if (deleted) {
      events.push({
        svixId: svixIdFor(options.tag, i, events.length),
        body: JSON.stringify({ type: "user.deleted", data: { id: userId, teams: [] } }),
        userId,
        snapshot: null,
      });
    }
    timelines.push({ userId, events });
  }
  return timelines;
}

function svixIdFor(tag: string, user: number, version: number): string {
  return `msg_${tag}_${user}_${version}_${Math.random().toString(36).slice(2, 10)}`;
}

/** Unique to the user (so no two users ever claim one email), in varied shapes, sometimes absent. */
function emailFor(random: Random, tag: string, user: number, version: number): string | null {
  const r = random();
  if (r < 0.05) return null;
  const local = `rel-${tag}-u${user}-v${version}`;
  if (r < 0.15) return `  ${local.toUpperCase()}@Example.COM `;
  return `${local}@example.com`;
}

function avatarFor(random: Random, options: TimelineOptions, user: number, version: number): string | null {
  const r = random();
  if (r < 0.3) return null;
  if (options.bigAvatarBytes && r < 0.5) {
    return `data:image/png;base64,${Buffer.alloc(Math.floor((options.bigAvatarBytes * 3) / 4), user + version).toString("base64")}`;
  }
  return `https://example.com/avatars/${options.tag}/${user}/${version}.png`;
}

// ---------------------------------------------------------------------------------------------------------
// The expected tables: SPEC §4 restated independently of src/ (a test must not share the code it checks).

export interface Row {
  email: string;
  displayName: string | null;
  avatar: string | null;
  plan: Plan;
}

export type UserState = { kind: "absent" } | { kind: "deleted" } | { kind: "live"; row: Row };

/** The state of a user after `applied` deliveries took effect, in that order (each svix-id once). */
export function fold(applied: readonly Delivery[]): UserState {
  let state: UserState = { kind: "absent" };
  const seen = new Set<string>();
  for (const delivery of applied) {
    if (seen.has(delivery.svixId)) continue;
    seen.add(delivery.svixId);
    if (state.kind === "deleted") continue;
    if (!delivery.snapshot) {
      state = { kind: "deleted" };
      continue;
    }
    const user = delivery.snapshot;
    const email = user.primary_email?.trim().toLowerCase();
    const metaPlan = (user.server_metadata as { plan?: unknown } | null | undefined)?.plan;
    const validPlan = PLANS.find((p) => p === metaPlan);
    state = {
      kind: "live",
      row: {
        email: email ? email : `${user.id}@stack-user.invalid`,
        displayName: user.display_name === "" ? null : user.display_name,
        avatar: user.profile_image_url === "" ? null : user.profile_image_url,
        plan: validPlan ?? (state.kind === "live" ? state.row.plan : "FREE"),
      },
    };
  }
  return state;
}

// ---------------------------------------------------------------------------------------------------------
// What the tables hold, read with a connection of its own (the test's view must not depend on the app's pool).

export interface DbState {
  users: Map<string, Row & { username: string | null }>;
  usersWithoutProfile: string[];
  orphanProfiles: number;
  tombstones: Set<string>;
  events: Map<string, string>;
}

export async function readDbState(url: string): Promise<DbState> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const users = await client.query<{
      id: string;
      email: string;
      username: string | null;
      display_name: string | null;
      avatar: string | null;
      plan: Plan | null;
    }>(
      `SELECT u.id, u.email, p.username, p.display_name, p.avatar, p.plan::text AS plan
         FROM users u LEFT JOIN profiles p ON p.user_id = u.id`,
    );
    const orphans = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM profiles p LEFT JOIN users u ON u.id = p.user_id WHERE u.id IS NULL`,
    );
    const tombstones = await client.query<{ user_id: string }>(`SELECT user_id FROM user_tombstones`);
    const events = await client.query<{ svix_id: string; outcome: string }>(
      `SELECT svix_id, outcome::text AS outcome FROM webhook_events`,
    );
    const state: DbState = {
      users: new Map(),
      usersWithoutProfile: [],
      orphanProfiles: Number(orphans.rows[0]?.n ?? 0),
      tombstones: new Set(tombstones.rows.map((r) => r.user_id)),
      events: new Map(events.rows.map((r) => [r.svix_id, r.outcome])),
    };
    for (const u of users.rows) {
      if (u.username === null || u.plan === null) state.usersWithoutProfile.push(u.id);
      state.users.set(u.id, {
        email: u.email,
        displayName: u.display_name,
        avatar: u.avatar,
        plan: u.plan ?? "FREE",
        username: u.username,
      });
    }
    return state;
  } finally {
    await client.end();
  }
}

/** What the tables hold for one user, in the terms of `UserState`. */
export function stateOf(db: DbState, userId: string): UserState {
  const user = db.users.get(userId);
  if (user) {
    const { username: _username, ...row } = user;
    return { kind: "live", row };
  }
  return db.tombstones.has(userId) ? { kind: "deleted" } : { kind: "absent" };
}

export function sameState(a: UserState, b: UserState): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind !== "live" || b.kind !== "live") return true;
  return (
    a.row.email === b.row.email &&
    a.row.displayName === b.row.displayName &&
    a.row.avatar === b.row.avatar &&
    a.row.plan === b.row.plan
  );
}

/** A short printable form of a state, for failure messages (avatars cut). */
export function describeState(state: UserState): string {
  if (state.kind !== "live") return state.kind;
  const { avatar, ...rest } = state.row;
  return JSON.stringify({
    ...rest,
    avatar: avatar && avatar.length > 60 ? `${avatar.slice(0, 40)}…(${avatar.length})` : avatar,
  });
}

/** Users whose rows differ from what was expected, with both sides; empty when the tables are right. */
export function differences(db: DbState, expected: Map<string, UserState>): string[] {
  const out: string[] = [];
  for (const [userId, want] of expected) {
    const got = stateOf(db, userId);
    if (!sameState(got, want))
      out.push(`${userId}: expected ${describeState(want)}, found ${describeState(got)}`);
  }
  for (const userId of db.users.keys()) {
    if (!expected.has(userId)) out.push(`${userId}: unexpected user row`);
  }
  for (const userId of db.usersWithoutProfile) out.push(`${userId}: user without profile`);
  if (db.orphanProfiles > 0) out.push(`${db.orphanProfiles} profiles without user`);
  for (const user of db.users.values()) {
    if (user.username !== null && !/^[a-z0-9_]{1,24}$/.test(user.username))
      out.push(`bad username ${user.username}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Sending over HTTP, as Svix does: each attempt signed with the time of the attempt.

export type Answer =
  | { kind: "http"; status: number; code: string | null; retryAfter: string | null }
  | { kind: "network"; error: string };

export function signedHeaders(delivery: Delivery, secret: string = TEST_SECRET): Record<string, string> {
  return {
    "content-type": "application/json",
    ...signPayload(secret, delivery.svixId, Math.floor(Date.now() / 1000), delivery.body),
  };
}

/** One attempt; never throws. `code` is the body's `status`, or its `error.code`. */
export async function deliver(
  baseUrl: string,
  delivery: Delivery,
  secret: string = TEST_SECRET,
): Promise<Answer> {
  try {
    const res = await fetch(`${baseUrl}${WEBHOOK_PATH}`, {
      method: "POST",
      headers: signedHeaders(delivery, secret),
      body: delivery.body,
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    return {
      kind: "http",
      status: res.status,
      code: codeOf(text),
      retryAfter: res.headers.get("retry-after"),
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } }).cause;
    return { kind: "network", error: String(cause?.code ?? (error as Error).name ?? error) };
  }
}

function codeOf(text: string): string | null {
  try {
    const json = JSON.parse(text) as { status?: unknown; error?: { code?: unknown } };
    const code = json.status ?? json.error?.code;
    return typeof code === "string" ? code : null;
  } catch {
    return null;
  }
}

/** A 503 as SPEC §3 has it: code `unavailable` and a `Retry-After`. */
export function isProperUnavailable(answer: Answer): boolean {
  return (
    answer.kind === "http" &&
    answer.status === 503 &&
    answer.code === "unavailable" &&
    answer.retryAfter !== null &&
    /^\d+$/.test(answer.retryAfter)
  );
}

export function isSuccess(answer: Answer): boolean {
  return answer.kind === "http" && answer.status === 200;
}

export function describeAnswer(answer: Answer): string {
  return answer.kind === "http"
    ? `${answer.status} ${answer.code ?? "?"}${answer.retryAfter ? ` retry-after=${answer.retryAfter}` : ""}`
    : `network error ${answer.error}`;
}

// ---------------------------------------------------------------------------------------------------------
// Small utilities.

/** Runs `worker` `concurrency` times in parallel; each one pulls work until it returns false. */
export async function workers(concurrency: number, worker: (index: number) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
}

/** Resident memory of a process in KiB, from /proc; null when it has gone. */
export function rssKiB(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Keeps the figures of a run in test-results/reliability/NAME.json (for RELIABILITY.md) and prints them. */
export function recordFigures(name: string, figures: Record<string, unknown>): void {
  const dir = join(import.meta.dirname, "..", "..", "test-results", "reliability");
  mkdirSync(dir, { recursive: true });
  const record = { scenario: name, mode: FULL ? "full" : "ci", at: new Date().toISOString(), ...figures };
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
  console.log(`[reliability] ${name}: ${JSON.stringify(record)}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
