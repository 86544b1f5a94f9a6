import { Command, InvalidArgumentError } from "commander";
import { ConfigError, loadConfig } from "../config";
import { chaosSchema } from "../emulator/admin-routes";
import { createEmulator, randomOperation, seededRandom, seedUsers, type ChaosSettings } from "../emulator";
import { parseDuration } from "../reconcile/duration";
import { ensureDevSecret } from "../service/dev-secret";

/** A fixed development project id, so the printed settings stay valid between runs. */
const DEV_PROJECT_ID = "5eed5eed-0000-4000-8000-000000000001";
const DEV_SERVER_KEY = "ssk_emulator_development_key";
const WEBHOOK_PATH = "/api/webhooks/stack/user/sync";

interface Options {
  port: number;
  host: string;
  projectId?: string;
  secretServerKey?: string;
  webhook: string[];
  webhooks: boolean;
  webhookSecret?: string;
  seedUsers: number;
  anonymousShare: number;
  activity?: number;
  chaos: Partial<ChaosSettings>;
  timeScale: number;
  requireEmailVerification: boolean;
  quiet: boolean;
}

const number = (min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new InvalidArgumentError(`must be a number from ${min} to ${max}`);
  return n;
};

/** `duplicate=0.1,drop=0.05,seed=7` → chaos settings. */
function parseChaos(value: string, previous: Partial<ChaosSettings>): Partial<ChaosSettings> {
  const entries = value.split(",").map((pair) => {
    const [key, raw] = pair.split("=");
    return [key?.trim() ?? "", Number(raw)];
  });
  const parsed = chaosSchema.safeParse(Object.fromEntries(entries));
  if (!parsed.success)
    throw new InvalidArgumentError(
      parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    );
  return { ...previous, ...parsed.data };
}

const program = new Command("emulator")
  .description(
    "A local stand-in for Stack Auth: its server API for users and its webhooks (through an emulated Svix).",
  )
  .option("--port <port>", "port to listen on", number(0, 65535), 8102)
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option(
    "--project-id <id>",
    "project id the API accepts (default STACK_PROJECT_ID, else a fixed development id)",
  )
  .option(
    "--secret-server-key <key>",
    "server key the API accepts (default STACK_SECRET_SERVER_KEY, else a development key)",
  )
  .option(
    "--webhook <url>",
    "webhook endpoint (repeatable; default the local service)",
    (v: string, all: string[]) => [...all, v],
    [],
  )
  .option("--no-webhooks", "send no webhooks at all")
  .option(
    "--webhook-secret <whsec>",
    "endpoint secret (default STACK_WEBHOOK_SECRET, else the service's .data/webhook-secret)",
  )
  .option(
    "--seed-users <n>",
    "create this many users at start, without webhooks (reconcile brings them over)",
    number(0, 1_000_000),
    0,
  )
  .option("--anonymous-share <share>", "share of seeded users that are anonymous", number(0, 1), 0.1)
  .option(
    "--activity <every>",
    "make a random change every so often (e.g. 2s): sign-ups, edits, deletions, silent email changes",
    (v: string) => {
      const ms = parseDuration(v);
      if (ms === null) throw new InvalidArgumentError("must be a duration such as 500ms, 2s or 1m");
      return ms;
    },
  )
  .option(
    "--chaos <settings>",
    "e.g. duplicate=0.1,delay=0.2,maxDelayMs=2000,drop=0.05,newId=0.05,rateLimit=0.1,seed=7",
    parseChaos,
    {},
  )
  .option(
    "--time-scale <factor>",
    "multiplies Svix's retry waits (1 = real: 5 s, 5 min, 30 min, ...)",
    number(0, 1_000),
    1,
  )
  .option("--require-email-verification", "users with an unverified email count as restricted", false)
  .option("--quiet", "do not log each request and delivery", false);

