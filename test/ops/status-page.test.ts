import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db";
import { startAppServer, type AppServer } from "../support/app-server";
import {
  createdEvent,
  deletedEvent,
  signedRequest,
  stackUser,
  TEST_SECRET,
  updatedEvent,
  type EventBody,
} from "../support/fixtures";
import { createTestDatabase } from "../support/postgres";

const ADMIN_TOKEN = "status-page-admin-token-0123456789";
const SCREENSHOT = join(import.meta.dirname, "..", "..", "test-results", "status-page.png");
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The built app in production mode on PostgreSQL, a few real signed deliveries, and the status page in Chromium. */
describe("status page, health and metrics of the running app", () => {
  let server: AppServer;
  let db: Database;
  let dropDatabase: () => Promise<void>;
  let context: BrowserContext;
  let profileDir: string;
  const ada = stackUser({ display_name: "Ada Lovelace", primary_email: "ada@example.com" });
  const grace = stackUser({ display_name: "Grace Hopper", primary_email: "grace@example.com" });
  const alan = stackUser({ display_name: "Alan Turing", primary_email: "alan@example.com" });
  const impostor = stackUser({ display_name: "Not Ada", primary_email: "ada@example.com" });
  const emails = ["ada@example.com", "grace@example.com", "alan@example.com", "ada.l@example.com"];

  async function send(body: EventBody, svixId: string): Promise<number> {
    const request = signedRequest(body, { svixId });
    const res = await fetch(`${server.url}/api/webhooks/stack/user/sync`, {
      method: "POST",
      headers: request.headers,
      body: await request.text(),
    });
    return res.status;
  }

  beforeAll(async () => {
    const database = await createTestDatabase();
    dropDatabase = database.drop;
    server = await startAppServer({
      DATABASE_URL: database.url,
      STACK_WEBHOOK_SECRET: TEST_SECRET,
      PASSWORD_HASH_ROUNDS: "4",
      NODE_ENV: "production",
      ADMIN_TOKEN,
      LOG_LEVEL: "info",
    });
    db = await openDatabase({ kind: "postgres", url: database.url });
    const statuses = [
      await send(createdEvent(ada), "msg_page_ada"),
      await send(createdEvent(grace), "msg_page_grace"),
      await send(createdEvent(alan), "msg_page_alan"),
      await send(updatedEvent({ ...ada, primary_email: "ada.l@example.com" }), "msg_page_ada_update"),
      await send(createdEvent({ ...impostor, primary_email: "grace@example.com" }), "msg_page_conflict"),
      await send({ type: "team.created", data: { id: "team_1" } }, "msg_page_team"),
      await send(deletedEvent(alan.id), "msg_page_alan_deleted"),
    ];
    expect(statuses).toEqual([200, 200, 200, 200, 409, 200, 200]);
    // What the reconcile job records after a run.
    await db.prisma.reconcileRun.create({
      data: {
        status: "succeeded",
        updated: 1,
        unchanged: 2,
        startedAt: new Date(Date.now() - 90_000),
        finishedAt: new Date(Date.now() - 30_000),
      },
    });
    profileDir = mkdtempSync(join(tmpdir(), "stack-sync-chromium-"));
    // No JavaScript: the page and its sign-in must work as plain HTML.
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_ARGS,
      javaScriptEnabled: false,
      viewport: { width: 1280, height: 900 },
    });
  }, 300_000);

  afterAll(async () => {
    await context?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    await server?.stop();
    await db?.close();
    await dropDatabase?.();
  });

  it("answers /api/health with 200 ok and no user data", async () => {
    const res = await fetch(`${server.url}/api/health`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ status: "ok", reasons: [], checks: { events: { failed: 1 } } });
    for (const email of emails) expect(text).not.toContain(email);
    expect(text).not.toContain(ada.id);
  });

  it("closes /api/metrics without the token and serves the deliveries' series with it", async () => {
    expect((await fetch(`${server.url}/api/metrics`)).status).toBe(401);
    const res = await fetch(`${server.url}/api/metrics`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain(`stack_sync_webhook_events_total{type="user.created",outcome="processed"} 3`);
    expect(text).toContain(`stack_sync_webhook_events_total{type="user.created",outcome="email_conflict"} 1`);
    expect(text).toContain(`stack_sync_reconcile_runs_total{status="succeeded"} 1`);
    expect(text).toMatch(/^stack_sync_password_hash_duration_seconds_count [1-9]/m);
  });

  it("shows the status page to a bearer token, and only the sign-in form without one", async () => {
    const open = await (await fetch(server.url)).text();
    expect(open).toContain('action="/api/admin/session"');
    expect(open).not.toContain("count-users");
    const withToken = await fetch(server.url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(await withToken.text()).toContain('data-testid="count-users"');
  });

  it("signs in with the form, shows counts, events and the failed one in Chromium, and saves a screenshot", async () => {
    const page = await context.newPage();
    await page.goto(server.url);
    expect(await page.locator("[data-testid=count-users]").count()).toBe(0);

    await signIn(page, "not-the-token-at-all");
    expect(page.url()).toBe(`${server.url}/?login=failed`);
    expect(await page.getByRole("alert").textContent()).toContain("not right");

    await signIn(page, ADMIN_TOKEN);
    expect(page.url()).toBe(`${server.url}/`);
    expect(await page.getByTestId("health-status").textContent()).toBe("Healthy");
    expect(await page.getByTestId("count-users").textContent()).toBe("2");
    expect(await page.getByTestId("count-profiles").textContent()).toBe("2");
    expect(await page.getByTestId("count-tombstones").textContent()).toBe("1");
    expect(await page.getByTestId("count-failed").textContent()).toBe("1");

    const recent = page.getByTestId("recent-events");
    const adaRow = recent.locator("tr", { hasText: "msg_page_ada_update" });
    expect(await adaRow.textContent()).toContain("processed");
    expect(await adaRow.textContent()).toContain(ada.id);
    expect(await recent.locator("tbody tr").count()).toBe(7);
    const failedRow = page.getByTestId("failed-events").locator("tbody tr");
    expect(await failedRow.count()).toBe(1);
    expect(await failedRow.textContent()).toMatch(/msg_page_conflict.*user\.created.*failed.*email_conflict/);
    expect(await page.getByTestId("reconcile-runs").locator("tbody tr").textContent()).toContain("succeeded");

    const body = (await page.locator("body").textContent()) ?? "";
    for (const email of emails) expect(body).not.toContain(email);

    mkdirSync(join(SCREENSHOT, ".."), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
  });

  it("logged one line per delivery and the start-up, without an email or a secret", () => {
    const output = server.output();
    // Seven signed deliveries, plus the GETs app-server.ts polls with until the app answers (405).
    const deliveries = output.split("\n").filter((line) => line.includes('"msg":"webhook delivery"'));
    expect(deliveries.filter((line) => line.includes('"svixId":"msg_page_'))).toHaveLength(7);
    expect(deliveries.filter((line) => !line.includes('"outcome":"method_not_allowed"'))).toHaveLength(7);
    expect(output).toContain('"msg":"stack-sync ready"');
    for (const email of emails) expect(output.toLowerCase()).not.toContain(email);
    expect(output).not.toContain("whsec_");
    expect(output).not.toContain(ADMIN_TOKEN);
  });
});

async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel("Admin token").fill(token);
  await Promise.all([page.waitForURL(/\/(\?login=failed)?$/), page.getByRole("button").click()]);
}
