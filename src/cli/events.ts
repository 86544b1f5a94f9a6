import { Command, InvalidArgumentError } from "commander";
import { ConfigError, loadConfig, type Config } from "../config";
import { openDatabase, type Database } from "../db";
import { createSyncStore } from "../db/sync-store";
import { describeReplay, replayEvent } from "../ops/events";
import { readEvents, type EventRow } from "../ops/queries";
import { createStackApiClient } from "../stack/api";

const DEFAULT_LIMIT = 50;

/** `npm run events -- list [--failed] [--limit N]` and `npm run events -- replay <svix-id>`. */
const program = new Command("events")
  .description(
    "The webhook event log: list recent or failed events, replay a failed one once its cause is fixed.\n" +
      "With the embedded database (DATABASE_URL unset), stop the server first: PGlite allows one process.",
  )
  .showHelpAfterError();

program
  .command("list")
  .description("print the most recently seen events, newest first")
  .option("--failed", "only failed events (those kept with their body for replay)")
  .option("--limit <n>", "how many rows", parseLimit, DEFAULT_LIMIT)
  .action(async (options: { failed?: boolean; limit: number }) => {
    await withDatabase(async (_config, db) => {
      const rows = await readEvents(db.prisma, { failed: options.failed === true, limit: options.limit });
      if (rows.length === 0) console.log(options.failed ? "No failed events." : "No events in the log.");
      else console.log(table(rows));
    });
  });

program
  .command("replay")
  .description("apply a failed event's kept body again and print the outcome")
  .argument("<svix-id>", "the event's svix-id (see `list --failed`)")
  .action(async (svixId: string) => {
    await withDatabase(async (config, db) => {
      const { apiUrl, projectId, secretServerKey } = config.stack;
      // As live deliveries do: with a server key, the event is a notification and Stack's current state applies.
      const api =
        projectId && secretServerKey ? createStackApiClient({ apiUrl, projectId, secretServerKey }) : null;
      const outcome = await replayEvent(svixId, {
        prisma: db.prisma,
        store: createSyncStore(db.prisma),
        sync: {
          syncAnonymousUsers: config.syncAnonymousUsers,
          passwordHashRounds: config.passwordHashRounds,
        },
        ...(api && { fetchUser: (id: string) => api.getUser(id) }),
      });
      console.log(describeReplay(outcome, config.eventLogRetentionDays));
      if (outcome.kind !== "applied") process.exitCode = 1;
    });
  });

function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 10_000) throw new InvalidArgumentError("must be 1 to 10000");
  return n;
}

async function withDatabase(work: (config: Config, db: Database) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const db = await openDatabase(config.database);
  try {
    const pending = await db.pendingMigrations();
    if (pending.length > 0) {
      throw new Error(`the database lacks migrations (${pending.join(", ")}): run npm run db:migrate first`);
    }
    await work(config, db);
  } finally {
    await db.close();
  }
}

const COLUMNS: [string, (row: EventRow) => string][] = [
  ["LAST SEEN (UTC)", (r) => r.lastSeenAt.toISOString().slice(0, 19).replace("T", " ")],
  ["SVIX-ID", (r) => r.svixId],
  ["TYPE", (r) => r.type ?? "-"],
  ["USER ID", (r) => r.userId ?? "-"],
  ["OUTCOME", (r) => r.outcome],
  ["ERROR", (r) => r.errorCode ?? "-"],
  ["ATTEMPTS", (r) => String(r.attempts)],
  ["PAYLOAD", (r) => (r.hasPayload ? "kept" : "-")],
];

/** Rows as a plain, aligned text table. */
function table(rows: EventRow[]): string {
  const cells = rows.map((row) => COLUMNS.map(([, cell]) => cell(row)));
  const widths = COLUMNS.map(([title], i) => Math.max(title.length, ...cells.map((c) => c[i]?.length ?? 0)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(COLUMNS.map(([title]) => title)), ...cells.map(line)].join("\n");
}

program.parseAsync().catch((error: unknown) => {
  console.error(
    error instanceof ConfigError
      ? `stack-sync: configuration error: ${error.message}`
      : `stack-sync events: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
