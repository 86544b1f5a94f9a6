import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { checkHealth } from "../../src/ops/health";
import { recordReconcileRun } from "../../src/ops/reconcile-runs";
import { DATABASE_KINDS, openTestDatabase, type TestDatabase } from "../support/databases";

describe.each(DATABASE_KINDS)("recording reconcile runs on %s", (kind) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await openTestDatabase(kind);
  });
  afterAll(() => test.close());
  beforeEach(() => test.reset());

  const health = () =>
    checkHealth({
      db: test.db,
      webhookConfigured: true,
      reconcileMaxAgeMs: 3_600_000,
      startedAt: new Date(),
    });
  const options = { dryRun: false, errorCode: () => "rate_limited" };

  it("records a successful run with its counts, and health sees it", async () => {
    const counts = { created: 2, updated: 3, deleted: 1, unchanged: 7, extra: "kept" };
    expect(await recordReconcileRun(test.db.prisma, options, async () => counts)).toBe(counts);
    const [row] = await test.db.prisma.reconcileRun.findMany();
    expect(row).toMatchObject({
      status: "succeeded",
      dryRun: false,
      created: 2,
      updated: 3,
      deleted: 1,
      unchanged: 7,
    });
    expect(row?.finishedAt).toBeInstanceOf(Date);
    expect((await health()).checks.reconcile).toMatchObject({
      status: "ok",
      lastRun: { status: "succeeded" },
    });
  });

  it("shows a run as running while it runs", async () => {
    await recordReconcileRun(test.db.prisma, options, async () => {
      expect(await test.db.prisma.reconcileRun.findMany()).toMatchObject([
        { status: "running", finishedAt: null },
      ]);
      return { created: 0, updated: 0, deleted: 0, unchanged: 0 };
    });
  });

  it("records a failed run with its code, rethrows its error, and health answers reconcile_failed", async () => {
    const failure = new Error("429 from https://api.stack-auth.com with key ssk_secret");
    await expect(recordReconcileRun(test.db.prisma, options, () => Promise.reject(failure))).rejects.toBe(
      failure,
    );
    const [row] = await test.db.prisma.reconcileRun.findMany();
    expect(row).toMatchObject({ status: "failed", errorCode: "rate_limited", created: 0 });
    expect((await health()).reasons).toEqual(["reconcile_failed"]);
  });
});
