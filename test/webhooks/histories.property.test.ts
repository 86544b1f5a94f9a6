/**
 * A property over random Stack user histories (SPEC §4): each history — a create, updates that change the
 * email, display name, avatar and plan, an optional delete, anonymous users and their upgrade, display
 * names shared between users — becomes deliveries with duplicates (the same svix-id again, and the same event
 * under a new svix-id), shuffled and sent in concurrent batches, through the real handler.
 *
 * Checked after every batch: no orphan profile, no user without profile, unique usernames that never
 * change once assigned, deleted users never back, only the statuses the contract allows. Once each user's
 * last event has been delivered last, the tables must equal Stack's final state exactly; and late replays
 * afterwards change nothing they must not.
 *
 * numRuns: 25 per database, 200 with FULL=1.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../src/emulator/random";
import type { StackUser } from "../../src/stack";
import { usernameBase, usernameCandidates } from "../../src/sync/username";
import { PLANS, planOf, type Plan } from "../../src/sync/user-state";
import { DATABASE_KINDS, openTestDatabase, type TestDatabase } from "../support/databases";
import {
  createdEvent,
  deletedEvent,
  signedRequest,
  stackUser,
  updatedEvent,
  type EventBody,
} from "../support/fixtures";
import { handlerFor } from "../support/harness";

const NUM_RUNS = process.env.FULL === "1" ? 200 : 25;

// ---------------------------------------------------------------------------------------------------------
// Histories

interface Step {
  displayName: string | null;
  avatar: string | null;
  metadata: unknown;
  changeEmail: boolean;
  /** A user without email (some OAuth providers): primary_email null. */
  noEmail: boolean;
  emailStyle: "plain" | "upper" | "spaced";
}

interface UserSpec {
  anonymous: boolean;
  /** Index of the update that upgrades an anonymous user (none when beyond the updates). */
  upgradeAt: number;
  first: Step;
  updates: Step[];
  deleted: boolean;
}

interface Scenario {
  users: UserSpec[];
  syncAnonymousUsers: boolean;
  /** Emails drawn from one small pool shared by all users: conflicts (409) become possible. */
  sharedEmails: boolean;
  seed: number;
  /** Chances, in percent, of a redelivery under the same svix-id and of a copy under a new one. */
  resendPercent: number;
  copyPercent: number;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  displayName: fc.constantFrom<string | null>(
    "John Smith",
    "John Smith",
    "Ana",
    "José Müller",
    "Admin",
    "😀",
    "",
    null,
    "Zoë Ærø",
  ),
  avatar: fc.constantFrom<string | null>(
    null,
    "https://example.com/a.png",
    "https://example.com/b.png",
    "data:image/png;base64,iVBORw0KGgo=",
  ),
  metadata: fc.constantFrom<unknown>(
    null,
    { plan: "PRO" },
    { plan: "ENTERPRISE" },
    { plan: "FREE" },
    { plan: "gold" },
    {},
    { plan: null },
  ),
  changeEmail: fc.boolean(),
  noEmail: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  emailStyle: fc.constantFrom("plain", "upper", "spaced"),
});

const userArb: fc.Arbitrary<UserSpec> = fc.record({
  anonymous: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  upgradeAt: fc.integer({ min: 0, max: 3 }),
  first: stepArb,
  updates: fc.array(stepArb, { maxLength: 3 }),
  deleted: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
});

function scenarioArb(sharedEmails: boolean): fc.Arbitrary<Scenario> {
  return fc.record({
    users: fc.array(userArb, { minLength: 1, maxLength: 5 }),
    syncAnonymousUsers: fc.boolean(),
    sharedEmails: fc.constant(sharedEmails),
    seed: fc.integer(),
    resendPercent: fc.integer({ min: 0, max: 30 }),
    copyPercent: fc.integer({ min: 0, max: 30 }),
  });
}

interface Delivery {
  svixId: string;
  body: EventBody;
  user: number;
}

interface History {
  id: string;
  snapshots: StackUser[];
  /** Every event in Stack's order; the last one is the user's final state. */
  events: Delivery[];
  deleted: boolean;
}

function userId(index: number): string {
  return `00000000-0000-4000-8000-${String(index).padStart(12, "0")}`;
}

