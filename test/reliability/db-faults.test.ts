import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppServer, type AppServer } from "../support/app-server";
import { TEST_SECRET } from "../support/fixtures";
import { startPgCluster, type PgCluster } from "../support/pg-cluster";
import {
  buildTimelines,
  deliver,
  describeAnswer,
  describeState,
  differences,
  fold,
  FULL,
  isProperUnavailable,
  isSuccess,
  readDbState,
  recordFigures,
  runSeed,
  sameState,
  scaled,
  seededRandom,
  stateOf,
  workers,
  type Delivery,
  type UserState,
  type UserTimeline,
} from "../support/reliability";

/**
 * Scenario 1 of RELIABILITY.md: the database stops, or the server process is killed, in the middle of a
 * burst of deliveries to the built app. Each user's events are sent in Stack's order, one at a time, many
 * users at once; when a delivery is not answered 2xx that user's stream waits (as a per-message retry
 * queue would) and the failed delivery is sent again, with the same svix-id, once the fault is over.
 *
 * After each fault, before anything is redelivered, the tables must hold, for every user, exactly the
 * effect of the deliveries answered 200 (plus, at most, the one delivery whose answer was lost or was a
 * 503: the commit may have happened just before the fault). After the redeliveries, the final state.
 */

interface Stream {
  timeline: UserTimeline;
  /** Index of the next event to send. */
  next: number;
  /** Events answered 200 (processed, or duplicate on a redelivery), in the order they were answered. */
  acked: Delivery[];
  /** The delivery that failed (503 or no answer) and may or may not have been committed. */
  uncertain: Delivery | null;
}

interface RoundResult {
  answers: number;
  processed: number;
  /** Redeliveries answered `duplicate`: the first attempt had committed but its answer was lost or a 503. */
  duplicates: number;
  redeliveries: number;
  unavailable: number;
  network: number;
  unexpected: string[];
}

const SERVER_ENV = { STACK_WEBHOOK_SECRET: TEST_SECRET, PASSWORD_HASH_ROUNDS: "4" };

/** Sends every stream forward until it ends or a delivery fails; `onAnswer` sees the running count. */
async function round(
  streams: Stream[],
  target: () => string,
  concurrency: number,
  onAnswer: (answered: number) => void = () => undefined,
): Promise<RoundResult> {
  const queue = streams.filter((s) => s.next < s.timeline.events.length);
  const result: RoundResult = {
    answers: 0,
    processed: 0,
    duplicates: 0,
    redeliveries: 0,
    unavailable: 0,
    network: 0,
    unexpected: [],
  };
  await workers(concurrency, async () => {
    for (let stream = queue.shift(); stream; stream = queue.shift()) {
      while (stream.next < stream.timeline.events.length) {
        const delivery = stream.timeline.events[stream.next] as Delivery;
        const redelivery = stream.uncertain?.svixId === delivery.svixId;
        if (redelivery) result.redeliveries++;
        const answer = await deliver(target(), delivery);
        result.answers++;
        onAnswer(result.answers);
        const ok =
          isSuccess(answer) &&
          answer.kind === "http" &&
          (answer.code === "processed" || (redelivery && answer.code === "duplicate"));
        if (ok) {
          if (answer.code === "duplicate") result.duplicates++;
          else result.processed++;
          stream.acked.push(delivery);
          stream.next++;
          stream.uncertain = null;
          continue;
        }
        stream.uncertain = delivery;
        if (isProperUnavailable(answer)) result.unavailable++;
        else if (answer.kind === "network") result.network++;
        else
          result.unexpected.push(
            `${delivery.svixId} (${delivery.body.slice(0, 20)}…): ${describeAnswer(answer)}`,
          );
        break;
      }
    }
  });
  return result;
}

