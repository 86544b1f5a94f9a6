import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppServer, type AppServer } from "../support/app-server";
import { TEST_SECRET } from "../support/fixtures";
import { createTestDatabase } from "../support/postgres";
import {
  buildTimelines,
  deliver,
  describeAnswer,
  differences,
  fold,
  FULL,
  isProperUnavailable,
  readDbState,
  recordFigures,
  runSeed,
  scaled,
  seededRandom,
  shuffle,
  sleep,
  workers,
  type Answer,
  type Delivery,
  type UserState,
} from "../support/reliability";

/**
 * Scenario 2 of RELIABILITY.md: three `next start` processes on one PostgreSQL receive one event stream,
 * each delivery sent to a server picked at random, many at once; with redeliveries of the same svix-id
 * (sometimes at the same moment, on two servers), the same content under a new svix-id (Stack's double
 * send), and any order except that each user's last event goes out after all its others were answered.
 */

interface Item {
  delivery: Delivery;
  /** The user's last event in Stack's order (or a copy of it): sent only after the user's other items. */
  final: boolean;
  copy: "original" | "same-id" | "same-content";
}

describe("several instances on one PostgreSQL (scenario 2)", () => {
  const servers: AppServer[] = [];
  let url: string;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const created = await createTestDatabase();
    url = created.url;
    drop = created.drop;
    const env = { DATABASE_URL: url, STACK_WEBHOOK_SECRET: TEST_SECRET, PASSWORD_HASH_ROUNDS: "4" };
    // Started together: their migrations race on start-up too.
    servers.push(...(await Promise.all([startAppServer(env), startAppServer(env), startAppServer(env)])));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await drop?.();
  });

  it(
    "ends in the expected state: no 500, no duplicate effect, retried conflicts",
    async () => {
      const seed = runSeed();
      const random = seededRandom(seed);
      const users = scaled(60, 600);
      const concurrency = scaled(48, 96);
      const timelines = buildTimelines(random, {
        tag: "multi",
        users,
        events: [1, 6],
        deleteShare: 0.25,
        sameName: scaled(12, 50),
      });

      const items: Item[] = [];
      for (const { events } of timelines) {
        events.forEach((delivery, k) => {
          const final = k === events.length - 1;
          items.push({ delivery, final, copy: "original" });
          if (random() < 0.3) items.push({ delivery, final, copy: "same-id" });
          if (random() < 0.2) {
            const svixId = `${delivery.svixId}_again`;
            items.push({ delivery: { ...delivery, svixId }, final, copy: "same-content" });
          }
        });
      }
      const queue = shuffle(random, items);
      const earlierLeft = new Map<string, number>();
      for (const item of items) {
        if (!item.final)
          earlierLeft.set(item.delivery.userId, (earlierLeft.get(item.delivery.userId) ?? 0) + 1);
      }

      // Answers by svix-id, and the figures.
      const answers = new Map<string, Answer[]>();
      const perServer = servers.map(() => 0);
      let unavailable = 0;
      const unexpected: string[] = [];
      let wake: () => void = () => undefined;
      let changed = new Promise<void>((resolve) => (wake = resolve));
      const notify = () => {
        wake();
        changed = new Promise<void>((resolve) => (wake = resolve));
      };

      const takeEligible = (): Item | null | "wait" => {
        if (queue.length === 0) return null;
        const index = queue.findIndex((i) => !i.final || (earlierLeft.get(i.delivery.userId) ?? 0) === 0);
        if (index < 0) return "wait";
        return queue.splice(index, 1)[0] ?? null;
      };

      await workers(concurrency, async () => {
        for (;;) {
          const item = takeEligible();
          if (item === null) return;
          if (item === "wait") {
            await changed;
            continue;
          }
          let answer: Answer | null = null;
          // A 503 is redelivered at once (up to 5 times), before the user's later events may go.
          for (let attempt = 0; attempt < 5; attempt++) {
            const server = Math.floor(random() * servers.length);
            perServer[server] = (perServer[server] ?? 0) + 1;
            answer = await deliver((servers[server] as AppServer).url, item.delivery);
            if (!isProperUnavailable(answer)) break;
            unavailable++;
            await sleep(200);
          }
          const list = answers.get(item.delivery.svixId) ?? [];
          list.push(answer as Answer);
          answers.set(item.delivery.svixId, list);
          if (!(answer?.kind === "http" && answer.status === 200))
            unexpected.push(`${item.delivery.svixId}: ${describeAnswer(answer as Answer)}`);
          if (!item.final)
            earlierLeft.set(item.delivery.userId, (earlierLeft.get(item.delivery.userId) ?? 1) - 1);
          notify();
        }
      });

      // No 500, no 4xx, no 503 left after redelivery.
      expect(unexpected).toEqual([]);
      // Idempotent by event: each svix-id was processed exactly once, every other delivery of it is a duplicate.
      const notOnce: string[] = [];
      for (const [svixId, list] of answers) {
        const codes = list.map((a) => (a.kind === "http" ? a.code : a.error));
        const processed = codes.filter((c) => c === "processed").length;
        if (processed !== 1 || codes.some((c) => c !== "processed" && c !== "duplicate"))
          notOnce.push(`${svixId}: ${codes.join(", ")}`);
      }
      expect(notOnce).toEqual([]);

      const db = await readDbState(url);
      const expected = new Map<string, UserState>(timelines.map((t) => [t.userId, fold(t.events)]));
      const problems = differences(db, expected);
      for (const svixId of answers.keys()) {
        if (db.events.get(svixId) !== "processed") problems.push(`${svixId}: not recorded processed`);
      }
      expect(problems).toEqual([]);
      expect(db.users.size).toBe([...expected.values()].filter((s) => s.kind === "live").length);

      recordFigures("instances", {
        seed,
        servers: servers.length,
        users,
        concurrency,
        events: timelines.reduce((n, t) => n + t.events.length, 0),
        deliveries: items.length,
        sameIdCopies: items.filter((i) => i.copy === "same-id").length,
        sameContentCopies: items.filter((i) => i.copy === "same-content").length,
        perServer,
        unavailable503: unavailable,
        finalDifferences: problems.length,
      });
    },
    FULL ? 600_000 : 120_000,
  );
});
