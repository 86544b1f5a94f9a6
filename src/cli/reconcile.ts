import { setTimeout as sleep } from "node:timers/promises";
import cliProgress from "cli-progress";
import { Command, InvalidArgumentError } from "commander";
import { ConfigError, loadConfig, type Config } from "../config/index";
import { openDatabase } from "../db/index";
import { createSyncStore } from "../db/sync-store";
import { parseDuration } from "../reconcile/duration";
import {
  reconcile,
  ReconcileRefusedError,
  type ReconcileProgress,
  type ReconcileSummary,
} from "../reconcile/index";
import { createStackApiClient } from "../stack/api";

interface Options {
  dryRun: boolean;
  force: boolean;
  every?: number;
  maxDeleteShare: number;
  pageSize: number;
  json: boolean;
}

/** Exit codes: 0 done, 1 failed, 2 refused a mass deletion (nothing deleted). */
const EXIT_FAILED = 1;
const EXIT_REFUSED = 2;
/** Listing pages are larger than a single user read: give them more time than fetch-on-notify's 5 s. */
const API_TIMEOUT_MS = 30_000;

const program = new Command("reconcile")
  .description("Bring the users/profiles tables to Stack Auth's current state (SPEC §6).")
  .option("--dry-run", "print the plan, write nothing", false)
  .option("--force", "delete even when more than --max-delete-share of the users would go", false)
  .option("--every <interval>", "run again after each interval, e.g. 1h or 15m", (v: string) => {
    const ms = parseDuration(v);
    if (ms === null) throw new InvalidArgumentError("must be a duration such as 30s, 15m, 1h or 1d");
    return ms;
  })
  .option("--max-delete-share <share>", "largest share of local users deleted without --force", shareArg, 0.1)
  .option(
    "--page-size <n>",
    "users per API page",
    (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 1000)
        throw new InvalidArgumentError("must be a whole number from 1 to 1000");
      return n;
    },
    200,
  )
  .option("--json", "print the summary as one JSON line", false);

function shareArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError("must be a number from 0 to 1");
  return n;
}

/** Progress on a terminal: one bar per phase. Elsewhere (CI, logs): a plain line every few seconds. */
function progressReporter(): { report: (p: ReconcileProgress) => void; done: () => void } {
  const tty = process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | null = null;
  let phase = "";
  let lastLine = 0;
  const show = (name: string, value: number, total: number) => {
    if (!tty) {
      if (Date.now() - lastLine < 2_000 && value < total) return;
      lastLine = Date.now();
      console.error(`reconcile: ${name} ${value}/${total}`);
      return;
    }
    if (phase !== name) {
      bar?.stop();
      bar = new cliProgress.SingleBar(
        {
          format: `${name.padEnd(9)} [{bar}] {value}/{total} users | {duration_formatted}`,
          hideCursor: true,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, value);
      phase = name;
    }
    bar?.setTotal(total);
    bar?.update(value);
  };
  return {
    report(p) {
      if (p.phase === "listing") show("listing", p.listed, Math.max(p.listed, p.localBefore));
      else if (p.phase === "checking" || p.phase === "deleting") show(p.phase, p.done, p.total);
      else if (p.phase === "conflicts")
        console.error(`reconcile: retrying ${p.pending} user(s) whose email another user held`);
      else if (!tty)
        console.error(
          `reconcile: Stack Auth ${p.reason === "rate_limited" ? "rate limit" : "unavailable"}, waiting ${p.seconds.toFixed(1)} s`,
        );
    },
    done() {
      bar?.stop();
      bar = null;
      phase = "";
    },
  };
}

function printSummary(summary: ReconcileSummary, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(summary));
    return;
  }
  const { plan } = summary;
  const lines = [
    `${summary.dryRun ? "Dry run (nothing written)" : "Reconciled"} in ${(summary.durationMs / 1000).toFixed(1)} s: ` +
      `${summary.stackUsers} users in Stack Auth, ${summary.localUsersBefore} here before the run.`,
    `  ${summary.dryRun ? "would create" : "created"}: ${summary.created}   ${summary.dryRun ? "would update" : "updated"}: ${summary.updated}   ` +
      `${summary.dryRun ? "would delete" : "deleted"}: ${summary.deleted}   unchanged: ${summary.unchanged}   skipped: ${summary.skipped}`,
  ];
  if (summary.missedByListing > 0)
    lines.push(`  ${summary.missedByListing} user(s) moved during the listing and were read one by one.`);
  if (summary.apiWaits > 0)
    lines.push(`  waited ${summary.apiWaits} time(s) for Stack Auth (rate limit or unavailable).`);
  if (summary.conflicts.length > 0)
    lines.push(`  email held by another user, left as is: ${sample(summary.conflicts)}`);
  if (summary.invalid.length > 0)
    lines.push(`  not fitting the user schema, left as is: ${sample(summary.invalid.map((i) => i.id))}`);
  if (summary.refusal && summary.dryRun) lines.push(`  a real run would stop: ${summary.refusal}`);
  if (plan) {
    if (plan.create.length > 0) lines.push(`  create: ${sample(plan.create.map((c) => c.id))}`);
    if (plan.update.length > 0)
      lines.push(`  update: ${sample(plan.update.map((u) => `${u.id} (${u.fields.join(", ")})`))}`);
    if (plan.delete.length > 0) lines.push(`  delete: ${sample(plan.delete)}`);
  }
  console.log(lines.join("\n"));
}