function email(scenario: Scenario, user: number, version: number, style: Step["emailStyle"]): string {
  const plain = scenario.sharedEmails
    ? `shared${(user + version) % 3}@example.com`
    : `u${user}.v${version}@example.com`;
  if (style === "upper") return plain.toUpperCase();
  if (style === "spaced") return `  ${plain.replace(/^./, (c) => c.toUpperCase())} `;
  return plain;
}

function histories(scenario: Scenario): History[] {
  return scenario.users.map((spec, u) => {
    const id = userId(u);
    let version = 0;
    let anonymous = spec.anonymous;
    const snapshot = (step: Step, index: number): StackUser => {
      if (anonymous && index === spec.upgradeAt && index > 0) anonymous = false;
      if (step.changeEmail && index > 0) version++;
      return stackUser({
        id,
        is_anonymous: anonymous,
        primary_email: anonymous || step.noEmail ? null : email(scenario, u, version, step.emailStyle),
        display_name: step.displayName,
        profile_image_url: step.avatar,
        server_metadata: step.metadata,
      });
    };
    const snapshots = [snapshot(spec.first, 0), ...spec.updates.map((step, i) => snapshot(step, i + 1))];
    const bodies: EventBody[] = snapshots.map((s, i) => (i === 0 ? createdEvent(s) : updatedEvent(s)));
    if (spec.deleted) bodies.push(deletedEvent(id));
    const events = bodies.map((body, e) => ({ svixId: `msg_u${u}_e${e}`, body, user: u }));
    return { id, snapshots, events, deleted: spec.deleted };
  });
}

