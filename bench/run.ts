import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { TEST_SECRET } from "../test/support/fixtures";
import { parseArgs, type BenchArgs } from "./args";
import { startCluster } from "./cluster";
import { captureTemplates, describeTemplates, type EventKind } from "./db-limit";
import { createdDelivery, cycle, updatedDelivery } from "./events";
import { measureHashLimit, type HashLimit } from "./hash-limit";
import { deliveryJob, WebhookClient } from "./http";
import { closedLoop } from "./load";
import { machineInfo } from "./machine";
import { mixedRun, type MixedResult } from "./mixed";
import { CpuMeter } from "./cpu";
import { createUsers, recordProcessed } from "./pools";
import { runProfile } from "./profile";
import { runStoreProbe } from "./store";
import { benchReconcile, type ReconcileResult } from "./reconcile";
import { cpuTable, hashTable, mixedTable, ratios, table } from "./report";
import { measureRow, UPDATE_POOL, type Row, type ScenarioContext } from "./scenarios";
import { ensureBenchBuild, startServer, type BenchServer } from "./server";
import { checkTargets, formatTargets } from "./targets";

const EVENT_ORDER = ["created@12", "created@4", "updated", "deleted", "duplicate"];
const log = (line: string) => console.log(line);

/** Everything one run measured, as written to bench-results/<timestamp>.json. */
interface Results {
  rows: Row[];
  mixed: MixedResult[];
  serverPeaks: Record<string, number>;
  reconcile: ReconcileResult | null;
  statements: ReturnType<typeof describeTemplates> | null;
}

async function main(args: BenchArgs): Promise<void> {
  const started = new Date();
  const stamp = started.toISOString().replace(/[:.]/g, "-");
  const machine = machineInfo();
  log(
    `stack-sync bench: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}`,
  );
  log(`load average at start: ${machine.loadAverageAtStart.join(" ")}; commit ${machine.git.commit}`);
  if (machine.git.dirty.length > 0) log(`uncommitted under src/: ${machine.git.dirty.length} files`);

  log("hash limit (the service's own bcrypt call, one at a time)…");
  const hash: Record<number, HashLimit> = {
    12: await measureHashLimit(12, args.quick ? 3 : 10),
    4: await measureHashLimit(4, args.quick ? 50 : 200),
  };
  log(hashTable(Object.values(hash)));

  ensureBenchBuild(log);
  const cluster = startCluster();
  const admin = new pg.Pool({ connectionString: cluster.url, max: 2 });
  const results: Results = { rows: [], mixed: [], serverPeaks: {}, reconcile: null, statements: null };
  const serverLog = join(tmpdir(), `stack-sync-bench-${stamp}.log`);
  let server: BenchServer | null = null;
  try {
    const env = {
      secret: TEST_SECRET,
      databaseUrl: cluster.url,
      admin,
      cpu: new CpuMeter(
        () => server?.pid ?? null,
        () => cluster.postmasterPid(),
      ),
      log,
      durationMs: args.durationMs,
      updatePoolSize: args.quick ? 2000 : 5000,
    };
    const start = (rounds: number) =>
      startServer({
        databaseUrl: cluster.url,
        secret: TEST_SECRET,
        rounds,
        logFile: serverLog,
        logLevel: args.logLevel,
        env: args.serverEnv,
      });

    log(`\nserver at PASSWORD_HASH_ROUNDS=12 (its log: ${serverLog})`);
    const server12 = (server = await start(12));
    try {
      // The statements do not depend on the hash cost: captured once, after the server migrated the database.
      const templates = await captureTemplates(cluster.url);
      results.statements = describeTemplates(templates);
      await createUsers(admin, UPDATE_POOL, env.updatePoolSize);
      await recordProcessed(admin, UPDATE_POOL, env.updatePoolSize);
      await admin.query("VACUUM ANALYZE");
      await warm(server12, env.updatePoolSize);
      const ctx: ScenarioContext = { ...env, server: server12, templates, hashLimit: hash[12] };
      await measureKinds(args, ctx, results.rows);
      if (args.only.has("mixed")) results.mixed = await measureMixed(args, server12, env, results.rows);
      results.serverPeaks["rounds=12"] = server12.rss.lifetimePeakMiB();

      if (args.only.has("created")) {
        await server12.stop();
        log("\nserver at PASSWORD_HASH_ROUNDS=4");
        const server4 = (server = await start(4));
        try {
          await warm(server4, env.updatePoolSize);
          const ctx4: ScenarioContext = { ...env, server: server4, templates, hashLimit: hash[4] };
          for (const c of args.levels) results.rows.push(await measureRow("created", "created@4", c, ctx4));
          results.serverPeaks["rounds=4"] = server4.rss.lifetimePeakMiB();
        } finally {
          await server4.stop();
        }
      }
    } finally {
      await server12.stop();
    }

    if (args.only.has("reconcile")) {
      const runs: [number, number][] = [
        [12, args.reconcileUsers12],
        [4, args.reconcileUsers],
      ];
      log(`\nreconcile from the emulator: ${runs.map(([r, u]) => `${u} users at cost ${r}`).join(", ")}`);
      results.reconcile = await benchReconcile({ cluster, runs, hash, log });
    }
  } finally {
    await admin.end();
    cluster.stop();
  }
  report(args, stamp, started, machine, hash, results);
}

/** user.created at cost 12, updated, deleted, duplicate: every level, ours, seed and database limit. */
async function measureKinds(args: BenchArgs, ctx: ScenarioContext, rows: Row[]): Promise<void> {
  const kinds: [EventKind, string][] = [
    ["created", "created@12"],
    ["updated", "updated"],
    ["deleted", "deleted"],
    ["duplicate", "duplicate"],
  ];
  for (const [kind, label] of kinds) {
    if (!args.only.has(kind)) continue;
    for (const c of args.levels) {
      const previous = rows.find((r) => r.event === "updated" && r.concurrency === c);
      rows.push(await measureRow(kind, label, c, ctx, previous));
    }
  }
}

