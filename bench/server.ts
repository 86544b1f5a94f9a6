import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../test/support/app-server";
import { RssSampler } from "./rss";

const ROOT = join(import.meta.dirname, "..");
/** The bench's own build folder, so it never collides with the tests' or anyone's `.next`. */
export const DIST_DIR = ".next-bench";
const SEED_ROUTE = join(ROOT, DIST_DIR, "server", "app", "api", "bench", "seed", "route.js");

/**
 * Builds the app with the bench-only seed route (STACK_SYNC_BENCH=1) into `.next-bench` when there is no
 * such build or a source file is newer than it. Returns false when the build was fresh already.
 */
export function ensureBenchBuild(log: (line: string) => void): boolean {
  const builtAt = mtime(join(ROOT, DIST_DIR, "BUILD_ID"));
  if (builtAt > newestSource() && existsSync(SEED_ROUTE)) return false;
  log(`building the app into ${DIST_DIR} (STACK_SYNC_BENCH=1)…`);
  const result = spawnSync(join(ROOT, "node_modules", ".bin", "next"), ["build"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NEXT_DIST_DIR: DIST_DIR, STACK_SYNC_BENCH: "1" },
  });
  if (result.status !== 0) throw new Error(`next build failed:\n${result.stdout}\n${result.stderr}`);
  if (!existsSync(SEED_ROUTE)) throw new Error(`the build has no bench seed route (${SEED_ROUTE})`);
  return true;
}

export interface ServerOptions {
  databaseUrl: string;
  secret: string;
  rounds: number;
  /** Where the server's stdout and stderr go (a file: reading a pipe would cost the bench process CPU). */
  logFile: string;
  /** Flags for the server's `node` (e.g. `--cpu-prof`, which NODE_OPTIONS does not accept). */
  nodeArgs?: string[];
  logLevel?: string;
  /** More environment for the server (experiments: `--server-env UV_THREADPOOL_SIZE=8`). */
  env?: Record<string, string>;
}

export interface BenchServer {
  url: string;
  pid: number;
  rss: RssSampler;
  /** SIGTERM, then SIGKILL after 15 s; resolves when the process is gone. */
  stop(): Promise<void>;
}

/** Starts `next start` from the bench build (NODE_ENV=production) and waits until the webhook answers. */
export async function startServer(options: ServerOptions): Promise<BenchServer> {
  const port = await freePort();
  const out = openSync(options.logFile, "a");
  const next = join(ROOT, "node_modules", "next", "dist", "bin", "next");
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), next, "start", "-p", String(port), "-H", "127.0.0.1"],
    {
      cwd: ROOT,
      stdio: ["ignore", out, out],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: "production",
        NEXT_TELEMETRY_DISABLED: "1",
        NEXT_DIST_DIR: DIST_DIR,
        DATABASE_URL: options.databaseUrl,
        STACK_WEBHOOK_SECRET: options.secret,
        PASSWORD_HASH_ROUNDS: String(options.rounds),
        LOG_LEVEL: options.logLevel ?? "info",
        ...options.env,
      },
    },
  );
  closeSync(out);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited:\n${tail(options.logFile)}`);
    try {
      const res = await fetch(`${url}/api/webhooks/stack/user/sync`, { method: "GET" });
      await res.body?.cancel();
      if (res.status === 405) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`next start did not answer in 60 s:\n${tail(options.logFile)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const pid = child.pid as number;
  return {
    url,
    pid,
    rss: new RssSampler(pid),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** Newest file the build reads: src/ (tests aside), the seed handler, next.config.ts. */
function newestSource(): number {
  let newest = Math.max(
    mtime(join(ROOT, "next.config.ts")),
    mtime(join(ROOT, "bench", "tsconfig.next.json")),
  );
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!entry.name.includes(".test.")) newest = Math.max(newest, mtime(path));
    }
  };
  walk(join(ROOT, "src"));
  walk(join(ROOT, "bench", "seed"));
  return newest;
}
