/**
 * Reconcile's safety rules on both databases: dry run, the mass-deletion guard, 429 backoff, webhooks arriving
 * during a run, a listing that loses its place or misses a user, email conflicts, and users that do not parse.
 */
import { describe, expect, it } from "vitest";
import { createSyncStore } from "../../src/db/sync-store";
import { seededRandom } from "../../src/emulator";
import { ReconcileRefusedError } from "../../src/reconcile";
import type { StackApiClient } from "../../src/stack/api";
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
  seedTables,
  useReconcileSetup,
} from "./support";

describe.each(DATABASE_KINDS)("reconcile safety on %s", (kind) => {
  const ctx = useReconcileSetup(kind);

  /** 60 users in Stack and, identical, in the tables. */
  async function inSync(n = 60) {
    populate(ctx.emulator, n, seededRandom(n), 0);
    await seedTables(ctx.test, ctx.emulator.users.list());
    return ctx.emulator.users.list();
  }

  const applySnapshot = (user: ReturnType<typeof stackUser>) =>
    applyChange(createSyncStore(ctx.test.db.prisma), { kind: "snapshot", user }, null, TEST_SYNC_OPTIONS);

  it("dry run returns the exact plan and writes nothing", async () => {
    const users = await inSync();
    const [renamed, gone, moved] = users;
    if (!renamed || !gone || !moved) throw new Error("too few users");
    ctx.emulator.users.update(renamed.id, { display_name: "New Name" }, { notify: false });
    ctx.emulator.users.delete(gone.id, { notify: false });
    ctx.emulator.users.setPrimaryEmail(moved.id, "moved@example.com");
    const fresh = ctx.emulator.users.create({ primary_email: "fresh@example.com" }, { notify: false });
    const before = await fingerprint(ctx.test);

    const summary = await runReconcile(ctx.test, ctx.api, { dryRun: true, pageSize: 7 });
    expect(await fingerprint(ctx.test)).toEqual(before);
    expect(summary).toMatchObject({
      dryRun: true,
      created: 1,
      updated: 2,
      deleted: 1,
      unchanged: users.length - 3,
      refusal: null,
    });
    expect(summary.plan).toEqual({
      create: [{ id: fresh.id, email: "fresh@example.com" }],
      update: expect.arrayContaining([
        { id: renamed.id, fields: ["displayName"] },
        { id: moved.id, fields: ["email"] },
      ]),
      delete: [gone.id],
    });
  });

  it("refuses to delete more than the allowed share before deleting anything; --force deletes", async () => {
    const users = await inSync(50);
    const doomed = users.slice(0, 10);
    for (const u of doomed) ctx.emulator.users.delete(u.id, { notify: false });
    const error = await runReconcile(ctx.test, ctx.api).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ReconcileRefusedError);
    expect((error as Error).message).toMatch(/refusing to delete 10 of 50 local users \(20\.0%/);
    expect(await ctx.test.db.prisma.user.count()).toBe(50);
    expect(await ctx.test.db.prisma.userTombstone.count()).toBe(0);

    expect(await runReconcile(ctx.test, ctx.api, { maxDeleteShare: 0.25 })).toMatchObject({ deleted: 10 });
    expect(await actualRows(ctx.test)).toEqual(expectedRows(ctx.emulator.users.list()));
  });

  it("--force deletes past the share, and a dry run shows the refusal with its plan", async () => {
    const users = await inSync(20);
    for (const u of users.slice(0, 5)) ctx.emulator.users.delete(u.id, { notify: false });
    const dry = await runReconcile(ctx.test, ctx.api, { dryRun: true });
    expect(dry.refusal).toMatch(/refusing to delete 5 of 20/);
    expect(dry.plan?.delete).toHaveLength(5);
    expect(await runReconcile(ctx.test, ctx.api, { force: true })).toMatchObject({ deleted: 5 });
    expect(await actualRows(ctx.test)).toEqual(expectedRows(ctx.emulator.users.list()));
  });

  it("waits as 429's Retry-After says, and through brief outages", async () => {
    await inSync(40);
    ctx.emulator.users.create({ primary_email: "late@example.com" }, { notify: false });
    ctx.emulator.setChaos({ seed: 5, rateLimit: 0.4, retryAfterSeconds: 2, serverError: 0.1 });
    const waits: { reason: string; ms: number }[] = [];
    const summary = await runReconcile(ctx.test, ctx.api, {
      pageSize: 5,
      retry: { sleep: async () => undefined, onWait: (w) => waits.push(w) },
    });
    expect(ctx.emulator.apiStats.rateLimited).toBeGreaterThan(0);
    expect(waits.filter((w) => w.reason === "rate_limited").every((w) => w.ms === 2000)).toBe(true);
    expect(waits.filter((w) => w.reason === "rate_limited")).toHaveLength(ctx.emulator.apiStats.rateLimited);
    expect(waits.some((w) => w.reason === "unavailable")).toBe(true);
    expect(summary).toMatchObject({ created: 1, apiWaits: waits.length });
    expect(await actualRows(ctx.test)).toEqual(expectedRows(ctx.emulator.users.list()));
  });

  it("never deletes a user a webhook creates during the run, nor resurrects one a webhook deletes", async () => {
    const users = await inSync(30);
    const victim = users[5];
    if (!victim) throw new Error("too few users");
    const arrived = stackUser({ primary_email: "arrived-during-run@example.com" });
    let pages = 0;
    const racing: StackApiClient = {
      getUser: (id) => ctx.api.getUser(id),
      async listUsers(options) {
        const page = await ctx.api.listUsers(options);
        if (++pages === 1) {
          // Webhooks land between two pages: a new user (Stack lists it only later) and a deletion.
          await applySnapshot(arrived);
          ctx.emulator.users.delete(victim.id, { notify: false });
          await applyChange(
            createSyncStore(ctx.test.db.prisma),
            { kind: "deletion", userId: victim.id },
            null,
            TEST_SYNC_OPTIONS,
          );
        }
        return page;
      },
    };
    const summary = await runReconcile(ctx.test, racing, { pageSize: 10 });
    expect(await ctx.test.db.prisma.user.findUnique({ where: { id: arrived.id } })).not.toBeNull();
    expect(await ctx.test.db.prisma.user.findUnique({ where: { id: victim.id } })).toBeNull();
    expect(summary.deleted).toBe(0);
  });

  it("recovers when the cursor user is deleted between two pages (Stack then answers an empty page)", async () => {
    const users = await inSync(30);
    let deletedCursor: string | null = null;
    const racing: StackApiClient = {
      getUser: (id) => ctx.api.getUser(id),
      async listUsers(options) {
        const page = await ctx.api.listUsers(options);
        if (deletedCursor === null && page.nextCursor) {
          deletedCursor = page.nextCursor;
          ctx.emulator.users.delete(deletedCursor, { notify: false });
        }
        return page;
      },
    };
    const summary = await runReconcile(ctx.test, racing, { pageSize: 10 });
    expect(summary).toMatchObject({ deleted: 1, stackUsers: users.length - 1 });
    expect(await actualRows(ctx.test)).toEqual(expectedRows(ctx.emulator.users.list()));
  });

  it("applies, rather than deletes, a user the listing missed but Stack still has", async () => {
    const users = await inSync(20);
    const hidden = users[3];
    if (!hidden) throw new Error("too few users");
    ctx.emulator.users.update(hidden.id, { display_name: "Still Here" }, { notify: false });
    const forgetful: StackApiClient = {
      getUser: (id) => ctx.api.getUser(id),
      listUsers: async (o) => {
        const page = await ctx.api.listUsers(o);
        return { ...page, items: page.items.filter((u) => u.id !== hidden.id) };
      },
    };
    expect(await runReconcile(ctx.test, forgetful)).toMatchObject({
      missedByListing: 1,
      deleted: 0,
      updated: 1,
    });
    expect(await actualRows(ctx.test)).toEqual(expectedRows(ctx.emulator.users.list()));
  });

  it("settles email swaps, and reports (without failing) an email two Stack users share", async () => {
    const [a, b, c] = await inSync(3);
    if (!a?.primary_email || !b?.primary_email || !c) throw new Error("too few users");
    ctx.emulator.users.setPrimaryEmail(a.id, b.primary_email);
    ctx.emulator.users.setPrimaryEmail(b.id, a.primary_email);
    expect(await runReconcile(ctx.test, ctx.api)).toMatchObject({ updated: 2, conflicts: [] });
    expect(await actualRows(ctx.test)).toEqual(expectedRows(ctx.emulator.users.list()));

    ctx.emulator.users.setPrimaryEmail(c.id, a.primary_email);
    const summary = await runReconcile(ctx.test, ctx.api);
    expect(summary.conflicts).toEqual([c.id]);
    expect((await ctx.test.db.prisma.user.findUnique({ where: { id: c.id } }))?.email).toBe(c.primary_email);
  });

  it("leaves a user whose object does not fit the schema as it is, and never deletes it", async () => {
    const [odd] = await inSync(5);
    if (!odd) throw new Error("too few users");
    ctx.emulator.users.update(odd.id, { display_name: "nul\u0000byte" }, { notify: false });
    const summary = await runReconcile(ctx.test, ctx.api);
    expect(summary.invalid).toEqual([{ id: odd.id, error: expect.any(String) }]);
    expect(summary.deleted).toBe(0);
    expect((await ctx.test.db.prisma.profile.findUnique({ where: { userId: odd.id } }))?.displayName).toBe(
      odd.display_name,
    );
  });
});