/** Right after a fault: each user holds the effect of its acknowledged deliveries, plus at most the uncertain one. */
async function checkAfterFault(url: string, streams: Stream[]): Promise<string[]> {
  const db = await readDbState(url);
  const problems: string[] = [];
  const known = new Set(streams.map((s) => s.timeline.userId));
  for (const s of streams) {
    const got = stateOf(db, s.timeline.userId);
    const acked = fold(s.acked);
    const withUncertain = s.uncertain ? fold([...s.acked, s.uncertain]) : null;
    if (!sameState(got, acked) && !(withUncertain && sameState(got, withUncertain))) {
      problems.push(
        `${s.timeline.userId}: tables hold ${describeState(got)}, but the acknowledged deliveries give ` +
          `${describeState(acked)}${withUncertain ? ` (or ${describeState(withUncertain)})` : ""}`,
      );
    }
    for (const d of s.acked) {
      if (db.events.get(d.svixId) !== "processed")
        problems.push(`${d.svixId}: answered 200 but not recorded processed`);
    }
    for (const d of s.timeline.events.slice(s.next + 1)) {
      if (db.events.has(d.svixId)) problems.push(`${d.svixId}: recorded but never sent`);
    }
  }
  for (const userId of db.users.keys())
    if (!known.has(userId)) problems.push(`${userId}: unexpected user row`);
  for (const userId of db.usersWithoutProfile)
    problems.push(`${userId}: user without profile (half-written)`);
  if (db.orphanProfiles > 0) problems.push(`${db.orphanProfiles} profiles without user`);
  return problems;
}

/** The final check: the tables hold Stack's final state and every delivery is recorded processed. */
async function checkFinal(url: string, streams: Stream[]): Promise<string[]> {
  const db = await readDbState(url);
  const expected = new Map<string, UserState>(
    streams.map((s) => [s.timeline.userId, fold(s.timeline.events)]),
  );
  const problems = differences(db, expected);
  for (const s of streams) {
    if (s.next !== s.timeline.events.length) problems.push(`${s.timeline.userId}: stream did not finish`);
    for (const d of s.timeline.events) {
      if (db.events.get(d.svixId) !== "processed") problems.push(`${d.svixId}: not recorded processed`);
    }
  }
  return problems;
}

/** Clean rounds until every stream has finished (bounded: a service that never recovers fails the test). */
async function drain(streams: Stream[], target: () => string, concurrency: number) {
  const totals = {
    answers: 0,
    processed: 0,
    duplicates: 0,
    redeliveries: 0,
    unavailable: 0,
    network: 0,
    rounds: 0,
  };
  const unexpected: string[] = [];
  for (let i = 0; i < 6 && streams.some((s) => s.next < s.timeline.events.length); i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 1000));
    const r = await round(streams, target, concurrency);
    totals.rounds++;
    totals.answers += r.answers;
    totals.processed += r.processed;
    totals.duplicates += r.duplicates;
    totals.redeliveries += r.redeliveries;
    totals.unavailable += r.unavailable;
    totals.network += r.network;
    unexpected.push(...r.unexpected);
  }
  return { ...totals, unexpected };
}

/** The server's log lines about 500s, cut short: what to read when a delivery got one. */
function internalErrors(server: AppServer): string {
  const lines = server
    .output()
    .split("\n")
    .filter((line) => line.includes("internal_error"))
    .slice(0, 3)
    .map((line) => line.slice(0, 2000));
  return lines.length > 0 ? `server log:\n${lines.join("\n")}` : "";
}

function newStreams(timelines: UserTimeline[]): Stream[] {
  return timelines.map((timeline) => ({ timeline, next: 0, acked: [], uncertain: null }));
}

function remaining(streams: Stream[]): number {
  return streams.reduce((n, s) => n + s.timeline.events.length - s.next, 0);
}