/** Update latency with and without a creation burst, ours then the seed's. */
async function measureMixed(
  args: BenchArgs,
  server: BenchServer,
  env: { updatePoolSize: number; cpu: CpuMeter },
  rows: readonly Row[],
): Promise<MixedResult[]> {
  const poolSize = env.updatePoolSize;
  log("mixed: steady user.updated with and without a burst of user.created at cost 12");
  const client = new WebhookClient(server.url, TEST_SECRET, 64);
  // 50/s, or less where even that would overload the slower design (a machine busy with other work):
  // at most 30% of its update throughput at c=8, from this run's table or a short probe.
  const users = cycle(UPDATE_POOL, poolSize);
  const capacity = async (impl: "ours" | "seed") => {
    const row = rows.find((r) => r.event === "updated" && r.concurrency === 8)?.[impl];
    if (row) return row.throughput;
    const expected = impl === "ours" ? "processed" : "received";
    const next = () => deliveryJob(client, updatedDelivery(impl, users()), expected);
    return (await closedLoop({ concurrency: 8, durationMs: 3000, next })).throughput;
  };
  const slower = Math.min(await capacity("ours"), await capacity("seed"));
  const ratePerSecond = Math.max(5, Math.min(50, Math.floor(slower * 0.3)));
  const out: MixedResult[] = [];
  try {
    for (const impl of ["ours", "seed"] as const) {
      const m = await mixedRun(client, impl, {
        ratePerSecond,
        quietMs: args.quick ? 3000 : 8000,
        burstSize: args.quick ? 24 : 96,
        burstConcurrency: args.quick ? 16 : 32,
        nextUser: cycle(UPDATE_POOL, poolSize),
        cpu: env.cpu,
      });
      const p99 = `quiet ${m.quiet.p99Ms.toFixed(1)} ms, in burst ${m.burst.p99Ms.toFixed(1)} ms`;
      const others = `others ${m.othersPercent.quiet.toFixed(0)}% / ${m.othersPercent.burst.toFixed(0)}% CPU`;
      log(`  ${impl}: update p99 ${p99} (×${m.p99Ratio.toFixed(2)}; ${others})`);
      out.push(m);
    }
  } finally {
    client.close();
  }
  return out;
}

/** Prints the tables, ratios and targets, and writes the JSON file. */
function report(
  args: BenchArgs,
  stamp: string,
  started: Date,
  machine: ReturnType<typeof machineInfo>,
  hash: Record<number, HashLimit>,
  results: Results,
): void {
  const rows = [...results.rows].sort(
    (a, b) => EVENT_ORDER.indexOf(a.event) - EVENT_ORDER.indexOf(b.event) || a.concurrency - b.concurrency,
  );
  const hashFor = (event: string) =>
    event === "created@12" ? hash[12] : event === "created@4" ? hash[4] : undefined;
  const targets = checkTargets(rows, results.mixed, hash);
  log(`\n## Results (${args.durationMs / 1000} s per level; throughput in events/s, latency in ms)\n`);
  log(table(rows, hashFor));
  log(`\nCPU time per event, ms (cores × 1000 ÷ a design's server + pg is its CPU-bound ceiling):`);
  log(cpuTable(rows));
  log(`\nHash limit = cores ÷ one hash:\n${hashTable(Object.values(hash))}`);
  const [first] = results.mixed;
  if (first) {
    log(`\nMixed run (user.updated at ${first.ratePerSecond}/s; burst of user.created at cost 12):`);
    log(mixedTable(results.mixed));
  }
  if (results.reconcile) log(`\nReconcile: ${results.reconcile.summary}`);
  log(`\nTargets:\n${formatTargets(targets)}`);
  const peaks = Object.entries(results.serverPeaks).map(([k, v]) => `${k} ${v.toFixed(0)} MiB`);
  log(`\nPeak RSS of the server over its life (VmHWM): ${peaks.join(", ")}`);

  mkdirSync(args.outDir, { recursive: true });
  const file = join(args.outDir, `${stamp}.json`);
  const json = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    args: { ...args, only: [...args.only] },
    machine,
    hashLimits: hash,
    ...results,
    rows: rows.map((row) => ({ ...row, ratios: ratios(row, hashFor(row.event)) })),
    targets,
  };
  writeFileSync(file, JSON.stringify(json, null, 2) + "\n");
  log(`\nwritten: ${file}`);
}

/** JIT, connection pools and the bcrypt threads warmed on both designs before anything is measured. */
async function warm(server: BenchServer, poolSize: number): Promise<void> {
  const client = new WebhookClient(server.url, TEST_SECRET, 8);
  const users = cycle(UPDATE_POOL, poolSize);
  try {
    for (const impl of ["ours", "seed"] as const) {
      const expected = impl === "ours" ? "processed" : "received";
      const update = () => deliveryJob(client, updatedDelivery(impl, users()), expected);
      await closedLoop({ concurrency: 8, durationMs: 1500, next: update });
      let left = 4;
      const create = () => (left-- > 0 ? deliveryJob(client, createdDelivery(impl), expected) : null);
      await closedLoop({ concurrency: 4, durationMs: 60_000, next: create });
    }
  } finally {
    client.close();
  }
}

const args = parseArgs(process.argv.slice(2));
(args.profile ? runProfile(args) : args.store ? runStoreProbe(args) : main(args)).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
