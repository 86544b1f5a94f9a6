/** `POST /api/admin/reconcile`: reconcile inside the running service (the embedded database has one process). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { seededRandom, type Emulator } from "../../src/emulator";
import { silentLogger } from "../../src/log";
import { startService, type Service } from "../../src/service";
import { TEST_SECRET } from "../support/fixtures";
import {
  actualRows,
  expectedRows,
  populate,
  PROJECT_ID,
  SERVER_KEY,
  startEmulator,
} from "../reconcile/support";

const URL = "http://localhost/api/admin/reconcile";
const post = (query = "", headers: Record<string, string> = {}) =>
  new Request(`${URL}${query}`, { method: "POST", headers });

describe("the reconcile endpoint", () => {
  let emulator: Emulator;
  let service: Service;
  let unconfigured: Service;
  let production: Service;

  beforeAll(async () => {
    ({ emulator } = await startEmulator());
    const base = { DATABASE_URL: "memory:", PASSWORD_HASH_ROUNDS: "4", STACK_WEBHOOK_SECRET: TEST_SECRET };
    const stack = {
      STACK_API_URL: emulator.url,
      STACK_PROJECT_ID: PROJECT_ID,
      STACK_SECRET_SERVER_KEY: SERVER_KEY,
    };
    [service, unconfigured, production] = await Promise.all([
      startService(loadConfig({ ...base, ...stack }), silentLogger()),
      startService(loadConfig(base), silentLogger()),
      startService(
        loadConfig({ ...base, ...stack, NODE_ENV: "production", ADMIN_TOKEN: "a-long-admin-token-1234" }),
        silentLogger(),
      ),
    ]);
  });
  afterAll(async () => {
    await Promise.all([service, unconfigured, production].map((s) => s?.close()));
    await emulator.stop();
  });

  it("runs a dry run that writes no user, then a real run that brings the tables to Stack's users", async () => {
    populate(emulator, 12, seededRandom(9), 0);
    const dry = await service.ops.reconcile(post("?dry_run=1"));
    expect(dry.status).toBe(200);
    expect(await dry.json()).toMatchObject({ status: "succeeded", summary: { created: 12 } });
    expect(await service.db.prisma.user.count()).toBe(0);

    const real = await service.ops.reconcile(post());
    expect(await real.json()).toMatchObject({ status: "succeeded", summary: { created: 12, deleted: 0 } });
    expect(await actualRows(service)).toEqual(expectedRows(emulator.users.list()));
    const runs = await service.db.prisma.reconcileRun.findMany({ orderBy: { startedAt: "asc" } });
    expect(runs).toMatchObject([
      { status: "succeeded", dryRun: true },
      { status: "succeeded", dryRun: false, created: 12 },
    ]);
  });

  it("answers a second run while one is under way with 409 reconcile_running", async () => {
    const [first, second] = await Promise.all([service.ops.reconcile(post()), service.ops.reconcile(post())]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({ error: { code: "reconcile_running" } });
  });

  it("answers 503 stack_api_not_configured without a server key", async () => {
    const res = await unconfigured.ops.reconcile(post());
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "stack_api_not_configured" } });
  });

  it("needs the admin token in production, and only POST", async () => {
    expect((await production.ops.reconcile(post())).status).toBe(401);
    expect(await production.db.prisma.reconcileRun.count()).toBe(0);
    const allowed = await production.ops.reconcile(
      post("", { authorization: "Bearer a-long-admin-token-1234" }),
    );
    expect(allowed.status).toBe(200);
    expect((await service.ops.reconcile(new Request(URL))).status).toBe(405);
  });
});
