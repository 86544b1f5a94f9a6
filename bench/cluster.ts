import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..");

/** A throwaway PostgreSQL cluster from scripts/postgres.sh (durability off; thrown away after the run). */
export interface Cluster {
  url: string;
  /** A URL of the same server for another database. */
  urlFor(database: string): string;
  /** The postmaster's process id (its backends are its children). */
  postmasterPid(): number;
  stop(): void;
}

/** Starts a cluster and returns its URL; `stop` removes it. */
export function startCluster(): Cluster {
  const out = execFileSync(join(ROOT, "scripts", "postgres.sh"), ["start"], { encoding: "utf8" });
  const [url, dir] = out.trim().split("\n");
  if (!url || !dir) throw new Error(`scripts/postgres.sh start printed no URL:\n${out}`);
  let stopped = false;
  return {
    url,
    urlFor(database) {
      const u = new URL(url);
      u.pathname = `/${database}`;
      return u.toString();
    },
    postmasterPid() {
      return Number(readFileSync(join(dir, "postmaster.pid"), "utf8").split("\n")[0]);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      execFileSync(join(ROOT, "scripts", "postgres.sh"), ["stop", dir]);
    },
  };
}
