import { Command, InvalidArgumentError } from "commander";

export const SCENARIOS = ["created", "updated", "deleted", "duplicate", "mixed", "reconcile"] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The bench's settings, from the command line. */
export interface BenchArgs {
  quick: boolean;
  durationMs: number;
  levels: number[];
  only: Set<Scenario>;
  /** Run only the CPU profile of this event kind at the highest level, instead of the benchmark. */
  profile: "updated" | "created" | "deleted" | "duplicate" | null;
  /** Run only the in-process store comparison (bench/store.ts). */
  store: boolean;
  /** Users for the reconcile run at cost 4 (the 10,000), and at cost 12 (hash-bound: fewer by default). */
  reconcileUsers: number;
  reconcileUsers12: number;
  logLevel: string;
  /** Extra environment for the server, from `--server-env KEY=VALUE` (repeatable). */
  serverEnv: Record<string, string>;
  outDir: string;
}

const positive = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a positive number");
  return n;
};

const collect = (value: string, all: string[]): string[] => [...all, value];

/** Parses `argv` (after the script name). */
export function parseArgs(argv: string[]): BenchArgs {
  const program = new Command("bench")
    .description("Throughput and latency of the webhook, side by side with the seed design and the limits.")
    .option("--quick", "short run for development: 2 s per level, small mixed run and reconcile", false)
    .option("--duration <seconds>", "seconds per measured level (default 10, 2 with --quick)", positive)
    .option("--levels <list>", "concurrency levels", "1,8,32")
    .option("--only <list>", `scenarios to run, of ${SCENARIOS.join(",")}`, SCENARIOS.join(","))
    .option("--profile [event]", "only profile the server (--cpu-prof) under this event at the top level")
    .option("--store", "only compare the stores in process (no HTTP): CPU and statements per event", false)
    .option("--reconcile-users <n>", "emulator users for reconcile at cost 4 (default 10000)", positive)
    .option("--reconcile-users-12 <n>", "emulator users for reconcile at cost 12 (default 1000)", positive)
    .option("--log-level <level>", "the server's LOG_LEVEL (production default: info)", "info")
    .option("--server-env <KEY=VALUE>", "extra server environment (repeatable)", collect, [] as string[])
    .option("--out <dir>", "where the JSON results go", "bench-results")
    .parse(["node", "bench", ...argv]);
  const o = program.opts<{
    quick: boolean;
    duration?: number;
    levels: string;
    only: string;
    profile?: string | boolean;
    store: boolean;
    reconcileUsers?: number;
    reconcileUsers12?: number;
    logLevel: string;
    serverEnv: string[];
    out: string;
  }>();
  const levels = o.levels.split(",").map((s) => positive(s.trim()));
  const only = new Set(o.only.split(",").map((s) => s.trim()));
  for (const name of only) {
    if (!(SCENARIOS as readonly string[]).includes(name)) program.error(`--only: unknown scenario ${name}`);
  }
  const profile =
    o.profile === undefined || o.profile === false ? null : o.profile === true ? "updated" : o.profile;
  if (profile !== null && !["updated", "created", "deleted", "duplicate"].includes(profile)) {
    program.error(`--profile: unknown event ${String(profile)}`);
  }
  return {
    quick: o.quick,
    durationMs: (o.duration ?? (o.quick ? 2 : 10)) * 1000,
    levels,
    only: only as Set<Scenario>,
    profile: profile as BenchArgs["profile"],
    store: o.store,
    reconcileUsers: o.reconcileUsers ?? (o.quick ? 1000 : 10_000),
    reconcileUsers12: o.reconcileUsers12 ?? (o.quick ? 100 : 1000),
    logLevel: o.logLevel,
    serverEnv: Object.fromEntries(
      o.serverEnv.map((pair) => {
        const at = pair.indexOf("=");
        if (at < 1) program.error(`--server-env: expected KEY=VALUE, got ${pair}`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    ),
    outDir: o.out,
  };
}
