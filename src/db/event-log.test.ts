import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_KINDS, openTestDatabase, type TestDatabase } from "../../test/support/databases";
import { pruneEventLog } from "./event-log";

const DAY = 24 * 60 * 60 * 1000;

describe.each(DATABASE_KINDS)("pruneEventLog on %s", (kind) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await openTestDatabase(kind);
  });
  afterAll(() => test.close());

  it("deletes rows not seen within the retention and keeps the rest, and tombstones", async () => {
    const now = new Date("2026-12-04T12:00:00Z");
    const seen = (daysAgo: number) => new Date(now.getTime() - daysAgo * DAY);
    await test.db.prisma.webhookEvent.createMany({
      data: [
        { svixId: "old_processed", outcome: "processed", lastSeenAt: seen(8) },
        { svixId: "old_failed", outcome: "failed", lastSeenAt: seen(30), payload: "{}" },
        { svixId: "recent", outcome: "processed", lastSeenAt: seen(6.9) },
        { svixId: "fresh", outcome: "ignored", lastSeenAt: seen(0) },
      ],
    });
    await test.db.prisma.userTombstone.create({ data: { userId: "gone", deletedAt: seen(400) } });

    expect(await pruneEventLog(test.db.prisma, 7, now)).toBe(2);
    const left = await test.db.prisma.webhookEvent.findMany({
      select: { svixId: true },
      orderBy: { svixId: "asc" },
    });
    expect(left.map((e) => e.svixId)).toEqual(["fresh", "recent"]);
    expect(await test.db.prisma.userTombstone.count()).toBe(1);
  });
});
