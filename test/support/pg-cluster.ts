import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./app-server";

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own, which the test may stop and start again (an outage) without
 * touching the suite's shared server. It always comes back on the same port, so clients configured with
 * its URL reconnect by themselves.
 *
 * Unlike scripts/postgres.sh, `synchronous_commit` stays on: an `immediate` stop is a crash for the
 * server, and a commit it acknowledged must survive it, or the test would blame the service for a loss
 * the test set-up caused. (fsync stays off: the machine does not crash, only the server.)
 */
export interface PgCluster {
  readonly port: number;
  readonly dir: string;
  /** The URL of a database on this cluster (default `postgres`). */
  url(database?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** `fast` rolls back open transactions and closes sessions; `immediate` is a crash. */
  stop(mode: "fast" | "immediate"): Promise<void>;
  /** Starts the stopped server again, on the same port. */
  start(): Promise<void>;
  isRunning(): boolean;
  /** Stops the server and removes its files. */
  destroy(): Promise<void>;
}

function binDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "pg_ctl")))
        .sort((a, b) => Number(a) - Number(b))
    : [];
  const newest = versions.at(-1);
  if (!newest) throw new Error("PostgreSQL server binaries not found (apt-get install postgresql)");
  return join(root, newest, "bin");
}

/** initdb and postgres refuse to run as root: run them as the postgres user then. */
async function asOwner(command: string, args: string[]): Promise<void> {
  const root = process.getuid?.() === 0;
  await run(root ? "runuser" : command, root ? ["-u", "postgres", "--", command, ...args] : args, {
    timeout: 120_000,
  });
}

export async function startPgCluster(): Promise<PgCluster> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), "stack-sync-rel-pg-"));
  if (process.getuid?.() === 0) {
    const { uid, gid } = await postgresIds();
    chownSync(dir, uid, gid);
  }
  await asOwner(join(bin, "initdb"), [
    "-D",
    dir,
    "-U",
    "postgres",
    "-A",
    "trust",
    "-E",
    "UTF8",
    "--locale=C.UTF-8",
  ]);
  const port = await freePort();
  let running = false;
  const options = [
    `-h 127.0.0.1 -p ${port} -k ${dir}`,
    "-c fsync=off -c full_page_writes=off -c synchronous_commit=on -c max_connections=300",
  ].join(" ");
  const pgCtl = (args: string[]) => asOwner(join(bin, "pg_ctl"), ["-D", dir, ...args]);
  const start = async () => {
    await pgCtl(["-l", join(dir, "server.log"), "-w", "-t", "60", "start", "-o", options]);
    running = true;
  };
  const url = (database = "postgres") => `postgres://postgres@127.0.0.1:${port}/${database}`;
  await start();
  return {
    port,
    dir,
    url,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop(mode) {
      await pgCtl(["-m", mode, "-w", "-t", "60", "stop"]);
      running = false;
    },
    start,
    isRunning: () => running,
    async destroy() {
      if (running) await pgCtl(["-m", "immediate", "-w", "stop"]).catch(() => undefined);
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
    run("id", ["-u", "postgres"]),
    run("id", ["-g", "postgres"]),
  ]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}
