/** `npm run reconcile` as a process: exit codes, what it prints, and the run it records for operators. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db";
import { seededRandom, type Emulator } from "../../src/emulator";
import { createTestDatabase } from "../support/postgres";
import {
  actualRows,
  clearEmulator,
  expectedRows,
  populate,
  PROJECT_ID,
  SERVER_KEY,
  startEmulator,
} from "./support";

describe("the reconcile command", () => {
  let emulator: Emulator;
  let db: Database;
  let url: string;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ emulator } = await startEmulator());
    const created = await createTestDatabase();
    ({ url, drop } = created);
    db = await openDatabase({ kind: "postgres", url });
    await db.migrate();
  });
  afterAll(async () => {
    await emulator.stop();
    await db.close();
    await drop();
  });
  beforeEach(async () => {
    clearEmulator(emulator);
    await db.prisma.$executeRawUnsafe(
      "TRUNCATE users, profiles, user_tombstones, webhook_events, reconcile_runs",
    );
  });

  function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(join("node_modules", ".bin", "tsx"), ["src/cli/reconcile.ts", ...args], {
        env: {
          ...process.env,
          DATABASE_URL: url,
          STACK_API_URL: emulator.url,
          STACK_PROJECT_ID: PROJECT_ID,
          STACK_SECRET_SERVER_KEY: SERVER_KEY,
          PASSWORD_HASH_ROUNDS: "4",
        },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  }

  it("brings the tables to Stack's users, prints a summary and records a succeeded run", async () => {
    populate(emulator, 30, seededRandom(3), 0);
    const result = await run(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}")).toMatchObject({
      created: 30,
      deleted: 0,
    });
    expect(await actualRows({ db })).toEqual(expectedRows(emulator.users.list()));
    expect(await db.prisma.reconcileRun.findMany()).toMatchObject([
      { status: "succeeded", dryRun: false, created: 30, updated: 0, deleted: 0 },
    ]);
  });

  it("writes no user with --dry-run, and records the run as a dry run", async () => {
    populate(emulator, 5, seededRandom(4), 0);
    const result = await run(["--dry-run"]);
    expect(result.code, result.stderr).toBe(0);
    expect(await db.prisma.user.count()).toBe(0);
    expect(await db.prisma.reconcileRun.findMany()).toMatchObject([{ status: "succeeded", dryRun: true }]);
  });

  it("exits 2 and deletes nothing when too many users would go, recording why", async () => {
    populate(emulator, 10, seededRandom(5), 0);
    expect((await run([])).code).toBe(0);
    for (const user of emulator.users.list().slice(0, 5)) emulator.users.delete(user.id, { notify: false });
    const refused = await run([]);
    expect(refused.code).toBe(2);
    expect(await db.prisma.user.count()).toBe(10);
    const last = await db.prisma.reconcileRun.findFirst({ orderBy: { startedAt: "desc" } });
    expect(last).toMatchObject({ status: "failed", errorCode: "mass_delete_refused" });
  });
});
