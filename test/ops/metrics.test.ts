import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { silentLogger } from "../../src/log";
import { sessionValue } from "../../src/ops/auth";
import { createMetrics } from "../../src/ops/metrics";
import { startService, type Service } from "../../src/service";
import { DATABASE_KINDS, type DatabaseKind } from "../support/databases";
import { createdEvent, deletedEvent, signedRequest, stackUser, TEST_SECRET } from "../support/fixtures";
import { createTestDatabase } from "../support/postgres";

const ADMIN_TOKEN = "metrics-test-token-0123456789";
const METRICS_URL = "http://localhost/api/metrics";

/** A real service (as Next.js runs it) over a fresh database of the given kind. */
async function service(kind: DatabaseKind, env: Record<string, string> = {}) {
  const database = kind === "postgres" ? await createTestDatabase() : null;
  const config = loadConfig(
    {
      DATABASE_URL: database?.url ?? "memory:",
      STACK_WEBHOOK_SECRET: TEST_SECRET,
      PASSWORD_HASH_ROUNDS: "4",
      ...env,
    },
    process.cwd(),
  );
  const started = await startService(config, silentLogger());
  return {
    service: started,
    close: async () => {
      await started.close();
      await database?.drop();
    },
  };
}

/** The value of one series line, e.g. `stack_sync_db_retries_total{reason="conflict"}`. */
function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.each(DATABASE_KINDS)("metrics on %s", (kind) => {
  let running: Awaited<ReturnType<typeof service>>;
  let svc: Service;
  beforeAll(async () => {
    running = await service(kind);
    svc = running.service;
  });
  afterAll(() => running.close());

  it("counts real deliveries by type and outcome, with latency, hash time, retries and process metrics", async () => {
    const taken = stackUser();
    const statuses = [];
    for (const body of [
      createdEvent(taken),
      createdEvent(stackUser()),
      createdEvent(stackUser({ primary_email: taken.primary_email })),
      deletedEvent(taken.id),
      { type: "team.created", data: { id: "team_1" } },
    ]) {
      statuses.push((await svc.handleWebhook(signedRequest(body))).status);
    }
    statuses.push(
      (await svc.handleWebhook(signedRequest(createdEvent(stackUser()), { secret: "whsec_d3Jvbmc=" })))
        .status,
    );
    expect(statuses).toEqual([200, 200, 409, 200, 200, 401]);

    const res = await svc.ops.metrics(new Request(METRICS_URL));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const events = (type: string, outcome: string) =>
      value(text, `stack_sync_webhook_events_total{type="${type}",outcome="${outcome}"}`);
    expect(events("user.created", "processed")).toBe(2);
    expect(events("user.created", "email_conflict")).toBe(1);
    expect(events("user.deleted", "processed")).toBe(1);
    expect(events("team.created", "ignored")).toBe(1);
    expect(events("none", "invalid_signature")).toBe(1);
    expect(value(text, `stack_sync_webhook_duration_seconds_count{outcome="processed"}`)).toBe(3);
    expect(value(text, `stack_sync_webhook_duration_seconds_bucket{le="+Inf",outcome="processed"}`)).toBe(3);
    // Three creates hashed a password (the conflicting one too: the hash comes before the transaction).
    expect(value(text, "stack_sync_password_hash_duration_seconds_count")).toBe(3);
    expect(value(text, "stack_sync_password_hash_duration_seconds_sum")).toBeGreaterThan(0);
    expect(value(text, `stack_sync_db_retries_total{reason="conflict"}`)).toBe(0);
    expect(value(text, `stack_sync_db_retries_total{reason="unavailable"}`)).toBe(0);
    expect(value(text, "stack_sync_failed_events")).toBe(1);
    expect(value(text, "stack_sync_database_up")).toBe(1);
    expect(value(text, "stack_sync_last_processed_event_timestamp_seconds")).toBeCloseTo(
      Date.now() / 1000,
      -2,
    );
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  it("reads reconcile runs and their counts from reconcile_runs, leaving dry runs out", async () => {
    const finishedAt = new Date("2026-12-05T10:00:00Z");
    await svc.db.prisma.reconcileRun.createMany({
      data: [
        { status: "succeeded", created: 3, updated: 2, deleted: 1, unchanged: 10, finishedAt },
        { status: "failed", created: 1, errorCode: "unavailable", finishedAt: new Date() },
        { status: "succeeded", dryRun: true, created: 50, finishedAt: new Date() },
        { status: "running" },
      ],
    });
    const text = await (await svc.ops.metrics(new Request(METRICS_URL))).text();
    expect(value(text, `stack_sync_reconcile_runs_total{status="succeeded"}`)).toBe(1);
    expect(value(text, `stack_sync_reconcile_runs_total{status="failed"}`)).toBe(1);
    expect(value(text, `stack_sync_reconcile_users_total{change="created"}`)).toBe(4);
    expect(value(text, `stack_sync_reconcile_users_total{change="updated"}`)).toBe(2);
    expect(value(text, `stack_sync_reconcile_users_total{change="deleted"}`)).toBe(1);
    expect(value(text, "stack_sync_reconcile_last_success_timestamp_seconds")).toBe(
      finishedAt.getTime() / 1000,
    );
  });
});

describe("metrics observers", () => {
  it("count database retries by reason and give odd event types one label", async () => {
    const metrics = createMetrics();
    metrics.observeRetry("conflict", 1);
    metrics.observeRetry("conflict", 2);
    metrics.observeRetry("unavailable", 1);
    metrics.observeDelivery({
      svixId: "msg_1",
      type: "User.Created<script>",
      userId: null,
      status: 200,
      outcome: "ignored",
      durationMs: 3,
    });
    const text = await metrics.registry.metrics();
    expect(value(text, `stack_sync_db_retries_total{reason="conflict"}`)).toBe(2);
    expect(value(text, `stack_sync_db_retries_total{reason="unavailable"}`)).toBe(1);
    expect(value(text, `stack_sync_webhook_events_total{type="other",outcome="ignored"}`)).toBe(1);
  });
});

describe("metrics access in production", () => {
  let running: Awaited<ReturnType<typeof service>>;
  beforeAll(async () => {
    running = await service("pglite", { NODE_ENV: "production", ADMIN_TOKEN });
  });
  afterAll(() => running.close());
  const get = (headers: Record<string, string> = {}) =>
    running.service.ops.metrics(new Request(METRICS_URL, { headers }));

  it("answers 401 with a Bearer challenge without the token, or with a wrong one", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong-token-0123456789" },
      { authorization: ADMIN_TOKEN },
    ];
    for (const headers of attempts) {
      const res = await get(headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="stack-sync"');
      expect(await res.json()).toMatchObject({ error: { code: "unauthorized" } });
    }
  });

  it("serves the metrics to the bearer token and to the status page's session cookie", async () => {
    expect((await get({ authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(200);
    expect((await get({ cookie: `stack_sync_admin=${sessionValue(ADMIN_TOKEN)}` })).status).toBe(200);
  });

  it("stays closed when production has no ADMIN_TOKEN", async () => {
    const closed = await service("pglite", { NODE_ENV: "production" });
    try {
      const res = await closed.service.ops.metrics(new Request(METRICS_URL));
      expect(res.status).toBe(401);
      const view = await closed.service.ops.status({ authorization: null, session: null });
      expect(view).toEqual({ kind: "sign_in", tokenConfigured: false });
    } finally {
      await closed.close();
    }
  });
});
