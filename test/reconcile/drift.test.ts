/**
 * Reconcile at scale (2,000 users; 10,000 with FULL=1) on both databases: every kind of drift STACK-AUTH.md
 * describes is repaired, the tables end equal to the emulator's users, and a second run changes nothing.
 */
import { describe, expect, it } from "vitest";
import { randomPerson, seededRandom } from "../../src/emulator";
import { createSyncStore } from "../../src/db/sync-store";
import { applyChange } from "../../src/sync/engine";
import { DATABASE_KINDS } from "../support/databases";
import { stackUser } from "../support/fixtures";
import { TEST_SYNC_OPTIONS } from "../support/harness";
import {
  actualRows,
  expectedRows,
  fingerprint,
  populate,
  runReconcile,
  sample,
  seedTables,
  useReconcileSetup,
} from "./support";

const USERS = process.env.FULL === "1" ? 10_000 : 2_000;

describe.each(DATABASE_KINDS)(`reconcile of ${USERS} users on %s`, (kind) => {
  const ctx = useReconcileSetup(kind);

  it("repairs emails changed without a webhook, lost events, upstream deletions and upgrades; a second run changes nothing", async () => {
    const random = seededRandom(2024);
    populate(ctx.emulator, USERS, random);
    await seedTables(ctx.test, ctx.emulator.users.list());
    const real = ctx.emulator.users.list().filter((u) => !u.is_anonymous);
    expect(await runReconcile(ctx.test, ctx.api)).toMatchObject({
      created: 0,
      updated: 0,
      deleted: 0,
      unchanged: real.length,
    });

    // Drift, none of it announced by a webhook. Disjoint groups of users, so the expected counts are exact.
    const share = (p: number) => Math.max(2, Math.round(real.length * p));
    const [emailChanged = [], lostUpdates = [], deletedUpstream = [], swapped = [], [holder, taker] = []] =
      partition(real, random, [share(0.02), share(0.03), share(0.03), 2, 2]);
    emailChanged.forEach((u, i) => ctx.emulator.users.setPrimaryEmail(u.id, `changed-${i}@example.com`));
    lostUpdates.forEach((u, i) =>
      ctx.emulator.users.update(
        u.id,
        {
          display_name: `Renamed ${i}`,
          profile_image_url: `https://img.example.com/${i}.png`,
          server_metadata: { plan: "ENTERPRISE" },
        },
        { notify: false },
      ),
    );
    deletedUpstream.forEach((u) => ctx.emulator.users.delete(u.id, { notify: false }));
    const [a, b] = swapped;
    if (!a?.primary_email || !b?.primary_email || !holder?.primary_email || !taker)
      throw new Error("bad sample");
    ctx.emulator.users.setPrimaryEmail(a.id, b.primary_email);
    ctx.emulator.users.setPrimaryEmail(b.id, a.primary_email);
    // A deleted user's email is taken by another: the update can only land once the deletion is done.
    ctx.emulator.users.delete(holder.id, { notify: false });
    ctx.emulator.users.setPrimaryEmail(taker.id, holder.primary_email);
    const newUsers = Array.from({ length: share(0.01) }, () =>
      ctx.emulator.users.create(randomPerson(random), { notify: false }),
    );
    const anonymous = ctx.emulator.users.list().filter((u) => u.is_anonymous);
    const upgraded = anonymous.slice(0, Math.ceil(anonymous.length / 2));
    upgraded.forEach((u, i) =>
      ctx.emulator.users.upgradeAnonymous(
        u.id,
        { primary_email: `upgraded-${i}@example.com` },
        { notify: false },
      ),
    );
    ctx.emulator.users.signUpAnonymous({ notify: false });
    // A user only this database has (a test event sent by hand): Stack never had it.
    const stranger = stackUser();
    await applyChange(
      createSyncStore(ctx.test.db.prisma),
      { kind: "snapshot", user: stranger },
      null,
      TEST_SYNC_OPTIONS,
    );

    const repair = await runReconcile(ctx.test, ctx.api, { concurrency: 8 });
    const expected = expectedRows(ctx.emulator.users.list());
    expect(await actualRows(ctx.test)).toEqual(expected);
    expect(repair).toMatchObject({
      created: newUsers.length + upgraded.length,
      updated: emailChanged.length + lostUpdates.length + 3,
      deleted: deletedUpstream.length + 2,
      unchanged:
        expected.length - newUsers.length - upgraded.length - emailChanged.length - lostUpdates.length - 3,
      conflicts: [],
      invalid: [],
      missedByListing: 0,
    });
    const tombstones = await ctx.test.db.prisma.userTombstone.count();
    expect(tombstones).toBe(deletedUpstream.length + 2);

    const before = await fingerprint(ctx.test);
    const again = await runReconcile(ctx.test, ctx.api, { concurrency: 8 });
    expect(again).toMatchObject({
      created: 0,
      updated: 0,
      deleted: 0,
      skipped: 0,
      unchanged: expected.length,
      conflicts: [],
    });
    expect(await fingerprint(ctx.test)).toEqual(before);
  }, 600_000);

  it("syncs anonymous users (placeholder emails) when SYNC_ANONYMOUS_USERS is on", async () => {
    populate(ctx.emulator, 300, seededRandom(7), 0.3);
    const options = { ...TEST_SYNC_OPTIONS, syncAnonymousUsers: true };
    const summary = await runReconcile(ctx.test, ctx.api, { options });
    expect(summary.created).toBe(ctx.emulator.users.count);
    expect(await actualRows(ctx.test)).toEqual(expectedRows(ctx.emulator.users.list(), true));
    const anonymous = ctx.emulator.users.list().find((u) => u.is_anonymous);
    if (!anonymous) throw new Error("no anonymous user");
    ctx.emulator.users.upgradeAnonymous(
      anonymous.id,
      { primary_email: "now-real@example.com" },
      { notify: false },
    );
    expect(await runReconcile(ctx.test, ctx.api, { options })).toMatchObject({
      created: 0,
      updated: 1,
      deleted: 0,
    });
    expect(await actualRows(ctx.test)).toEqual(expectedRows(ctx.emulator.users.list(), true));
  });
});

/** Disjoint random groups of the given sizes. */
function partition<T>(items: readonly T[], random: () => number, sizes: number[]): T[][] {
  const picked = sample(
    items,
    sizes.reduce((s, n) => s + n, 0),
    random,
  );
  return sizes.map((n) => picked.splice(0, n));
}
