import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db";
import { createSyncStore } from "../../src/db/sync-store";
import { createWebhookHandler } from "../../src/webhooks/handler";
import { createdEvent, deletedEvent, signedRequest, stackUser, TEST_SECRET } from "../support/fixtures";
import { TEST_SYNC_OPTIONS } from "../support/harness";
import { createTestDatabase } from "../support/postgres";

const ROOT = join(import.meta.dirname, "..", "..");

/** `npm run events -- …` as an operator runs it, against a PostgreSQL database. */
describe("npm run events", () => {
  let db: Database;
  let url: string;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const created = await createTestDatabase();
    ({ url, drop } = created);
    db = await openDatabase({ kind: "postgres", url });
    await db.migrate();
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  function events(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        join(ROOT, "node_modules", ".bin", "tsx"),
        ["src/cli/events.ts", ...args],
        { cwd: ROOT, env: { ...process.env, DATABASE_URL: url, PASSWORD_HASH_ROUNDS: "4" } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  // Each run starts tsx and Prisma (seconds): the refusals and outcomes are covered in-process in events.test.ts.
  it("lists failed events, refuses an unknown id, and replays a failed event once its cause is gone", async () => {
    const handler = createWebhookHandler({
      store: createSyncStore(db.prisma),
      secrets: [TEST_SECRET],
      sync: TEST_SYNC_OPTIONS,
    });
    const holder = stackUser({ primary_email: "taken@example.com" });
    await handler(signedRequest(createdEvent(holder), { svixId: "msg_cli_holder" }));
    const conflict = await handler(
      signedRequest(createdEvent(stackUser({ primary_email: "taken@example.com" })), {
        svixId: "msg_cli_conflict",
      }),
    );
    expect(conflict.status).toBe(409);

    const failed = await events("list", "--failed");
    expect(failed.code).toBe(0);
    const [header, row, ...rest] = failed.stdout.trimEnd().split("\n");
    expect(header).toMatch(
      /^LAST SEEN \(UTC\)\s+SVIX-ID\s+TYPE\s+USER ID\s+OUTCOME\s+ERROR\s+ATTEMPTS\s+PAYLOAD$/,
    );
    expect(row).toMatch(/msg_cli_conflict\s+user\.created\s+\S+\s+failed\s+email_conflict\s+1\s+kept$/);
    expect(rest).toEqual([]);
    expect(failed.stdout).not.toContain("taken@example.com");

    expect(await events("replay", "msg_unknown")).toMatchObject({
      code: 1,
      stdout: expect.stringMatching(/^msg_unknown: not in the event log/),
    });

    await handler(signedRequest(deletedEvent(holder.id)));
    expect(await events("replay", "msg_cli_conflict")).toMatchObject({
      code: 0,
      stdout: "msg_cli_conflict: processed (created).\n",
    });
    expect(await db.prisma.webhookEvent.findUnique({ where: { svixId: "msg_cli_conflict" } })).toMatchObject({
      outcome: "processed",
      payload: null,
    });
  });

  it("says what is wrong with a bad option", async () => {
    const bad = await events("list", "--limit", "0");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--limit <n>' argument '0' is invalid. must be 1 to 10000");
  });
});
