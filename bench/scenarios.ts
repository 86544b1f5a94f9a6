import type pg from "pg";
import { replayer, type EventKind, type Templates } from "./db-limit";
import {
  createdDelivery,
  cycle,
  deletedDelivery,
  duplicateDelivery,
  once,
  token,
  updatedDelivery,
  type Impl,
} from "./events";
import { deliveryJob, WebhookClient } from "./http";
import { closedLoop, type Job } from "./load";
import { createUsers } from "./pools";
import type { HashLimit } from "./hash-limit";
import type { CpuMeter } from "./cpu";
import type { BenchServer } from "./server";
import type { Measurement } from "./stats";

/** The shared pool of prepared users that updates and duplicates cycle through. */
export const UPDATE_POOL = "upd";

export interface Row {
  event: string;
  concurrency: number;
  ours?: Measurement;
  seed?: Measurement;
  db?: Measurement;
}

export interface ScenarioContext {
  server: BenchServer;
  secret: string;
  databaseUrl: string;
  admin: pg.Pool;
  templates: Templates;
  durationMs: number;
  updatePoolSize: number;
  cpu: CpuMeter;
  /** For user.created: each level runs long enough for about 3 × concurrency hashes at this limit. */
  hashLimit?: HashLimit;
  log: (line: string) => void;
}

const EXPECTED: Record<Impl, Record<EventKind, string>> = {
  ours: { created: "processed", updated: "processed", deleted: "processed", duplicate: "duplicate" },
  // The seed has no idempotency: a duplicate is just applied again.
  seed: { created: "received", updated: "received", deleted: "received", duplicate: "received" },
};

let deletePools = 0;
let dbCreated = 0;

/**
 * Measures one event kind at one concurrency: ours, then the seed design, then the database limit, one
 * after another on the same server and database. `previous` (the update row of the same level) sizes the
 * pools of users that deletions consume.
 */
export async function measureRow(
  kind: EventKind,
  label: string,
  concurrency: number,
  ctx: ScenarioContext,
  previous?: Row,
): Promise<Row> {
  const row: Row = { event: label, concurrency };
  const durationMs =
    kind === "created" && ctx.hashLimit
      ? Math.max(ctx.durationMs, (3000 * concurrency) / ctx.hashLimit.perSecond)
      : ctx.durationMs;
  const client = new WebhookClient(ctx.server.url, ctx.secret, concurrency);
  try {
    for (const impl of ["ours", "seed"] as const) {
      const next = await jobsFor(kind, impl, client, ctx, previous?.[impl]?.throughput);
      ctx.server.rss.start();
      ctx.cpu.begin();
      const m = await closedLoop({ concurrency, durationMs, next });
      const measured = { ...m, peakRssMiB: ctx.server.rss.stop(), cpu: ctx.cpu.end(m.completed) };
      row[impl] = measured;
      ctx.log(
        `  ${label.padEnd(10)} c=${String(concurrency).padEnd(3)} ${impl.padEnd(4)} ${brief(measured)}`,
      );
      await settle();
    }
    const replay = replayer(ctx.databaseUrl, ctx.templates[kind], concurrency);
    try {
      const tokens = await tokensFor(kind, "db", ctx, previous?.db?.throughput);
      ctx.cpu.begin();
      const m = await closedLoop({
        concurrency,
        durationMs,
        next: () => {
          const t = tokens();
          return t === null ? null : replay.job(t);
        },
      });
      row.db = { ...m, cpu: ctx.cpu.end(m.completed) };
      ctx.log(`  ${label.padEnd(10)} c=${String(concurrency).padEnd(3)} db   ${brief(row.db)}`);
    } finally {
      await replay.close();
    }
    await settle();
  } finally {
    client.close();
  }
  return row;
}

async function jobsFor(
  kind: EventKind,
  impl: Impl,
  client: WebhookClient,
  ctx: ScenarioContext,
  rate: number | undefined,
): Promise<() => Job | null> {
  const expected = EXPECTED[impl][kind];
  if (kind === "created") return () => deliveryJob(client, createdDelivery(impl), expected);
  const tokens = await tokensFor(kind, impl, ctx, rate);
  const delivery = { updated: updatedDelivery, duplicate: duplicateDelivery, deleted: deletedDelivery }[kind];
  return () => {
    const t = tokens();
    return t === null ? null : deliveryJob(client, delivery(impl, t), expected);
  };
}

/** The user tokens a level works through; deletions get a fresh pool sized from the update rate. */
async function tokensFor(
  kind: EventKind,
  who: Impl | "db",
  ctx: ScenarioContext,
  rate: number | undefined,
): Promise<() => string | null> {
  if (kind === "created") return () => token("dbc", dbCreated++);
  if (kind !== "deleted") return cycle(UPDATE_POOL, ctx.updatePoolSize);
  const size = Math.ceil((rate ?? 2000) * (ctx.durationMs / 1000) * 1.5) + 500;
  const pool =
    "d" +
    String.fromCharCode(97 + Math.floor(deletePools / 26)) +
    String.fromCharCode(97 + (deletePools % 26));
  deletePools++;
  await createUsers(ctx.admin, pool, size);
  await ctx.admin.query("VACUUM ANALYZE users, profiles");
  return once(pool, size);
}

/** A short pause between measurements so one's tail (autovacuum, GC) does not land in the next. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 500));
}

function brief(m: Measurement): string {
  const bad = m.errors > 0 ? `  ERRORS ${m.errors} ${JSON.stringify(m.outcomes)}` : "";
  const noise = m.cpu ? `  (others ${m.cpu.foreignPercent.toFixed(0)}% CPU)` : "";
  return `${m.throughput.toFixed(0).padStart(6)} ev/s  p50 ${m.p50Ms.toFixed(1)} ms  p99 ${m.p99Ms.toFixed(1)} ms${noise}${bad}`;
}
