import { z } from "zod";

/** Where the data lives: embedded PGlite on disk or in memory, or a PostgreSQL server. */
export type DatabaseTarget =
  { kind: "pglite"; dataDir: string } | { kind: "pglite"; dataDir: null } | { kind: "postgres"; url: string };

export interface Config {
  production: boolean;
  /** Folder for the embedded database and the development secret. */
  dataDir: string;
  database: DatabaseTarget;
  /** `whsec_…` secrets from STACK_WEBHOOK_SECRET; empty when unset (see `resolveWebhookSecrets`). */
  webhookSecrets: string[];
  stack: { apiUrl: string; projectId: string | undefined; secretServerKey: string | undefined };
  syncAnonymousUsers: boolean;
  passwordHashRounds: number;
  port: number;
  eventLogRetentionDays: number;
  /** Opens the status page and /api/metrics in production; unset there, both stay closed. */
  adminToken?: string;
  /** Health turns 503 `reconcile_stale` past this age of the last successful reconcile; unset: 25 h. */
  reconcileMaxAgeHours?: number;
}

/** A bad environment variable: the message is one line that names it. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable}: ${reason}`);
  }
}

/** The environment variables, as `process.env` holds them. */
export type Environment = Readonly<Record<string, string | undefined>>;

const WHSEC = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

const boolean = z
  .string()
  .transform((v) => v.toLowerCase())
  .pipe(z.enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" }))
  .transform((v) => v === "true" || v === "1" || v === "yes");

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: `must be a whole number from ${min} to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` }),
    );

const VARIABLES = {
  DATABASE_URL: z.string().refine((v) => v === "memory:" || /^postgres(ql)?:\/\/.+/.test(v), {
    error:
      "must be memory: or a postgres:// or postgresql:// URL (unset for the embedded database in .data/)",
  }),
  STACK_WEBHOOK_SECRET: z
    .string()
    .transform((v) => v.split(/[\s,]+/).filter(Boolean))
    .refine((list) => list.length > 0 && list.every((s) => WHSEC.test(s)), {
      error: "must be one or more whsec_… secrets separated by spaces or commas",
    }),
  STACK_API_URL: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
    .transform((v) => v.replace(/\/+$/, "")),
  STACK_PROJECT_ID: z.string().min(1),
  STACK_SECRET_SERVER_KEY: z.string().min(1),
  SYNC_ANONYMOUS_USERS: boolean,
  PASSWORD_HASH_ROUNDS: integer(4, 31),
  PORT: integer(1, 65535),
  EVENT_LOG_RETENTION_DAYS: integer(2, 3650),
  ADMIN_TOKEN: z.string().regex(/^\S{16,}$/, { error: "must be at least 16 characters without spaces" }),
  RECONCILE_MAX_AGE_HOURS: integer(1, 8760),
} as const;

type Variables = { [K in keyof typeof VARIABLES]: z.output<(typeof VARIABLES)[K]> };

function read<K extends keyof typeof VARIABLES>(env: Environment, name: K): Variables[K] | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const parsed = VARIABLES[name].safeParse(raw.trim());
  if (!parsed.success) throw new ConfigError(name, parsed.error.issues[0]?.message ?? "is invalid");
  return parsed.data as Variables[K];
}

/** Reads and checks the environment once; throws `ConfigError` naming the first bad variable. */
export function loadConfig(env: Environment = process.env, cwd: string = process.cwd()): Config {
  const dataDir = `${cwd}/.data`;
  const databaseUrl = read(env, "DATABASE_URL");
  const database: DatabaseTarget =
    databaseUrl === undefined
      ? { kind: "pglite", dataDir: `${dataDir}/pglite` }
      : databaseUrl === "memory:"
        ? { kind: "pglite", dataDir: null }
        : { kind: "postgres", url: databaseUrl };
  const projectId = read(env, "STACK_PROJECT_ID");
  const secretServerKey = read(env, "STACK_SECRET_SERVER_KEY");
  if (secretServerKey !== undefined && projectId === undefined) {
    throw new ConfigError("STACK_PROJECT_ID", "must be set when STACK_SECRET_SERVER_KEY is set");
  }
  return {
    production: env.NODE_ENV === "production",
    dataDir,
    database,
    webhookSecrets: read(env, "STACK_WEBHOOK_SECRET") ?? [],
    stack: { apiUrl: read(env, "STACK_API_URL") ?? "https://api.stack-auth.com", projectId, secretServerKey },
    syncAnonymousUsers: read(env, "SYNC_ANONYMOUS_USERS") ?? false,
    passwordHashRounds: read(env, "PASSWORD_HASH_ROUNDS") ?? 12,
    port: read(env, "PORT") ?? 3000,
    eventLogRetentionDays: read(env, "EVENT_LOG_RETENTION_DAYS") ?? 7,
    adminToken: read(env, "ADMIN_TOKEN"),
    reconcileMaxAgeHours: read(env, "RECONCILE_MAX_AGE_HOURS"),
  };
}
