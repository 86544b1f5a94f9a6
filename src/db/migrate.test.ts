import { createHash } from "node:crypto";
import { cp, mkdtemp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/support/postgres";
import {
  applyMigrations,
  defaultMigrationsDir,
  pendingMigrations,
  pgliteMigrationConnection,
  pgMigrationConnection,
  type MigrationConnection,
} from "./migrate";

interface Opened {
  conn: MigrationConnection;
  close(): Promise<void>;
}

const EXPECTED_COLUMNS: Record<string, string[]> = {
  users: ["created_at", "email", "id", "password", "updated_at"],
  profiles: ["avatar", "created_at", "display_name", "id", "plan", "updated_at", "user_id", "username"],
  user_tombstones: ["deleted_at", "user_id"],
  webhook_events: [
    "attempts",
    "error_code",
    "first_seen_at",
    "last_seen_at",
    "outcome",
    "payload",
    "svix_id",
    "type",
    "user_id",
  ],
};

interface Row {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
  applied_steps_count: number;
}

const rowsOf = (conn: MigrationConnection) =>
  conn.query<Row>(`SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name`);

async function sha256(file: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(file))
    .digest("hex");
}

/** The same scenario on each backend, one database per backend, tests in order. */
function migrationSuite(backend: string, open: () => Promise<Opened>): void {
  describe(`applyMigrations on ${backend}`, () => {
    let db: Opened;
    let dir: string;
    let initName: string;

    beforeAll(async () => {
      // A copy of the real init migration alone, so that broken ones can be added without touching the repo
      // and the scenario does not change as the project's migrations grow.
      dir = await mkdtemp(path.join(tmpdir(), "migrations-"));
      await cp(defaultMigrationsDir(), dir, { recursive: true });
      const names = (await readdir(dir)).filter((n) => n !== "migration_lock.toml").sort();
      initName = names[0] ?? "";
      expect(initName).toMatch(/_init$/);
      for (const later of names.slice(1)) await rm(path.join(dir, later), { recursive: true });
      db = await open();
    });
    afterAll(async () => {
      await db?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it("reports every migration pending on an empty database, without creating the table", async () => {
      expect(await pendingMigrations(db.conn, dir)).toEqual([initName]);
      const [t] = await db.conn.query<{ r: string | null }>(
        `SELECT to_regclass('_prisma_migrations')::text AS r`,
      );
      expect(t?.r).toBeNull();
    });

    it("applies the init migration: the tables with snake_case columns", async () => {
      const report = await applyMigrations(db.conn, dir);
      expect(report).toEqual({ applied: [initName], total: 1 });
      const cols = await db.conn.query<{ table_name: string; column_name: string }>(
        `SELECT table_name, column_name FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name <> '_prisma_migrations'`,
      );
      const byTable: Record<string, string[]> = {};
      for (const c of cols) (byTable[c.table_name] ??= []).push(c.column_name);
      for (const list of Object.values(byTable)) list.sort();
      expect(byTable).toEqual(EXPECTED_COLUMNS);
    });

    it("records the migration as Prisma does", async () => {
      const rows = await rowsOf(db.conn);
      expect(rows).toHaveLength(1);
      const row = rows[0];
      expect(row?.migration_name).toBe(initName);
      expect(row?.checksum).toBe(await sha256(path.join(dir, initName, "migration.sql")));
      expect(row?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row?.finished_at).toBeInstanceOf(Date);
      expect(row?.rolled_back_at).toBeNull();
      expect(row?.applied_steps_count).toBe(1);
      expect(await pendingMigrations(db.conn, dir)).toEqual([]);
    });

    it("applies nothing the second time", async () => {
      expect(await applyMigrations(db.conn, dir)).toEqual({ applied: [], total: 1 });
      expect(await rowsOf(db.conn)).toHaveLength(1);
    });

    it("warns, and does not re-run, when an applied migration was edited", async () => {
      const file = path.join(dir, initName, "migration.sql");
      const original = await readFile(file);
      await writeFile(file, Buffer.concat([original, Buffer.from("\n-- edited\n")]));
      const warnings: string[] = [];
      const report = await applyMigrations(db.conn, dir, { onWarning: (m) => warnings.push(m) });
      await writeFile(file, original);
      expect(report.applied).toEqual([]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(initName);
    });

    it("leaves a failing migration unfinished with its error in logs, and rolls its statements back", async () => {
      await addMigration(
        dir,
        "20990101000000_broken",
        `CREATE TABLE "half" (id INT);\nALTER TABLE "nope" ADD COLUMN x INT;\n`,
      );
      await expect(applyMigrations(db.conn, dir)).rejects.toThrow(/20990101000000_broken/);
      const row = (await rowsOf(db.conn)).find((r) => r.migration_name === "20990101000000_broken");
      expect(row?.finished_at).toBeNull();
      expect(row?.applied_steps_count).toBe(0);
      expect(row?.logs).toMatch(/42P01[\s\S]*"nope"/);
      const [t] = await db.conn.query<{ r: string | null }>(`SELECT to_regclass('half')::text AS r`);
      expect(t?.r).toBeNull();
      expect(await pendingMigrations(db.conn, dir)).toEqual(["20990101000000_broken"]);
    });

    it("refuses to go on while the failed migration is unresolved (P3009)", async () => {
      await addMigration(dir, "20990102000000_later", `CREATE TABLE "later" (id INT);\n`);
      const run = applyMigrations(db.conn, dir);
      await expect(run).rejects.toThrow(/20990101000000_broken.*failed/);
      await expect(run).rejects.toMatchObject({ code: "P3009", migration: "20990101000000_broken" });
      expect(await pendingMigrations(db.conn, dir)).toEqual([
        "20990101000000_broken",
        "20990102000000_later",
      ]);
    });

    it("goes on once the failure is marked rolled back and the migration fixed", async () => {
      await db.conn.query(`UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE finished_at IS NULL`);
      await addMigration(dir, "20990101000000_broken", `CREATE TABLE "half" (id INT);\n`);
      const report = await applyMigrations(db.conn, dir);
      expect(report.applied).toEqual(["20990101000000_broken", "20990102000000_later"]);
      expect(await pendingMigrations(db.conn, dir)).toEqual([]);
    });

    it("releases the advisory lock, even after a failure", async () => {
      await addMigration(dir, "20990103000000_broken_again", `SELECT 1/0;\n`);
      await expect(applyMigrations(db.conn, dir)).rejects.toThrow(/20990103000000_broken_again/);
      const [locks] = await db.conn.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 72707369`,
      );
      expect(locks?.n).toBe(0);
    });
  });
}

async function addMigration(dir: string, name: string, sql: string): Promise<void> {
  await mkdir(path.join(dir, name), { recursive: true });
  await writeFile(path.join(dir, name, "migration.sql"), sql);
}

migrationSuite("PGlite", async () => {
  const db = await PGlite.create("memory://");
  return { conn: pgliteMigrationConnection(db), close: () => db.close() };
});

async function openPg(url: string): Promise<Opened> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return { conn: pgMigrationConnection(client), close: () => client.end() };
}

let pgDatabases: { url: string; drop(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(pgDatabases.map((d) => d.drop()));
  pgDatabases = [];
});

async function freshPg(): Promise<string> {
  const created = await createTestDatabase();
  pgDatabases.push(created);
  return created.url;
}

migrationSuite("PostgreSQL", async () => openPg(await freshPg()));

describe("applyMigrations on PostgreSQL, concurrently", () => {
  it("applies each migration once when two processes start together", async () => {
    const url = await freshPg();
    const sessions = await Promise.all([openPg(url), openPg(url), openPg(url)]);
    try {
      const reports = await Promise.all(sessions.map((s) => applyMigrations(s.conn)));
      const total = reports[0]?.total ?? 0;
      expect(total).toBeGreaterThan(0);
      expect(reports.flatMap((r) => r.applied)).toHaveLength(total);
      const first = sessions[0];
      expect(first && (await rowsOf(first.conn))).toHaveLength(total);
    } finally {
      await Promise.all(sessions.map((s) => s.close()));
    }
  });
});