function shuffle<T>(items: T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Adds redeliveries (same svix-id) and copies (same event, new svix-id) of `events`. */
function withDuplicates(events: Delivery[], scenario: Scenario, rand: () => number, tag: string): Delivery[] {
  const out: Delivery[] = [];
  for (const event of events) {
    out.push(event);
    if (rand() * 100 < scenario.resendPercent) out.push(event);
    if (rand() * 100 < scenario.copyPercent) out.push({ ...event, svixId: `${event.svixId}_${tag}copy` });
  }
  return out;
}

/** Cuts `items` into batches of 1 to 8. */
function batches<T>(items: T[], rand: () => number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length;) {
    const size = 1 + Math.floor(rand() * 8);
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// What the tables must hold

interface Row {
  id: string;
  email: string;
  username: string;
  displayName: string | null;
  avatar: string | null;
  plan: Plan;
}

async function rows(test: TestDatabase): Promise<Row[]> {
  const users = await test.db.prisma.user.findMany({ include: { profile: true }, orderBy: { id: "asc" } });
  return users.map((u) => ({
    id: u.id,
    email: u.email,
    username: u.profile?.username ?? "<no profile>",
    displayName: u.profile?.displayName ?? null,
    avatar: u.profile?.avatar ?? null,
    plan: u.profile?.plan ?? "FREE",
  }));
}

/** Tracks what must stay true from one check to the next within one scenario. */
class Invariants {
  readonly usernames = new Map<string, string>();
  readonly deleted = new Set<string>();

  constructor(
    private readonly test: TestDatabase,
    private readonly histories: History[],
  ) {}

  async check(where: string): Promise<Row[]> {
    const prisma = this.test.db.prisma;
    const [orphans] = await prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM profiles p LEFT JOIN users u ON u.id = p.user_id WHERE u.id IS NULL`;
    const [bare] = await prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM users u LEFT JOIN profiles p ON p.user_id = u.id WHERE p.id IS NULL`;
    expect({ where, orphanProfiles: orphans?.n, usersWithoutProfile: bare?.n }).toEqual({
      where,
      orphanProfiles: 0,
      usersWithoutProfile: 0,
    });

    const state = await rows(this.test);
    const names = state.map((r) => r.username);
    expect({ where, duplicateUsernames: names.filter((n, i) => names.indexOf(n) !== i) }).toEqual({
      where,
      duplicateUsernames: [],
    });
    const emails = state.map((r) => r.email);
    expect({ where, duplicateEmails: emails.filter((e, i) => emails.indexOf(e) !== i) }).toEqual({
      where,
      duplicateEmails: [],
    });

    const known = new Set(this.histories.map((h) => h.id));
    for (const row of state) {
      expect({ where, unknownUser: row.id, known: known.has(row.id) }).toEqual({
        where,
        unknownUser: row.id,
        known: true,
      });
      expect({ where, deletedUserBack: row.id, deleted: this.deleted.has(row.id) }).toEqual({
        where,
        deletedUserBack: row.id,
        deleted: false,
      });
      const first = this.usernames.get(row.id);
      if (first === undefined) {
        this.usernames.set(row.id, row.username);
        this.expectUsernameFromHistory(row, where);
      } else {
        expect({ where, user: row.id, username: row.username }).toEqual({
          where,
          user: row.id,
          username: first,
        });
      }
    }
    if (this.deleted.size > 0) {
      const tombstones = await prisma.userTombstone.findMany({
        where: { userId: { in: [...this.deleted] } },
      });
      expect({ where, tombstones: tombstones.length }).toEqual({ where, tombstones: this.deleted.size });
    }
    return state;
  }

  /** The username is one the rules give for one of the user's snapshots, well-formed and never a bare reserved word. */
  private expectUsernameFromHistory(row: Row, where: string) {
    const history = this.histories.find((h) => h.id === row.id);
    const allowed = new Set<string>();
    for (const s of history?.snapshots ?? []) {
      const base = usernameBase(s.display_name, s.primary_email?.trim() || null);
      for (const candidate of usernameCandidates(base, 0, this.histories.length + 3)) allowed.add(candidate);
    }
    expect({ where, user: row.id, username: row.username, fromHistory: allowed.has(row.username) }).toEqual({
      where,
      user: row.id,
      username: row.username,
      fromHistory: true,
    });
    expect(row.username).toMatch(/^[a-z0-9]([a-z0-9_]{0,22}[a-z0-9])?$/);
  }
}

/** Stack's final state of each user that should be in the tables; plan as the set of values it may have. */
function finalState(
  history: History,
  syncAnonymousUsers: boolean,
): (Omit<Row, "username" | "plan"> & { plans: Plan[] }) | null {
  if (history.deleted) return null;
  const last = history.snapshots[history.snapshots.length - 1] as StackUser;
  if (last.is_anonymous && !syncAnonymousUsers) return null;
  const finalPlan = planOf(last.server_metadata);
  // An invalid plan leaves the stored one: then any plan of an earlier snapshot (or FREE) may remain.
  const plans = finalPlan
    ? [finalPlan]
    : PLANS.filter((p) => p === "FREE" || history.snapshots.some((s) => planOf(s.server_metadata) === p));
  return {
    id: history.id,
    email: last.primary_email?.trim().toLowerCase() || `${history.id}@stack-user.invalid`,
    displayName: last.display_name === "" ? null : last.display_name,
    avatar: last.profile_image_url,
    plans,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Running a scenario

type Handler = ReturnType<typeof handlerFor>;

interface Answer {
  delivery: Delivery;
  status: number;
  body: { status?: string; error?: { code?: string } };
}

async function deliverBatch(handler: Handler, batch: Delivery[]): Promise<Answer[]> {
  return Promise.all(
    batch.map(async (delivery) => {
      const response = await handler(signedRequest(delivery.body, { svixId: delivery.svixId }));
      return { delivery, status: response.status, body: (await response.json()) as Answer["body"] };
    }),
  );
}

function expectAllowed(answers: Answer[], scenario: Scenario, where: string) {
  for (const a of answers) {
    const outcome = a.status === 200 ? String(a.body.status) : `${a.status} ${String(a.body.error?.code)}`;
    const allowed = [
      "processed",
      "duplicate",
      "ignored",
      ...(scenario.sharedEmails ? ["409 email_conflict"] : []),
    ];
    expect({
      where,
      svixId: a.delivery.svixId,
      allowed: allowed.includes(outcome) ? "yes" : outcome,
    }).toEqual({
      where,
      svixId: a.delivery.svixId,
      allowed: "yes",
    });
  }
}

/** Deletes answered 200 are final from then on. */
function noteDeletes(answers: Answer[], invariants: Invariants, all: History[]) {
  for (const a of answers) {
    if (a.status === 200 && a.delivery.body.type === "user.deleted")
      invariants.deleted.add((all[a.delivery.user] as History).id);
  }
}

async function runScenario(test: TestDatabase, scenario: Scenario): Promise<void> {
  await test.reset();
  const handler = handlerFor(test, { sync: { syncAnonymousUsers: scenario.syncAnonymousUsers } });
  const all = histories(scenario);
  const rand = seededRandom(scenario.seed);
  const invariants = new Invariants(test, all);

  // Phase 1: every event but each user's last, with duplicates, shuffled, in concurrent batches.
  const earlier = all.flatMap((h) => h.events.slice(0, -1));
  const phase1 = batches(shuffle(withDuplicates(earlier, scenario, rand, "a"), rand), rand);
  for (const [i, batch] of phase1.entries()) {
    const answers = await deliverBatch(handler, batch);
    expectAllowed(answers, scenario, `phase 1 batch ${i}`);
    noteDeletes(answers, invariants, all);
    await invariants.check(`after phase 1 batch ${i}`);
  }

  // Phase 2: each user's last event, with its duplicates, all at once.
  const finals = all.map((h) => h.events[h.events.length - 1] as Delivery);
  const answers = await deliverBatch(handler, shuffle(withDuplicates(finals, scenario, rand, "b"), rand));
  expectAllowed(answers, scenario, "phase 2");
  noteDeletes(answers, invariants, all);
  const state = await invariants.check("after phase 2");

  if (!scenario.sharedEmails) {
    // The tables are Stack's final state, exactly.
    const expected = all.map((h) => finalState(h, scenario.syncAnonymousUsers)).filter((s) => s !== null);
    expect(state.map((r) => r.id)).toEqual(expected.map((e) => e.id));
    for (const want of expected) {
      const row = state.find((r) => r.id === want.id) as Row;
      const { plans, ...fields } = want;
      expect({ ...fields, planAllowed: plans.includes(row.plan) }).toEqual({
        id: row.id,
        email: row.email,
        displayName: row.displayName,
        avatar: row.avatar,
        planAllowed: true,
      });
    }
    // Every user whose last event is a delete is tombstoned.
    for (const h of all.filter((h) => h.deleted)) invariants.deleted.add(h.id);
    await invariants.check("tombstones after phase 2");

    // Phase 3a: Svix replays already settled messages under their own svix-ids: all duplicates, nothing changes.
    const settled = [...earlier, ...finals].filter(() => rand() < 0.5);
    const before = await rows(test);
    for (const batch of batches(settled, rand)) {
      const replayed = await deliverBatch(handler, batch);
      expect(replayed.map((a) => `${a.delivery.svixId}: ${a.status} ${String(a.body.status)}`)).toEqual(
        batch.map((d) => `${d.svixId}: 200 duplicate`),
      );
    }
    expect(await rows(test)).toEqual(before);
  }

  // Phase 3b: stale events arrive late under new svix-ids: deleted users stay deleted, nobody appears or
  // vanishes, usernames stay.
  const stale = shuffle(earlier, rand)
    .slice(0, 6)
    .map((d) => ({ ...d, svixId: `${d.svixId}_late` }));
  const idsBefore = (await rows(test)).map((r) => r.id);
  const lateAnswers = await deliverBatch(handler, stale);
  expectAllowed(lateAnswers, scenario, "phase 3b");
  const after = await invariants.check("after phase 3b");
  if (!scenario.sharedEmails) expect(after.map((r) => r.id)).toEqual(idsBefore);
}

// ---------------------------------------------------------------------------------------------------------

describe.each(DATABASE_KINDS)("random user histories on %s", (kind) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await openTestDatabase(kind);
  });
  afterAll(() => test.close());

  it("end in Stack's final state, with every invariant holding after every batch, when emails are unique per user", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb(false), (scenario) => runScenario(test, scenario)),
      { numRuns: NUM_RUNS },
    );
  }, 600_000);

  it("keep every invariant and answer only 200 or 409 email_conflict when users share emails", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb(true), (scenario) => runScenario(test, scenario)),
      { numRuns: Math.ceil(NUM_RUNS / 2.5) },
    );
  }, 600_000);
});