async function main(): Promise<void> {
  const opts = program.parse().opts<Options>();
  const config = loadConfig();
  const projectId = opts.projectId ?? config.stack.projectId ?? DEV_PROJECT_ID;
  const secretServerKey = opts.secretServerKey ?? config.stack.secretServerKey ?? DEV_SERVER_KEY;
  const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 23)} ${line}`);
  const emulator = createEmulator({
    port: opts.port,
    host: opts.host,
    projectId,
    secretServerKey,
    requireEmailVerification: opts.requireEmailVerification,
    timeScale: opts.timeScale,
    chaos: opts.chaos,
    ...(!opts.quiet && {
      onRequest: (r) => log(`${r.method} ${r.path} → ${r.status} (${r.ms.toFixed(0)} ms)`),
      onDelivery: (a) =>
        log(
          `webhook ${a.eventType} ${a.svixId}${a.duplicate ? " (duplicate)" : ""} attempt ${a.attempt} → ` +
            `${a.status ?? a.error ?? "no answer"} ${a.outcome}`,
        ),
    }),
  });
  const url = await emulator.start();

  let secretSource = "";
  if (opts.webhooks) {
    let secret = opts.webhookSecret ?? config.webhookSecrets[0];
    secretSource = opts.webhookSecret ? "--webhook-secret" : "STACK_WEBHOOK_SECRET";
    if (!secret) {
      // The same file the service reads when no secret is configured, made here if the emulator starts first.
      secret = ensureDevSecret(config.dataDir).secret;
      secretSource = ".data/webhook-secret";
    }
    const targets =
      opts.webhook.length > 0 ? opts.webhook : [`http://localhost:${config.port}${WEBHOOK_PATH}`];
    for (const target of targets) emulator.addEndpoint(target, secret);
  }
  if (opts.seedUsers > 0)
    seedUsers(emulator.users, opts.seedUsers, { notify: false, anonymousShare: opts.anonymousShare });

  const endpoints = emulator.endpoints();
  console.log(
    [
      ``,
      `Stack Auth emulator on ${url} (project ${projectId}), ${emulator.users.count} users`,
      ``,
      `Run stack-sync against it (fetch-on-notify and reconcile use these):`,
      `  STACK_API_URL=${url} STACK_PROJECT_ID=${projectId} STACK_SECRET_SERVER_KEY=${secretServerKey} npm run dev`,
      endpoints.length > 0
        ? `Webhooks go to ${endpoints.map((e) => e.url).join(", ")}, signed with the secret from ${secretSource}.`
        : `Webhooks are off.`,
      ``,
      `Make changes:`,
      `  curl -s ${url}/api/v1/users -H 'x-stack-access-type: server' -H 'x-stack-project-id: ${projectId}' \\`,
      `    -H 'x-stack-secret-server-key: ${secretServerKey}' -H 'content-type: application/json' \\`,
      `    -d '{"primary_email":"jane@example.com","display_name":"Jane Doe"}'          (user.created)`,
      `  curl -s -X POST ${url}/emulator/users/<id>/primary-email -d '{"email":"new@example.com"}'   (no webhook)`,
      `  curl -s -X DELETE '${url}/emulator/users/<id>?notify=false'                       (a lost user.deleted)`,
      `  curl -s -X PUT ${url}/emulator/chaos -d '{"duplicate":0.2,"delay":0.3,"drop":0.05}'`,
      `  curl -s ${url}/emulator/deliveries?limit=20`,
      `Then repair the drift, inside the running service (the embedded database has one process):`,
      `  curl -s -X POST http://localhost:3000/api/admin/reconcile`,
      `or, with the service stopped or on PostgreSQL:`,
      `  STACK_API_URL=${url} STACK_PROJECT_ID=${projectId} STACK_SECRET_SERVER_KEY=${secretServerKey} npm run reconcile`,
      ``,
    ].join("\n"),
  );

  let activity: NodeJS.Timeout | undefined;
  if (opts.activity !== undefined) {
    const random = seededRandom(opts.chaos.seed ?? 1);
    activity = setInterval(() => {
      const op = randomOperation(emulator.users, random);
      log(`activity: ${op.kind} ${op.userId}`);
    }, opts.activity);
  }
  const shutdown = async () => {
    clearInterval(activity);
    await emulator.stop();
    process.exit(0);
  };
  process.once("SIGINT", () => void shutdown());
  process.once("SIGTERM", () => void shutdown());
}

main().catch((error: unknown) => {
  console.error(
    error instanceof ConfigError
      ? `emulator: configuration error: ${error.message}`
      : `emulator: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
