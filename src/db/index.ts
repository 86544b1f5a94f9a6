import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import pg from "pg";
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

async function openPglite(dataDir: string | null): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
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
