import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DatabaseLockedError, openDatabase } from "./index";

describe("the embedded database on disk", () => {
  const dir = mkdtempSync(join(tmpdir(), "stack-sync-pglite-"));
  const dataDir = join(dir, "pglite");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps its rows across a close and reopen", async () => {
    const first = await openDatabase({ kind: "pglite", dataDir });
    await first.migrate();
    await first.prisma.user.create({ data: { id: "kept", email: "kept@example.com", password: "x" } });
    await first.close();
    const again = await openDatabase({ kind: "pglite", dataDir });
    try {
      expect(await again.pendingMigrations()).toEqual([]);
      expect(await again.prisma.user.count({ where: { id: "kept" } })).toBe(1);
    } finally {
      await again.close();
    }
  });

  it("refuses a second opener while the first holds it, with a message that says what to do", async () => {
    const holder = await openDatabase({ kind: "pglite", dataDir });
    try {
      const second = openDatabase({ kind: "pglite", dataDir });
      await expect(second).rejects.toBeInstanceOf(DatabaseLockedError);
      await expect(second).rejects.toThrow(/another stack-sync process.*DATABASE_URL/);
    } finally {
      await holder.close();
    }
    const after = await openDatabase({ kind: "pglite", dataDir });
    await after.close();
  });
});
