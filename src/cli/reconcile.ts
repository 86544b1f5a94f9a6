import { setTimeout as sleep } from "node:timers/promises";
import { Command, InvalidArgumentError } from "commander";
import { ConfigError, loadConfig, type Config } from "../config";
import { DatabaseLockedError, openDatabase } from "../db";
import { createSyncStore } from "../db/sync-store";
import { parseDuration } from "../reconcile/duration";
import { reconcile, reconcileFailureCode, ReconcileRefusedError } from "../reconcile";
import { formatSummary, progressReporter } from "../reconcile/report";
import { recordReconcileRun } from "../ops/reconcile-runs";
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

async function runOnce(config: Config, opts: Options, signal: AbortSignal): Promise<number> {
  const { projectId, secretServerKey, apiUrl } = config.stack;
  if (!secretServerKey || !projectId) {
    console.error(
      "reconcile: STACK_SECRET_SERVER_KEY and STACK_PROJECT_ID must be set: reconcile reads users from Stack Auth's server API.",
    );
    return EXIT_FAILED;
  }
  const db = await openDatabase(config.database);
  const progress = progressReporter(process.stderr);
  try {
    await db.migrate();
    const run = () =>
      reconcile({
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
    // Recorded for the health check, the metrics and the status page.
    const summary = await recordReconcileRun(
      db.prisma,
      { dryRun: opts.dryRun, errorCode: reconcileFailureCode },
      run,
    );
    progress.done();
    console.log(opts.json ? JSON.stringify(summary) : formatSummary(summary));
    return 0;
  } catch (error) {
    progress.done();
    if (error instanceof ReconcileRefusedError) {
      console.error(`reconcile: ${error.message}`);
      console.log(opts.json ? JSON.stringify(error.summary) : formatSummary(error.summary));
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
      if (error instanceof DatabaseLockedError) {
        console.error(
          `reconcile: or run it inside the service: curl -X POST http://localhost:${config.port}/api/admin/reconcile`,
        );
      }
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