function sample(items: string[], max = 10): string {
  const shown = items.slice(0, max).join(", ");
  return items.length > max ? `${shown}, … and ${items.length - max} more` : shown;
}

async function runOnce(config: Config, opts: Options, signal: AbortSignal): Promise<number> {
  const { projectId, secretServerKey, apiUrl } = config.stack;
  if (!secretServerKey || !projectId) {
    console.error(
      "reconcile: STACK_SECRET_SERVER_KEY and STACK_PROJECT_ID must be set: reconcile reads users from Stack Auth's server API.",
    );
    return EXIT_FAILED;
  }
  const db = await openDatabase(config.database);
  const progress = progressReporter();
  try {
    await db.migrate();
    const summary = await reconcile({
      store: createSyncStore(db.prisma),
      prisma: db.prisma,
      api: createStackApiClient({ apiUrl, projectId, secretServerKey, timeoutMs: API_TIMEOUT_MS }),
      options: {
        syncAnonymousUsers: config.syncAnonymousUsers,
        passwordHashRounds: config.passwordHashRounds,
      },
      dryRun: opts.dryRun,
      force: opts.force,
      maxDeleteShare: opts.maxDeleteShare,
      pageSize: opts.pageSize,
      onProgress: progress.report,
      signal,
    });
    progress.done();
    printSummary(summary, opts.json);
    return 0;
  } catch (error) {
    progress.done();
    if (error instanceof ReconcileRefusedError) {
      console.error(`reconcile: ${error.message}`);
      printSummary(error.summary, opts.json);
      return EXIT_REFUSED;
    }
    throw error;
  } finally {
    await db.close();
  }
}

async function main(): Promise<number> {
  const opts = program.parse().opts<Options>();
  const config = loadConfig();
  const stop = new AbortController();
  process.once("SIGINT", () => stop.abort(new Error("interrupted")));
  process.once("SIGTERM", () => stop.abort(new Error("terminated")));
  for (;;) {
    let code: number;
    try {
      code = await runOnce(config, opts, stop.signal);
    } catch (error) {
      if (stop.signal.aborted) return 130;
      console.error(`reconcile: failed: ${error instanceof Error ? error.message : String(error)}`);
      code = EXIT_FAILED;
    }
    if (opts.every === undefined) return code;
    // Periodic mode keeps going after a failed run: the next one may well succeed.
    console.error(`reconcile: next run at ${new Date(Date.now() + opts.every).toISOString()}`);
    try {
      await sleep(opts.every, undefined, { signal: stop.signal });
    } catch {
      return 0;
    }
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      error instanceof ConfigError
        ? `reconcile: configuration error: ${error.message}`
        : `reconcile: failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(EXIT_FAILED);
  },
);