describe("database faults (scenario 1)", () => {
  let cluster: PgCluster;
  const seed = runSeed();
  const users = scaled(60, 400);
  const concurrency = scaled(12, 32);

  beforeAll(async () => {
    cluster = await startPgCluster();
  }, 120_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  it(
    "PostgreSQL stopped mid-burst: 503 with Retry-After, nothing half-written, redelivery converges",
    async () => {
      const url = await cluster.createDatabase("outage");
      const server = await startAppServer({ ...SERVER_ENV, DATABASE_URL: url });
      try {
        const random = seededRandom(seed);
        const timelines = buildTimelines(random, {
          tag: "out",
          users,
          events: [2, 6],
          deleteShare: 0.2,
          sameName: 8,
        });
        const streams = newStreams(timelines);
        const total = remaining(streams);
        const modes = scaled<("fast" | "immediate")[]>(["fast"], ["fast", "immediate", "fast", "immediate"]);
        const outages: Record<string, unknown>[] = [];

        for (const mode of modes) {
          const threshold = Math.max(3, Math.floor(remaining(streams) / 3));
          let stopping: Promise<void> | null = null;
          const r = await round(
            streams,
            () => server.url,
            concurrency,
            (answered) => {
              if (answered === threshold) stopping = cluster.stop(mode);
            },
          );
          await stopping;
          expect(cluster.isRunning(), "the outage happened during the burst").toBe(false);
          // Every affected delivery was answered, with 503 + Retry-After: no 500, no dropped connection.
          expect(r.unexpected, internalErrors(server)).toEqual([]);
          expect(r.network).toBe(0);
          expect(r.unavailable, "the outage affected deliveries").toBeGreaterThan(0);
          await cluster.start();
          expect(await checkAfterFault(url, streams)).toEqual([]);
          outages.push({ mode, ...r, unexpected: r.unexpected.length });
        }

        const after = await drain(streams, () => server.url, concurrency);
        expect(after.unexpected).toEqual([]);
        const problems = await checkFinal(url, streams);
        expect(problems).toEqual([]);
        recordFigures("db-outage", {
          seed,
          users,
          events: total,
          concurrency,
          outages,
          afterRestart: after,
          deliveries: outages.reduce((n, o) => n + (o.answers as number), 0) + after.answers,
          finalDifferences: problems.length,
        });
      } finally {
        await server.stop();
        if (!cluster.isRunning()) await cluster.start();
      }
    },
    FULL ? 600_000 : 120_000,
  );

  it(
    "server SIGKILLed mid-burst: no partial rows, redelivery to a new process converges",
    async () => {
      const url = await cluster.createDatabase("killed");
      let server: AppServer = await startAppServer({ ...SERVER_ENV, DATABASE_URL: url });
      try {
        const random = seededRandom(seed + 1);
        const timelines = buildTimelines(random, {
          tag: "kill",
          users,
          events: [2, 6],
          deleteShare: 0.2,
          sameName: 8,
        });
        const streams = newStreams(timelines);
        const total = remaining(streams);
        const kills: Record<string, unknown>[] = [];

        for (let k = 0; k < scaled(1, 3); k++) {
          const threshold = Math.max(3, Math.floor(remaining(streams) / 3));
          const victim = server;
          let killing: Promise<void> | null = null;
          const r = await round(
            streams,
            () => victim.url,
            concurrency,
            (answered) => {
              if (answered === threshold) killing = victim.kill();
            },
          );
          await killing;
          expect(victim.process.signalCode, "the server was killed during the burst").toBe("SIGKILL");
          expect(r.unexpected, internalErrors(victim)).toEqual([]);
          expect(r.network, "the kill cut deliveries off").toBeGreaterThan(0);
          expect(await checkAfterFault(url, streams)).toEqual([]);
          kills.push({ ...r, unexpected: r.unexpected.length });
          server = await startAppServer({ ...SERVER_ENV, DATABASE_URL: url });
        }

        const current = server;
        const after = await drain(streams, () => current.url, concurrency);
        expect(after.unexpected).toEqual([]);
        const problems = await checkFinal(url, streams);
        expect(problems).toEqual([]);
        recordFigures("sigkill", {
          seed,
          users,
          events: total,
          concurrency,
          kills,
          afterRestart: after,
          deliveries: kills.reduce((n, o) => n + (o.answers as number), 0) + after.answers,
          finalDifferences: problems.length,
        });
      } finally {
        await server.stop();
      }
    },
    FULL ? 600_000 : 120_000,
  );
});
