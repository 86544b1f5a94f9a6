import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DATABASE_KINDS, openTestDatabase, type TestDatabase } from "../../test/support/databases";
import { openDatabase } from "./index";
import { classifyDbError } from "./errors";

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

describe.each(DATABASE_KINDS)("classifyDbError on %s", (kind) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await openTestDatabase(kind);
  });
  afterAll(() => test.close());
  beforeEach(() => test.reset());

  const user = (id: string, email: string, username: string) => ({
    id,
    email,
    password: "x",
    profile: { create: { username } },
  });

  it("names users.email for a duplicate email", async () => {
    await test.db.prisma.user.create({ data: user("a", "same@example.com", "a") });
    const error = await caught(test.db.prisma.user.create({ data: user("b", "same@example.com", "b") }));
    expect(classifyDbError(error)).toMatchObject({ kind: "unique", column: "email" });
  });

  it("names profiles.username for a duplicate username", async () => {
    await test.db.prisma.user.create({ data: user("a", "a@example.com", "taken") });
    const error = await caught(test.db.prisma.user.create({ data: user("b", "b@example.com", "taken") }));
    expect(classifyDbError(error)).toMatchObject({ kind: "unique", column: "username" });
  });

  it("calls data past an index's size limit rejected, for good", async () => {
    // Random text: PostgreSQL compresses index entries, so a repeated character would still fit.
    const email = `${randomBytes(4000).toString("base64")}@example.com`;
    const error = await caught(test.db.prisma.user.create({ data: user("big", email, "big") }));
    expect(classifyDbError(error)).toEqual({ kind: "rejected" });
  });

  it("does not claim errors that are not the database's", () => {
    expect(classifyDbError(new TypeError("x is not a function"))).toBeNull();
    expect(classifyDbError("a string")).toBeNull();
  });
});

describe("classifyDbError on PostgreSQL failures", () => {
  it("calls a serialization failure retryable", async () => {
    const test = await openTestDatabase("postgres");
    try {
      const prisma = test.db.prisma;
      await prisma.user.create({ data: { id: "s", email: "s@example.com", password: "x" } });
      let release!: () => void;
      const bothRead = new Promise<void>((resolve) => (release = resolve));
      let reads = 0;
      const conflicting = () =>
        prisma.$transaction(
          async (tx) => {
            await tx.user.count();
            if (++reads === 2) release();
            await bothRead;
            await tx.user.update({ where: { id: "s" }, data: { password: String(Math.random()) } });
          },
          { isolationLevel: "Serializable" },
        );
      const results = await Promise.allSettled([conflicting(), conflicting()]);
      const failure = results.find((r) => r.status === "rejected");
      expect(failure).toBeDefined();
      expect(classifyDbError((failure as PromiseRejectedResult).reason)).toEqual({ kind: "retryable" });
    } finally {
      await test.close();
    }
  });

  it("calls an unreachable server unavailable", async () => {
    const db = await openDatabase({ kind: "postgres", url: "postgres://postgres@127.0.0.1:1/none" });
    try {
      const error = await caught(db.prisma.user.count());
      expect(classifyDbError(error)).toEqual({ kind: "unavailable" });
    } finally {
      await db.close();
    }
  });
});
