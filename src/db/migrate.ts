// Applies prisma/migrations without Prisma's native engine (it cannot be downloaded here), keeping
// Prisma's own `_prisma_migrations` bookkeeping so `prisma migrate status/deploy/resolve` still agree.
import { createHash, randomUUID } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import type { Client } from "pg";

/** One dedicated database session the runner can use (the advisory lock is per session). */
export interface MigrationConnection {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a multi-statement script with the simple query protocol (one implicit transaction). */
  exec(script: string): Promise<void>;
}

/** Names of the migrations applied by this run, and how many the directory holds. */
export interface MigrationReport {
  applied: string[];
  total: number;
}

/** Extra behaviour of `applyMigrations`. */
export interface ApplyOptions {
  /** Told about migrations edited after they were applied (Prisma warns and goes on). Default: console.warn. */
  onWarning?: (message: string) => void;
}

interface MigrationFile {
  name: string;
  script: string;
  checksum: string;
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | string | null;
  rolled_back_at: Date | string | null;
  started_at: Date | string;
}

// Prisma's lock key and table definition, verbatim, so both tools can share one database.
const LOCK_KEY = 72707369;
const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;
const SELECT_ROWS = `SELECT migration_name, checksum, finished_at, rolled_back_at, started_at
  FROM "_prisma_migrations" ORDER BY started_at ASC`;

/** The project's migration directory, relative to the working directory. */
export function defaultMigrationsDir(): string {
  return path.join(process.cwd(), "prisma", "migrations");
}

/** Subfolders of dir holding a migration.sql, in name order (migration_lock.toml is not one). */
async function readMigrations(dir: string): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    // A wrong working directory must not look like "nothing to migrate".
    throw e.code === "ENOENT" ? new Error(`Migrations directory not found: ${dir}`) : e;
  });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  const files: MigrationFile[] = [];
  for (const name of names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const bytes = await readFile(path.join(dir, name, "migration.sql")).catch(() => null);
    if (!bytes) continue;
    // Prisma's checksum: lowercase hex SHA-256 of the file's bytes.
    files.push({
      name,
      script: bytes.toString("utf8"),
      checksum: createHash("sha256").update(bytes).digest("hex"),
    });
  }
  return files;
}

const isLive = (row: MigrationRow) => row.rolled_back_at === null;
const isFinished = (row: MigrationRow) => isLive(row) && row.finished_at !== null;

/** Names of migrations in dir that are not yet finished in the database (for health checks). */
export async function pendingMigrations(
  conn: MigrationConnection,
  dir = defaultMigrationsDir(),
): Promise<string[]> {
  const files = await readMigrations(dir);
  // Read-only on purpose: a health check must not create the table.
  const [found] = await conn.query<{ exists: boolean }>(
    `SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS "exists"`,
  );
  const rows = found?.exists ? await conn.query<MigrationRow>(SELECT_ROWS) : [];
  const done = new Set(rows.filter(isFinished).map((r) => r.migration_name));
  return files.map((f) => f.name).filter((name) => !done.has(name));
}

/** Applies the pending migrations of dir in name order, as `prisma migrate deploy` does. */
export async function applyMigrations(
  conn: MigrationConnection,
  dir = defaultMigrationsDir(),
  opts: ApplyOptions = {},
): Promise<MigrationReport> {
  const warn = opts.onWarning ?? ((message: string) => console.warn(`[migrate] ${message}`));
  const files = await readMigrations(dir);
  // Session-level lock: other processes migrating the same database wait here.
  await conn.query(`SELECT pg_advisory_lock(${LOCK_KEY})`);
  try {
    await conn.exec(CREATE_TABLE);
    const rows = await conn.query<MigrationRow>(SELECT_ROWS);
    const failed = rows.find((r) => isLive(r) && r.finished_at === null);
    if (failed) throw failedMigrationError(failed);
    for (const file of files) {
      const applied = rows.find((r) => isFinished(r) && r.migration_name === file.name);
      if (applied && applied.checksum !== file.checksum) {
        warn(
          `migration ${file.name} was modified after it was applied (checksum differs); it is not re-run.`,
        );
      }
    }
    const pending = files.filter((f) => !rows.some((r) => isLive(r) && r.migration_name === f.name));
    for (const file of pending) await applyOne(conn, file);
    return { applied: pending.map((f) => f.name), total: files.length };
  } finally {
    // A session that broke has dropped the lock already; its error must not hide the migration's.
    await conn.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`).catch(() => undefined);
  }
}

async function applyOne(conn: MigrationConnection, file: MigrationFile): Promise<void> {
  const id = randomUUID();
  await conn.query(
    `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())`,
    [id, file.checksum, file.name],
  );
  try {
    await conn.exec(file.script);
  } catch (e) {
    // A script with its own BEGIN leaves the session in an aborted transaction; outside one this only warns.
    await conn.exec("ROLLBACK").catch(() => undefined);
    const logs = describeDbError(e);
    await conn.query(`UPDATE "_prisma_migrations" SET logs = $1 WHERE id = $2`, [logs, id]);
    throw Object.assign(
      new Error(
        `Migration ${file.name} failed to apply; nothing after it was applied (Prisma P3018).\n${logs}`,
        { cause: e },
      ),
      { code: "P3018", migration: file.name },
    );
  }
  await conn.query(
    `UPDATE "_prisma_migrations" SET applied_steps_count = 1, finished_at = now() WHERE id = $1`,
    [id],
  );
}

function describeDbError(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  return typeof code === "string" ? `Database error code: ${code}\n\nDatabase error:\n${message}` : message;
}

function failedMigrationError(row: MigrationRow): Error {
  const started = new Date(row.started_at).toISOString();
  return Object.assign(
    new Error(
      `Migration ${row.migration_name} (started ${started}) failed and is not resolved, so no migration is applied ` +
        `(Prisma P3009). Fix the database, then mark it with \`prisma migrate resolve --rolled-back ` +
        `${row.migration_name}\` (or --applied), or set rolled_back_at on its _prisma_migrations row.`,
    ),
    { code: "P3009", migration: row.migration_name },
  );
}

/** Migration session over a PGlite database (which only ever has one session). */
export function pgliteMigrationConnection(db: PGlite): MigrationConnection {
  return {
    query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
    exec: async (script: string) => {
      await db.exec(script);
    },
  };
}

/** Migration session over one connected `pg` client (not a pool: the advisory lock is per session). */
export function pgMigrationConnection(client: Client): MigrationConnection {
  return {
    query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
    // Without parameters `pg` uses the simple query protocol: the whole script is one implicit transaction.
    exec: async (script: string) => {
      await client.query(script);
    },
  };
}
