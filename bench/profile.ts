import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pg from "pg";
import { TEST_SECRET } from "../test/support/fixtures";
import type { BenchArgs } from "./args";
import { startCluster } from "./cluster";
import { analyse, type ProfileSummary } from "./cpuprofile";
import { createdDelivery, cycle, deletedDelivery, duplicateDelivery, once, updatedDelivery } from "./events";
import { deliveryJob, WebhookClient, type Delivery } from "./http";
import { closedLoop } from "./load";
import { createUsers, recordProcessed } from "./pools";
import { markdown } from "./report";
import { ensureBenchBuild, startServer } from "./server";

/**
 * `--profile [event]`: the server under `--cpu-prof` while our endpoint takes `event` at the highest
 * concurrency level; prints the top self-time frames of the measured stretch and keeps the profile.
 */
export async function runProfile(args: BenchArgs): Promise<void> {
  const kind = args.profile ?? "updated";
  const concurrency = Math.max(...args.levels);
  const dir = resolve(args.outDir, `profile-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  mkdirSync(dir, { recursive: true });
  ensureBenchBuild(console.log);
  const cluster = startCluster();
  const admin = new pg.Pool({ connectionString: cluster.url, max: 2 });
  const window = { fromUs: 0, toUs: 0 };
  try {
    const server = await startServer({
      databaseUrl: cluster.url,
      secret: TEST_SECRET,
      rounds: kind === "created" ? 12 : 4,
      logFile: join(dir, "server.log"),
      logLevel: args.logLevel,
      env: args.serverEnv,
      nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`],
    });
    const client = new WebhookClient(server.url, TEST_SECRET, concurrency);
    try {
      const size = 200_000;
      await createUsers(admin, "pro", size);
      await recordProcessed(admin, "pro", size);
      await admin.query("VACUUM ANALYZE");
      const users = kind === "deleted" ? once("pro", size) : cycle("pro", size);
      const make = { updated: updatedDelivery, duplicate: duplicateDelivery, deleted: deletedDelivery };
      const delivery = (): Delivery | null => {
        if (kind === "created") return createdDelivery("ours");
        const t = users();
        return t === null ? null : make[kind]("ours", t);
      };
      const expected = kind === "duplicate" ? "duplicate" : "processed";
      const next = () => {
        const d = delivery();
        return d && deliveryJob(client, d, expected);
      };
      // Warm first (JIT, pool); only the measured stretch counts in the profile.
      await closedLoop({ concurrency, durationMs: 2000, next });
      window.fromUs = nowUs();
      const m = await closedLoop({ concurrency, durationMs: args.durationMs, next });
      window.toUs = nowUs();
      const figures = `${m.throughput.toFixed(0)} ev/s, p50 ${m.p50Ms.toFixed(1)} ms, p99 ${m.p99Ms.toFixed(1)} ms`;
      console.log(`${kind} c=${concurrency}: ${figures}, errors ${m.errors}`);
    } finally {
      client.close();
      await server.stop();
    }
  } finally {
    await admin.end();
    cluster.stop();
  }
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}: did the server exit cleanly?`);
  for (const file of files) {
    const summary = analyse(join(dir, file), window);
    print(file, summary);
    const kept = { ...summary, frames: summary.frames.slice(0, 200) };
    writeFileSync(join(dir, `${file}.summary.json`), JSON.stringify(kept, null, 2));
  }
  console.log(`\nprofiles and summaries in ${dir} (open a .cpuprofile in Chrome DevTools › Performance)`);
}

function print(file: string, summary: ProfileSummary): void {
  const busy = summary.totalMs - summary.idleMs;
  const share = ((busy * 100) / summary.totalMs).toFixed(0);
  console.log(
    `\n${file}: ${(summary.totalMs / 1000).toFixed(1)} s of load profiled, main thread busy ${share}%`,
  );
  const areas = summary.areas.slice(0, 15).map((a) => [a.area, a.selfMs.toFixed(0), a.percent.toFixed(1)]);
  console.log("\nSelf time by area:\n" + markdown(["area", "ms", "% busy"], areas));
  const frames = summary.frames
    .slice(0, 30)
    .map((f) => [f.name, f.location, f.selfMs.toFixed(0), f.percent.toFixed(1)]);
  console.log("\nTop self-time frames:\n" + markdown(["function", "where", "ms", "% busy"], frames));
}

/** Now on CLOCK_MONOTONIC in µs: the clock of V8's profile timestamps. */
function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
