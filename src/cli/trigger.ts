import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { Command, InvalidArgumentError } from "commander";
import { ConfigError, loadConfig } from "../config";
import { UserDirectory } from "../emulator/directory";
import { toStackUser } from "../emulator/user-model";
import { readDevSecret } from "../service/dev-secret";
import { signPayload } from "../webhooks/verify";

/** The service's webhook route (kept equal to WEBHOOK_PATH in src/service). */
const WEBHOOK_PATH = "/api/webhooks/stack/user/sync";
const TYPES = ["user.created", "user.updated", "user.deleted"] as const;
type TriggerType = (typeof TYPES)[number];

export interface TriggerInput {
  type: TriggerType;
  id?: string;
  email?: string;
  name?: string;
  avatar?: string;
  plan?: string;
  anonymous?: boolean;
}

/** A realistic event body: for created/updated, the user object exactly as Stack sends it; for deleted, `{id, teams}`. */
export function buildEvent(input: TriggerInput): { type: TriggerType; data: unknown; userId: string } {
  const id = input.id ?? randomUUID();
  if (input.type === "user.deleted") return { type: input.type, data: { id, teams: [] }, userId: id };
  // The emulator's model makes the object, so the trigger sends the very shape the emulator (and Stack) sends.
  const directory = new UserDirectory({ requireEmailVerification: false }, Date.now);
  const record = directory.create(
    {
      primary_email: input.email ?? null,
      display_name: input.name ?? null,
      profile_image_url: input.avatar ?? null,
      server_metadata: input.plan ? { plan: input.plan } : null,
      is_anonymous: input.anonymous ?? false,
      primary_email_auth_enabled: input.email !== undefined,
    },
    { id },
  );
  return { type: input.type, data: toStackUser(record, directory.settings), userId: id };
}

/** The first configured secret, else the development secret the service keeps in `.data/webhook-secret`. */
export function triggerSecret(env: NodeJS.ProcessEnv, cwd: string): string {
  const config = loadConfig(env, cwd);
  const secret = config.webhookSecrets[0] ?? readDevSecret(config.dataDir);
  if (!secret) {
    throw new Error(
      "no webhook secret: set STACK_WEBHOOK_SECRET, or start the service once (npm run dev) so that it makes .data/webhook-secret",
    );
  }
  return secret;
}

export interface TriggerIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  fetch: typeof fetch;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** `npm run trigger -- <type> [options]`: sends one signed event and prints the answer; resolves to the exit code. */
export async function runTrigger(argv: readonly string[], io: TriggerIo): Promise<number> {
  const program = new Command("trigger")
    .description(
      "Send one signed Stack Auth user event to the local stack-sync webhook and print the answer.",
    )
    .argument("<type>", `one of ${TYPES.join(", ")}`, (value: string) => {
      if (!(TYPES as readonly string[]).includes(value))
        throw new InvalidArgumentError(`must be one of ${TYPES.join(", ")}`);
      return value as TriggerType;
    })
    .option("--email <email>", "primary email (user.created/user.updated)")
    .option("--name <name>", "display name")
    .option("--id <uuid>", "user id (required for user.deleted; random otherwise)")
    .option("--avatar <url>", "profile image URL")
    .option("--plan <plan>", "server_metadata.plan (FREE, PRO or ENTERPRISE)")
    .option("--anonymous", "an anonymous user (no email)")
    .option("--url <url>", "webhook URL (default http://localhost:$PORT/api/webhooks/stack/user/sync)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  try {
    program.parse(argv, { from: "user" });
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return typeof code === "number" ? code : 2;
  }
  const type = program.processedArgs[0] as TriggerType;
  const opts = program.opts<{
    email?: string;
    name?: string;
    id?: string;
    avatar?: string;
    plan?: string;
    anonymous?: boolean;
    url?: string;
  }>();
  try {
    if (type === "user.deleted" && !opts.id)
      throw new Error("user.deleted needs --id <uuid> (the id of the user to delete)");
    if (type === "user.created" && !opts.email && !opts.anonymous)
      throw new Error("user.created needs --email (or --anonymous)");
    const secret = triggerSecret(io.env, io.cwd);
    const url = opts.url ?? `http://localhost:${loadConfig(io.env, io.cwd).port}${WEBHOOK_PATH}`;
    const event = buildEvent({ type, ...opts });
    const body = JSON.stringify({ type: event.type, data: event.data });
    const svixId = `msg_${randomUUID().replace(/-/g, "").slice(0, 27)}`;
    const headers = signPayload(secret, svixId, Math.floor(Date.now() / 1000), body);
    io.out(`POST ${url}\n  ${type} for user ${event.userId} (svix-id ${svixId})`);
    const response = await io.fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
      signal: AbortSignal.timeout(15_000),
    });
    io.out(`HTTP ${response.status} ${response.statusText}\n${await response.text()}`);
    return response.ok ? 0 : 1;
  } catch (error) {
    const message = error instanceof ConfigError ? `configuration error: ${error.message}` : errorText(error);
    io.err(`trigger: ${message}`);
    return 1;
  }
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
  return `${error.message}${cause}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const code = await runTrigger(process.argv.slice(2), {
    env: process.env,
    cwd: process.cwd(),
    fetch,
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  });
  process.exit(code);
}
