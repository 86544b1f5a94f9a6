import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { createEmulator } from "../../src/emulator";
import { createLogger, type Logger } from "../../src/log";
import { startService, type Service } from "../../src/service";
import { createdEvent, signedRequest, stackUser, TEST_SECRET, updatedEvent } from "../support/fixtures";

const SERVER_KEY = "ssk_log-test-server-key-0123456789";
const ADMIN_TOKEN = "log-test-admin-token-0123456789";
const EMAILS = [
  "Jane.Doe@Example.com",
  "second.user@example.org",
  "taken@example.net",
  "moved@example.com",
] as const;

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
  // Stack's API, so deliveries run fetch-on-notify and the server key is really sent (and must never be logged).
  const stack = createEmulator({ projectId: "proj_log_test", secretServerKey: SERVER_KEY });
  let service: Service;

  beforeAll(async () => {
    const config = loadConfig({
      DATABASE_URL: "memory:",
      STACK_WEBHOOK_SECRET: TEST_SECRET,
      STACK_API_URL: await stack.start(),
      STACK_PROJECT_ID: stack.projectId,
      STACK_SECRET_SERVER_KEY: SERVER_KEY,
      ADMIN_TOKEN,
      PASSWORD_HASH_ROUNDS: "4",
    });
    service = await startService(config, capture.logger);
  });
  afterAll(async () => {
    await stack.stop().catch(() => undefined);
    await service?.close();
  });

  it("write one JSON line per delivery, with svix-id, type, user id, outcome, status and duration, and no email or secret", async () => {
    const quiet = { notify: false };
    const jane = stack.users.create({ primary_email: EMAILS[0], display_name: "Jane Doe" }, quiet);
    const taken = stack.users.create({ primary_email: EMAILS[2] }, quiet);
    // A notification: fetch-on-notify applies Stack's state, whatever the body says.
    const notify = (type: "user.created" | "user.updated", id: string, svixId: string) =>
      signedRequest({ type, data: stackUser({ id }) }, { svixId });
    const sent: [string, () => Request][] = [
      ["processed", () => notify("user.created", jane.id, "msg_log_1")],
      [
        "processed",
        () => {
          stack.users.update(jane.id, { primary_email: EMAILS[1] }, quiet);
          return notify("user.updated", jane.id, "msg_log_2");
        },
      ],
      ["processed", () => notify("user.created", taken.id, "msg_log_3")],
      [
        "email_conflict",
        () => {
          // Stack moved the email to another user; ours still holds it until `taken`'s own event comes.
          stack.users.update(taken.id, { primary_email: EMAILS[3] }, quiet);
          const heir = stack.users.create({ primary_email: EMAILS[2] }, quiet);
          return notify("user.created", heir.id, "msg_log_4");
        },
      ],
      [
        "invalid_payload",
        () =>
          signedRequest(
            { type: "user.created", data: { id: "u_bad", primary_email: EMAILS[0] } },
            { svixId: "msg_log_5" },
          ),
      ],
      ["invalid_json", () => signedRequest(`{"primary_email":"${EMAILS[1]}"`, { svixId: "msg_log_6" })],
      [
        "invalid_signature",
        () =>
          signedRequest(createdEvent(stackUser({ primary_email: EMAILS[0] })), {
            svixId: "msg_log_7",
            secret: "whsec_d3Jvbmc=",
          }),
      ],
      [
        "unavailable",
        () =>
          signedRequest(updatedEvent(stackUser({ id: jane.id, primary_email: EMAILS[1] })), {
            svixId: "msg_log_8",
          }),
      ],
    ];
    for (const [outcome, request] of sent) {
      // Stack down: the API call fails, and the error line must still not carry the key or an email.
      if (outcome === "unavailable") await stack.stop();
      await service.handleWebhook(request());
    }

    const deliveries = capture.lines().filter((l) => l.msg === "webhook delivery");
    // An unverified svix-id is not logged: before the signature holds, the header is anyone's text.
    expect(deliveries.map((l) => [l.svixId, l.outcome])).toEqual(
      sent.map(([outcome], i) => [outcome === "invalid_signature" ? null : `msg_log_${i + 1}`, outcome]),
    );
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
    expect(deliveries[7]).toMatchObject({ status: 503, outcome: "unavailable" });
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
