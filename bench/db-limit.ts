import { randomUUID } from "node:crypto";
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../src/generated/prisma/client";
import { createSyncStore } from "../src/db/sync-store";
import { applyChange, type UserChange } from "../src/sync/engine";
import type { DeliveryRecord } from "../src/sync/store";
import { stackUser } from "../test/support/fixtures";
import { displayName, email, token, userId } from "./events";
import type { Job } from "./load";

/** One statement as `pg` received it from our store. */
interface Statement {
  text: string;
  values: unknown[];
}

/** A run of statements: a transaction (on one connection) or single statements (any pooled connection). */
interface Segment {
  transaction: boolean;
  statements: Statement[];
}

export type EventKind = "created" | "updated" | "deleted" | "duplicate";
export type Templates = Record<EventKind, Segment[]>;

// The template user and event: every captured value holding them is rewritten for each replay.
const T_USER = token("tpl", 0);
const T_EVENT = token("evt", 0);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Runs our real store (src/db/sync-store.ts under src/sync/engine.ts) once per event kind against
 * `databaseUrl` through a `pg` pool that records every statement, so the database limit replays exactly
 * what the service sends, and keeps doing so when the store changes.
 */
export async function captureTemplates(databaseUrl: string): Promise<Templates> {
  const log: Statement[] = [];
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pool.on("connect", (client) => recordQueries(client, log));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  const store = createSyncStore(prisma);
  const options = { syncAnonymousUsers: false, passwordHashRounds: 4 };
  const user = (name: string) =>
    stackUser({ id: userId(T_USER), primary_email: email(T_USER), display_name: name });
  const delivery = (svixId: string, type: string): DeliveryRecord => ({
    svixId,
    type,
    userId: userId(T_USER),
  });
  const capture = async (change: UserChange, record: DeliveryRecord, expect: string) => {
    log.length = 0;
    const result = await applyChange(store, change, record, options);
    const got = result.status === "processed" ? result.change : result.status;
    if (got !== expect) throw new Error(`capture: expected ${expect}, got ${JSON.stringify(result)}`);
    return segments(log);
  };
  try {
    const snapshot = (name: string): UserChange => ({ kind: "snapshot", user: user(name) });
    const created = await capture(
      snapshot(displayName(T_USER)),
      delivery(`msg_${T_EVENT}_c`, "user.created"),
      "created",
    );
    const updated = await capture(
      snapshot(`${displayName(T_USER)} ${T_EVENT}`),
      delivery(`msg_${T_EVENT}_u`, "user.updated"),
      "updated",
    );
    // Duplicates replay against `dup_<token>` rows that pools.ts records as processed.
    await capture(snapshot(`${displayName(T_USER)} x`), delivery(`dup_${T_USER}`, "user.updated"), "updated");
    const duplicate = await capture(
      snapshot(displayName(T_USER)),
      delivery(`dup_${T_USER}`, "user.updated"),
      "duplicate",
    );
    const deleted = await capture(
      { kind: "deletion", userId: userId(T_USER) },
      delivery(`msg_${T_EVENT}_d`, "user.deleted"),
      "deleted",
    );
    return { created, updated, duplicate, deleted };
  } finally {
    await prisma.$disconnect();
    await pool.end();
  }
}

/** Each template's statements as one line each, for the report. */
export function describeTemplates(templates: Templates): Record<EventKind, string[]> {
  const out = {} as Record<EventKind, string[]>;
  for (const [kind, segs] of Object.entries(templates) as [EventKind, Segment[]][]) {
    out[kind] = segs.flatMap((s) =>
      s.statements.map((st) => st.text.replace(/\s+/g, " ").trim().slice(0, 160)),
    );
  }
  return out;
}

/** A replayer of one template over its own pool of `connections`; `job(userToken)` sends one event's statements. */
export function replayer(databaseUrl: string, template: Segment[], connections: number) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: connections });
  let events = 1;
  const job =
    (userToken: string): Job =>
    async () => {
      const rewrite = rewriter(userToken, token("evt", events++));
      for (const segment of template) {
        if (!segment.transaction) {
          for (const s of segment.statements) await pool.query(rewrite(s));
          continue;
        }
        const client = await pool.connect();
        try {
          for (const s of segment.statements) await client.query(rewrite(s));
        } finally {
          client.release();
        }
      }
      return { outcome: "replayed", ok: true };
    };
  return { job, close: () => pool.end() };
}

function rewriter(userToken: string, eventToken: string) {
  const value = (v: unknown): unknown => {
    if (typeof v !== "string") return v;
    if (UUID.test(v)) return randomUUID();
    return v.replaceAll(T_USER, userToken).replaceAll(T_EVENT, eventToken);
  };
  return (s: Statement) => ({ text: s.text, values: s.values.map(value), rowMode: "array" as const });
}

/** Wraps a pooled client's `query` to append every statement it runs to `log`. */
function recordQueries(client: pg.PoolClient, log: Statement[]): void {
  const original = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const [config, values] = args;
    if (typeof config === "string") log.push({ text: config, values: Array.isArray(values) ? values : [] });
    else if (config && typeof config === "object" && "text" in config) {
      const c = config as { text: string; values?: unknown[] };
      log.push({ text: c.text, values: c.values ?? (Array.isArray(values) ? values : []) });
    }
    return original(...args);
  };
}

/** Splits a statement log at BEGIN … COMMIT/ROLLBACK. */
function segments(log: readonly Statement[]): Segment[] {
  const out: Segment[] = [];
  let current: Segment | null = null;
  for (const statement of log) {
    const word = statement.text.trim().toUpperCase();
    if (word === "BEGIN") {
      current = { transaction: true, statements: [statement] };
      out.push(current);
    } else if (current?.transaction) {
      current.statements.push(statement);
      if (word === "COMMIT" || word === "ROLLBACK") current = null;
    } else {
      if (!current) out.push((current = { transaction: false, statements: [] }));
      current.statements.push(statement);
    }
  }
  return out;
}
