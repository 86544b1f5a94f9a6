import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { checkHealth, type HealthDeps } from "../../src/ops/health";
import { DATABASE_KINDS, openTestDatabase, type TestDatabase } from "../support/databases";
import { createdEvent, signedRequest, stackUser } from "../support/fixtures";
import { handlerFor } from "../support/harness";

const HOUR = 60 * 60 * 1000;
const NOW = new Date("2026-12-05T12:00:00Z");

describe.each(DATABASE_KINDS)("health on %s", (kind) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await openTestDatabase(kind);
  });
  afterAll(() => test.close());
  beforeEach(() => test.reset());

  const deps = (over: Partial<HealthDeps> = {}): HealthDeps => ({
    db: test.db,
    webhookConfigured: true,
    reconcileMaxAgeMs: null,
    startedAt: new Date(NOW.getTime() - HOUR),
    now: () => NOW,
    ...over,
  });

  async function recordRun(
    status: "succeeded" | "failed" | "running",
    finishedHoursAgo: number,
    dryRun = false,
  ) {
    const finishedAt = new Date(NOW.getTime() - finishedHoursAgo * HOUR);
    await test.db.prisma.reconcileRun.create({
      data: {
        status,
        dryRun,
        startedAt: new Date(finishedAt.getTime() - 60_000),
        finishedAt: status === "running" ? null : finishedAt,
        ...(status === "failed" && { errorCode: "rate_limited" }),
      },
    });
  }

  it("is ok on a migrated, empty database: no events is not unhealthy, and reconcile is not configured", async () => {
    const report = await checkHealth(deps());
    expect(report).toMatchObject({
      status: "ok",
      reasons: [],
      checks: {
        database: { status: "ok" },
        migrations: { status: "ok", pending: [] },
        webhook: { status: "ok" },
        events: { status: "ok", lastProcessedAt: null, secondsSinceLastProcessed: null, failed: 0 },
        reconcile: { status: "not_configured" },
      },
    });
    expect(report.checks.database.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("reports the time since the last processed event and the failed events", async () => {
    const handler = handlerFor(test);
    const taken = stackUser();
    await handler(signedRequest(createdEvent(taken)));
    await handler(signedRequest(createdEvent(stackUser({ primary_email: taken.primary_email }))));
    const report = await checkHealth({ ...deps(), now: () => new Date(Date.now() + 5_000) });
    expect(report.status).toBe("ok");
    expect(report.checks.events.failed).toBe(1);
    expect(report.checks.events.secondsSinceLastProcessed).toBeGreaterThanOrEqual(4);
    expect(report.checks.events.secondsSinceLastProcessed).toBeLessThan(60);
  });

  it("answers 503 migrations_pending when a migration on disk is not applied", async () => {
    const [last] = await test.db.prisma.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM _prisma_migrations ORDER BY migration_name DESC LIMIT 1`;
    // Marked rolled back, as `prisma migrate resolve --rolled-back` would: on disk, not applied.
    const mark = (rolledBack: boolean) => test.db.prisma.$executeRaw`
      UPDATE _prisma_migrations SET rolled_back_at = ${rolledBack ? new Date() : null}
      WHERE migration_name = ${last?.migration_name}`;
    await mark(true);
    try {
      const report = await checkHealth(deps());
      expect(report.status).toBe("unhealthy");
      expect(report.reasons).toEqual(["migrations_pending"]);
      expect(report.checks.migrations).toEqual({ status: "failing", pending: [last?.migration_name] });
    } finally {
      await mark(false);
    }
  });

  it("answers 503 webhook_not_configured when production has no secret", async () => {
    const report = await checkHealth(deps({ webhookConfigured: false }));
    expect(report).toMatchObject({ status: "unhealthy", reasons: ["webhook_not_configured"] });
  });

  describe("reconcile, when configured", () => {
    const configured = (over: Partial<HealthDeps> = {}) => deps({ reconcileMaxAgeMs: 25 * HOUR, ...over });

    it("is ok after a recent successful run, and reports its age", async () => {
      await recordRun("succeeded", 2);
      const report = await checkHealth(configured());
      expect(report.status).toBe("ok");
      expect(report.checks.reconcile).toMatchObject({
        status: "ok",
        maxAgeSeconds: 25 * 3600,
        secondsSinceLastSuccess: 2 * 3600,
        lastRun: { status: "succeeded", errorCode: null },
      });
    });

    it("answers 503 reconcile_failed when the last finished run failed, with its error code", async () => {
      await recordRun("succeeded", 5);
      await recordRun("failed", 1);
      await recordRun("running", 0);
      const report = await checkHealth(configured());
      expect(report.reasons).toEqual(["reconcile_failed"]);
      expect(report.checks.reconcile.lastRun).toMatchObject({ status: "failed", errorCode: "rate_limited" });
    });

    it("answers 503 reconcile_stale when the last success is older than the max age; dry runs do not count", async () => {
      await recordRun("succeeded", 30);
      await recordRun("succeeded", 1, true);
      const report = await checkHealth(configured());
      expect(report.reasons).toEqual(["reconcile_stale"]);
      expect(report.checks.reconcile.secondsSinceLastSuccess).toBe(30 * 3600);
    });

    it("gives a process that never saw a run the max age from its start before calling it stale", async () => {
      expect((await checkHealth(configured())).status).toBe("ok");
      const old = configured({ startedAt: new Date(NOW.getTime() - 26 * HOUR) });
      expect((await checkHealth(old)).reasons).toEqual(["reconcile_stale"]);
    });
  });

  it("answers 503 database_unreachable, quickly, when the database is closed", async () => {
    const closed = await openTestDatabase(kind);
    await closed.db.close();
    try {
      const started = Date.now();
      const report = await checkHealth({ ...deps(), db: closed.db });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(report).toMatchObject({
        status: "unhealthy",
        reasons: ["database_unreachable"],
        checks: {
          database: { status: "failing", latencyMs: null },
          migrations: { status: "skipped" },
          events: { status: "skipped" },
        },
      });
    } finally {
      await closed.close().catch(() => undefined);
    }
  });
});
