import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "../test/support/app-server";
import type { Cluster } from "./cluster";
import { CpuMeter } from "./cpu";
import type { HashLimit } from "./hash-limit";
import { markdown } from "./report";

const ROOT = join(import.meta.dirname, "..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
const EMULATOR = join(ROOT, "src", "cli", "emulator.ts");
const RECONCILE = join(ROOT, "src", "cli", "reconcile.ts");
// The emulator's own development credentials (src/cli/emulator.ts).
const PROJECT_ID = "5eed5eed-0000-4000-8000-000000000001";
const SERVER_KEY = "ssk_emulator_development_key";

/** One reconcile run: an empty database brought to the emulator's users. */
export interface ReconcileRun {
  rounds: number;
  users: number;
  created: number;
  /** The run's own duration (its summary's durationMs: listing, applying), ms. */
  durationMs: number;
  usersPerSecond: number;
  hashLimitPerSecond: number;
  /** users/s ÷ hash limit. */
  ratio: number;
  /** CPU share taken by processes other than reconcile, PostgreSQL and the bench (the emulator included). */
  othersPercent: number;
}

export interface ReconcileResult {
  summary: string;
  runs: ReconcileRun[];
  skipped?: string;
}

export interface ReconcileOptions {
  cluster: Cluster;
  /** [cost, users in the emulator] for each run. */
  runs: [rounds: number, users: number][];
  hash: Record<number, HashLimit>;
  log: (line: string) => void;
}

/**
 * `npm run reconcile` as an operator runs it (its CLI, in its own process), against the emulator's server
 * API seeded with users and no webhooks, into an empty database, at each cost. Skipped with the reason
 * when the emulator or reconcile is missing or fails.
 */
export async function benchReconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const missing = [EMULATOR, RECONCILE].filter((f) => !existsSync(f));
  if (missing.length > 0)
    return skipped(`not built yet (${missing.map((f) => f.slice(ROOT.length + 1)).join(", ")})`);
  const runs: ReconcileRun[] = [];
  try {
    for (const [rounds, users] of options.runs) {
      const hash = options.hash[rounds];
      if (!hash) continue;
      const run = await reconcileOnce(options.cluster, rounds, users, hash);
      options.log(
        `  cost ${rounds}: ${run.created} users in ${(run.durationMs / 1000).toFixed(1)} s = ${run.usersPerSecond.toFixed(1)} users/s (${run.ratio.toFixed(2)} × hash limit)`,
      );
      runs.push(run);
    }
  } catch (error) {
    return skipped(`it failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { summary: `\n${table(runs)}`, runs };
}

function skipped(reason: string): ReconcileResult {
  return { summary: `skipped: reconcile ${reason}`, runs: [], skipped: reason };
}

async function reconcileOnce(
  cluster: Cluster,
  rounds: number,
  users: number,
  hash: HashLimit,
): Promise<ReconcileRun> {
  const database = `reconcile_${rounds}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const port = await freePort();
  const emulator = spawn(
    TSX,
    [
      EMULATOR,
      "--port",
      String(port),
      "--no-webhooks",
      "--seed-users",
      String(users),
      "--anonymous-share",
      "0",
      "--quiet",
    ],
    { cwd: ROOT, env: baseEnv(), stdio: ["ignore", "pipe", "pipe"] },
  );
  try {
    await waitForLine(emulator, /Stack Auth emulator on/, 60_000);
    let pid: number | null = null;
    const cpu = new CpuMeter(
      () => pid,
      () => cluster.postmasterPid(),
    );
    const run = runToEnd(TSX, [RECONCILE, "--json", "--force", "--page-size", "1000"], {
      ...baseEnv(),
      DATABASE_URL: cluster.urlFor(database),
      STACK_API_URL: `http://127.0.0.1:${port}`,
      STACK_PROJECT_ID: PROJECT_ID,
      STACK_SECRET_SERVER_KEY: SERVER_KEY,
      PASSWORD_HASH_ROUNDS: String(rounds),
    });
    pid = run.pid;
    cpu.begin();
    const out = await run.done;
    const othersPercent = cpu.end(users).foreignPercent;
    const line = out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .pop();
    if (!line) throw new Error(`reconcile printed no summary:\n${out.slice(-2000)}`);
    const summary = JSON.parse(line) as { created: number; durationMs: number };
    const usersPerSecond = (summary.created * 1000) / summary.durationMs;
    return {
      rounds,
      users,
      created: summary.created,
      durationMs: summary.durationMs,
      usersPerSecond,
      hashLimitPerSecond: hash.perSecond,
      ratio: usersPerSecond / hash.perSecond,
      othersPercent,
    };
  } finally {
    emulator.kill("SIGTERM");
  }
}

function table(runs: readonly ReconcileRun[]): string {
  return markdown(
    [
      "cost",
      "users",
      "created",
      "seconds",
      "users/s",
      "hash limit /s",
      "users/s ÷ hash limit",
      "others CPU%",
    ],
    runs.map((r) => [
      String(r.rounds),
      String(r.users),
      String(r.created),
      (r.durationMs / 1000).toFixed(1),
      r.usersPerSecond.toFixed(1),
      r.hashLimitPerSecond.toFixed(1),
      r.ratio.toFixed(2),
      r.othersPercent.toFixed(0),
    ]),
  );
}

function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "production", CHECKPOINT_DISABLE: "1" };
}

function waitForLine(child: ReturnType<typeof spawn>, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(
      () => reject(new Error(`no "${pattern.source}" in ${timeoutMs} ms:\n${seen}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${seen}`));
    });
  });
}

function runToEnd(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): { pid: number | null; done: Promise<string> } {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const done = new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`exit ${code}:\n${out.slice(-2000)}`)),
    );
  });
  return { pid: child.pid ?? null, done };
}
