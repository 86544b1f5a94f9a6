import { openDatabase, type Database } from "../../src/db";
import { createTestDatabase } from "./postgres";

/** Both engines the service runs on; integration suites run once for each. */
export const DATABASE_KINDS = ["pglite", "postgres"] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

export interface TestDatabase {
  db: Database;
  /** Empties every table (cheaper than a new database between tests). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** A migrated database of the given kind: in-memory PGlite, or a fresh database on the suite's server. */
export async function openTestDatabase(
  kind: DatabaseKind,
  options: { poolSize?: number } = {},
): Promise<TestDatabase> {
  let drop = async (): Promise<void> => undefined;
  let db: Database;
  if (kind === "pglite") {
    db = await openDatabase({ kind: "pglite", dataDir: null });
  } else {
    const created = await createTestDatabase();
    drop = created.drop;
    db = await openDatabase({ kind: "postgres", url: created.url }, options);
  }
  await db.migrate();
  return {
    db,
    reset: async () => {
      await db.prisma.$executeRawUnsafe(
        "TRUNCATE users, profiles, user_tombstones, webhook_events, reconcile_runs",
      );
    },
    close: async () => {
      await db.close();
      await drop();
    },
  };
}
