import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import pg from "pg";
import lockfile from "proper-lockfile";
import type { DatabaseTarget } from "../config";
import { PrismaClient } from "../generated/prisma/client";
import {
  applyMigrations,
  pendingMigrations,
  pgliteMigrationConnection,
  pgMigrationConnection,
  type MigrationConnection,
  type MigrationReport,
} from "./migrate";

export type { MigrationReport } from "./migrate";
export { PrismaClient } from "../generated/prisma/client";
export type { Prisma } from "../generated/prisma/client";

/** An open database: the Prisma client the rest of the code uses, whichever engine is underneath. */
export interface Database {
  readonly kind: "pglite" | "postgres";
  readonly prisma: PrismaClient;
  /** Applies pending migrations from `prisma/migrations` (Prisma's `_prisma_migrations` protocol). */
  migrate(): Promise<MigrationReport>;
  /** Migrations present on disk but not applied to this database. */
  pendingMigrations(): Promise<string[]>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** Called with errors of idle pool connections, which would otherwise crash the process. */
  onConnectionError?: (error: Error) => void;
}

/** Opens the database a target names; creates the embedded data folder when needed. */
export async function openDatabase(target: DatabaseTarget, options: OpenOptions = {}): Promise<Database> {
  return target.kind === "postgres" ? openPostgres(target.url, options) : openPglite(target.dataDir);
}

/** Thrown when another process has the embedded database open. */
export class DatabaseLockedError extends Error {
  override readonly name = "DatabaseLockedError";
}

async function openPglite(dataDir: string | null): Promise<Database> {
  let unlock = async (): Promise<void> => undefined;
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    unlock = await lockDataDir(dataDir);
  }
  const pglite = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  // PGlite has one connection, so transactions queue behind each other: give them time to wait.
  const prisma = new PrismaClient({
    adapter: new PrismaPGlite(pglite),
    transactionOptions: { maxWait: 60_000, timeout: 60_000 },
  });
  const session = pgliteMigrationConnection(pglite);
  return {
    kind: "pglite",
    prisma,
    migrate: () => applyMigrations(session),
    pendingMigrations: () => pendingMigrations(session),
    async close() {
      await prisma.$disconnect();
      await pglite.close();
      await unlock();
    },
  };
}

async function openPostgres(url: string, options: OpenOptions): Promise<Database> {
  const onError = options.onConnectionError ?? (() => undefined);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
  });
  pool.on("error", onError);
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pool, { onConnectionError: onError }),
    transactionOptions: { maxWait: 10_000, timeout: 15_000 },
  });
  // The advisory lock the migration runner takes is per session: use a connection of its own.
  const withSession = async <T>(fn: (session: MigrationConnection) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    client.on("error", onError);
    await client.connect();
    try {
      return await fn(pgMigrationConnection(client));
    } finally {
      await client.end();
    }
  };
  return {
    kind: "postgres",
    prisma,
    migrate: () => withSession((s) => applyMigrations(s)),
    pendingMigrations: () => withSession((s) => pendingMigrations(s)),
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/**
 * PGlite is one process's database: a second process opening the same folder loses the first one's writes
 * and can corrupt it. A lock beside the folder (refreshed while held, stale after 10 s if its holder died)
 * turns that into a clear refusal.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  try {
    return await lockfile.lock(dataDir, {
      stale: 10_000,
      update: 2_000,
      // Losing the lock (the process was frozen for longer than `stale`) must not crash the service.
      onCompromised: () => undefined,
    });
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ELOCKED") throw error;
    throw new DatabaseLockedError(
      `the embedded database in ${dataDir} is open in another stack-sync process: stop it (npm run dev?) ` +
        `or use PostgreSQL (DATABASE_URL) to run several processes`,
    );
  }
}
