import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { applyMigrations, pgMigrationConnection } from "../src/db/migrate";
import { createSyncStore } from "../src/db/sync-store";
import { PrismaClient } from "../src/generated/prisma/client";
import { applyChange, type UserChange } from "../src/sync/engine";
import { stackUser } from "../test/support/fixtures";
import type { BenchArgs } from "./args";
import { startCluster } from "./cluster";
import { displayName, email, token, userId } from "./events";
import { createUsers, recordProcessed } from "./pools";
import { markdown } from "./report";
import { seedApply } from "./seed/handler";

type Kind = "created" | "updated" | "deleted" | "duplicate";
type Impl = "ours" | "seed";

/** One design's store work for one event kind, in process: no HTTP, no Next.js, no verification. */
interface StoreFigure {
  kind: Kind;
  impl: Impl;
  /** Process CPU (all threads, bcrypt's included) per event, ms: median of the rounds. */
  cpuMsPerEvent: number;
  eventsPerSecond: number;
  statementsPerEvent: number;
}

const POOL = "upd";
const POOL_SIZE = 3000;
const CONCURRENCY = 8;
const ROUNDS = 3;

/**
 * `--store`: our store (src/sync/engine.ts over src/db/sync-store.ts) against the seed design's Prisma
 * calls, in this process at concurrency 8 through a pool of 10 as the server has: CPU per event and
 * statements per event. Separates what the store costs from what HTTP and Next.js add.
 */
export async function runStoreProbe(args: BenchArgs): Promise<void> {
  const events = args.quick ? 300 : 1000;
  const cluster = startCluster();
  const pool = new pg.Pool({ connectionString: cluster.url, max: 10 });
  let statements = 0;
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as unknown as { query: typeof query }).query = (...a: unknown[]) => (statements++, query(...a));
  });
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  try {
    const session = new pg.Client({ connectionString: cluster.url });
    await session.connect();
    await applyMigrations(pgMigrationConnection(session));
    await session.end();
    await createUsers(pool, POOL, POOL_SIZE);
    await recordProcessed(pool, POOL, POOL_SIZE);
    for (const tag of ["sdo", "sds"]) await createUsers(pool, tag, events * (ROUNDS + 1));
    const store = createSyncStore(prisma);
    const samples = new Map<string, { cpu: number; rate: number; statements: number }[]>();
    const counters = { created: 0, version: 0, deleted: { ours: 0, seed: 0 } };

    const op = (kind: Kind, impl: Impl, i: number): (() => Promise<unknown>) => {
      const t =
        kind === "created"
          ? token(impl === "ours" ? "sco" : "scs", counters.created++)
          : kind === "deleted"
            ? token(impl === "ours" ? "sdo" : "sds", counters.deleted[impl]++)
            : token(POOL, i % POOL_SIZE);
      const name = kind === "duplicate" ? displayName(t) : `${displayName(t)} v${counters.version++}`;
      const user = stackUser({ id: userId(t), primary_email: email(t), display_name: name });
      const svixId = kind === "duplicate" ? `dup_${t}` : `msg_${t}_${kind}_${counters.version++}`;
      const type = kind === "duplicate" ? "user.updated" : `user.${kind}`;
      if (impl === "seed") return () => seedApply(prisma, type, user, 4);
      const change: UserChange =
        kind === "deleted" ? { kind: "deletion", userId: user.id } : { kind: "snapshot", user };
      const delivery = { svixId, type, userId: user.id };
      return () => applyChange(store, change, delivery, { syncAnonymousUsers: false, passwordHashRounds: 4 });
    };

    const run = async (kind: Kind, impl: Impl, n: number) => {
      const before = { cpu: process.cpuUsage(), statements, at: performance.now() };
      for (let i = 0; i < n; i += CONCURRENCY) {
        await Promise.all(
          Array.from({ length: Math.min(CONCURRENCY, n - i) }, (_, k) => op(kind, impl, i + k)()),
        );
      }
      const cpu = process.cpuUsage(before.cpu);
      return {
        cpu: (cpu.user + cpu.system) / 1000 / n,
        rate: (n * 1000) / (performance.now() - before.at),
        statements: (statements - before.statements) / n,
      };
    };

    const kinds: Kind[] = ["created", "updated", "deleted", "duplicate"];
    for (const kind of kinds) for (const impl of ["ours", "seed"] as const) await run(kind, impl, 100); // warm
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of kinds) {
        for (const impl of ["ours", "seed"] as const) {
          const key = `${kind}/${impl}`;
          samples.set(key, [...(samples.get(key) ?? []), await run(kind, impl, events)]);
        }
      }
    }
    const figures: StoreFigure[] = [...samples.entries()].map(([key, list]) => {
      const [kind, impl] = key.split("/") as [Kind, Impl];
      const median = (f: (s: (typeof list)[number]) => number) => list.map(f).sort((a, b) => a - b)[1] ?? NaN;
      return {
        kind,
        impl,
        cpuMsPerEvent: median((s) => s.cpu),
        eventsPerSecond: median((s) => s.rate),
        statementsPerEvent: median((s) => s.statements),
      };
    });
    print(figures);
  } finally {
    await prisma.$disconnect();
    await pool.end();
    cluster.stop();
  }
}

function print(figures: readonly StoreFigure[]): void {
  const get = (kind: Kind, impl: Impl) => figures.find((f) => f.kind === kind && f.impl === impl);
  const kinds: Kind[] = ["created", "updated", "deleted", "duplicate"];
  console.log(
    `\nStore only, in process (concurrency ${CONCURRENCY}, pool 10, created at cost 4; median of ${ROUNDS} rounds):\n`,
  );
  console.log(
    markdown(
      [
        "event",
        "ours CPU ms",
        "ours ev/s",
        "ours stmts",
        "seed CPU ms",
        "seed ev/s",
        "seed stmts",
        "ours/seed CPU",
      ],
      kinds.map((k) => {
        const o = get(k, "ours");
        const s = get(k, "seed");
        return [
          k,
          o?.cpuMsPerEvent.toFixed(2) ?? "-",
          o?.eventsPerSecond.toFixed(0) ?? "-",
          o?.statementsPerEvent.toFixed(1) ?? "-",
          s?.cpuMsPerEvent.toFixed(2) ?? "-",
          s?.eventsPerSecond.toFixed(0) ?? "-",
          s?.statementsPerEvent.toFixed(1) ?? "-",
          o && s ? (o.cpuMsPerEvent / s.cpuMsPerEvent).toFixed(2) : "-",
        ];
      }),
    ),
  );
  console.log("\n(seed 'duplicate' = the update applied again: the seed has no idempotency)");
}
