import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index";
import { createLogger, type Logger } from "../../src/log/index";
import { startService, type Service } from "../../src/service/index";
import { createdEvent, signedRequest, stackUser, TEST_SECRET, updatedEvent } from "../support/fixtures";

const SERVER_KEY = "ssk_log-test-server-key-0123456789";
const ADMIN_TOKEN = "log-test-admin-token-0123456789";
const EMAILS = ["Jane.Doe@Example.com", "second.user@example.org", "taken@example.net"] as const;

/** The service's real logger (createLogger: JSON, redaction), with every line it writes kept in memory. */
function capturingLogger(): { logger: Logger; lines: () => Record<string, unknown>[]; text: () => string } {
  const logger = createLogger({ level: "trace" });
  const written: string[] = [];
  const stream = Reflect.get(logger, pino.symbols.streamSym) as { write(chunk: string): boolean };
  stream.write = (chunk: string) => {
    written.push(chunk);
    return true;
  };
  return {
    logger,
    lines: () =>
      written.flatMap((w) => w.trimEnd().split("\n")).map((l) => JSON.parse(l) as Record<string, unknown>),
    text: () => written.join(""),
  };
}

/** Nothing anybody should find in a log: emails (any case), secrets, the tokens, password hashes. */
function expectNoSecrets(text: string) {
  const lower = text.toLowerCase();
  for (const email of EMAILS) expect(lower).not.toContain(email.toLowerCase());
  expect(lower).not.toContain("@example.");
  expect(text).not.toContain("whsec_");
  expect(text).not.toContain(TEST_SECRET.slice("whsec_".length));
  expect(text).not.toContain(SERVER_KEY);
  expect(text).not.toContain(ADMIN_TOKEN);
  expect(text).not.toMatch(/\$2[aby]\$/);
}

describe("logs of real deliveries and of the start-up", () => {
  const capture = capturingLogger();
  let service: Service;

  beforeAll(async () => {
    const config = loadConfig({
      DATABASE_URL: "memory:",
      STACK_WEBHOOK_SECRET: TEST_SECRET,
      STACK_PROJECT_ID: "proj_log_test",
      STACK_SECRET_SERVER_KEY: SERVER_KEY,
      ADMIN_TOKEN,
      PASSWORD_HASH_ROUNDS: "4",
    });
    service = await startService(config, capture.logger);
  });
  afterAll(() => service?.close().catch(() => undefined));

  it("write one JSON line per delivery, with svix-id, type, user id, outcome, status and duration, and no email or secret", async () => {
    const jane = stackUser({ primary_email: EMAILS[0], display_name: "Jane Doe" });
    const taken = stackUser({ primary_email: EMAILS[2] });
    const sent: [string, Request][] = [
      ["processed", signedRequest(createdEvent(jane), { svixId: "msg_log_1" })],
      [
        "processed",
        signedRequest(updatedEvent({ ...jane, primary_email: EMAILS[1] }), { svixId: "msg_log_2" }),
      ],
      ["processed", signedRequest(createdEvent(taken), { svixId: "msg_log_3" })],
      [
        "email_conflict",
        signedRequest(createdEvent(stackUser({ primary_email: EMAILS[2] })), { svixId: "msg_log_4" }),
      ],
      [
        "invalid_payload",
        signedRequest(
          { type: "user.created", data: { id: "u_bad", primary_email: EMAILS[0] } },
          { svixId: "msg_log_5" },
        ),
      ],
      ["invalid_json", signedRequest(`{"primary_email":"${EMAILS[1]}"`, { svixId: "msg_log_6" })],
      [
        "invalid_signature",
        signedRequest(createdEvent(jane), { svixId: "msg_log_7", secret: "whsec_d3Jvbmc=" }),
      ],
    ];
    for (const [, request] of sent) await service.handleWebhook(request);
    // A database that went away: the error line carries the error, still without the user's data.
    await service.db.close();
    await service.handleWebhook(
      signedRequest(createdEvent(stackUser({ primary_email: EMAILS[1] })), { svixId: "msg_log_8" }),
    );

    const deliveries = capture.lines().filter((l) => l.msg === "webhook delivery");
    // An unverified svix-id is not logged: before the signature holds, the header is anyone's text.
    const ids = sent.map(([outcome], i) => (outcome === "invalid_signature" ? null : `msg_log_${i + 1}`));
    const expected: unknown[][] = sent.map(([outcome], i) => [ids[i], outcome]);
    expected.push(["msg_log_8", deliveries[7]?.outcome]);
    expect(deliveries.map((l) => [l.svixId, l.outcome])).toEqual(expected);
    expect(deliveries[7]?.status).toBeGreaterThanOrEqual(500);
    expect(deliveries[0]).toMatchObject({
      level: 30,
      service: "stack-sync",
      svixId: "msg_log_1",
      type: "user.created",
      userId: jane.id,
      status: 200,
      outcome: "processed",
      durationMs: expect.any(Number),
    });
    expect(deliveries[3]).toMatchObject({ status: 409, type: "user.created", outcome: "email_conflict" });
    expect(
      capture.lines().some((l) => l.level === 50 && l.svixId === "msg_log_8" && l.err !== undefined),
    ).toBe(true);
    expectNoSecrets(capture.text());
  });

  it("say at start-up that the service is ready, without a secret", () => {
    const ready = capture.lines().find((l) => l.msg === "stack-sync ready");
    expect(ready).toMatchObject({ database: "pglite", path: "/api/webhooks/stack/user/sync" });
    expectNoSecrets(capture.text());
  });

  it("redact an email or a secret that a log call passes by mistake", () => {
    const { logger, text } = capturingLogger();
    logger.info({ email: EMAILS[0], user: { primary_email: EMAILS[1] }, secret: TEST_SECRET }, "oops");
    logger.info({ headers: { "svix-signature": "v1,abc", "x-stack-secret-server-key": SERVER_KEY } }, "oops");
    expectNoSecrets(text());
    expect(text()).toContain("[redacted]");
  });
});
