/** `npm run trigger`: a realistic, correctly signed event, the configured or development secret, the exit code. */
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTrigger, type TriggerIo } from "../../src/cli/trigger";
import { createVerifier } from "../../src/webhooks/verify";
import { openTestDatabase, type TestDatabase } from "../support/databases";
import { OTHER_SECRET, stackUser, TEST_SECRET } from "../support/fixtures";
import { handlerFor, tableState } from "../support/harness";

/** An environment with only these variables (NODE_ENV is "test": not production). */
const env = (vars: Record<string, string> = {}): NodeJS.ProcessEnv => ({ NODE_ENV: "test", ...vars });

interface Sent {
  url: string;
  headers: Headers;
  body: string;
}

/** Runs the command with a fetch that hands each request to `answer`; returns what was sent and printed. */
async function trigger(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; answer?: (r: Request) => Promise<Response> } = {},
) {
  const sent: Sent[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const io: TriggerIo = {
    env: options.env ?? env({ STACK_WEBHOOK_SECRET: `${TEST_SECRET} ${OTHER_SECRET}` }),
    cwd: options.cwd ?? mkdtempSync(join(tmpdir(), "trigger-")),
    fetch: async (input, init) => {
      const request = new Request(input, init);
      sent.push({ url: request.url, headers: request.headers, body: await request.clone().text() });
      return options.answer ? options.answer(request) : Response.json({ status: "processed" });
    },
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  };
  const code = await runTrigger(args, io);
  return { code, sent, out: out.join("\n"), err: err.join("\n") };
}

describe("trigger", () => {
  it("sends a user.created with the real object shape, signed with the first configured secret", async () => {
    const result = await trigger(["user.created", "--email", "Jane@Example.com", "--name", "Jane Doe"]);
    expect(result.code).toBe(0);
    const sent = result.sent[0];
    if (!sent) throw new Error("nothing sent");
    expect(sent.url).toBe("http://localhost:3000/api/webhooks/stack/user/sync");
    expect(() =>
      createVerifier([TEST_SECRET])(sent.headers, new TextEncoder().encode(sent.body)),
    ).not.toThrow();
    expect(() => createVerifier([OTHER_SECRET])(sent.headers, new TextEncoder().encode(sent.body))).toThrow();
    const body = JSON.parse(sent.body) as { type: string; data: Record<string, unknown> };
    expect(body.type).toBe("user.created");
    expect(Object.keys(body.data).sort()).toEqual(Object.keys(stackUser()).sort());
    expect(body.data).toMatchObject({
      primary_email: "jane@example.com",
      display_name: "Jane Doe",
      is_anonymous: false,
    });
    expect(result.out).toContain("HTTP 200");
    expect(result.out).toContain('{"status":"processed"}');
  });

  it("uses the development secret in .data/webhook-secret when none is configured, and --url", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "trigger-dev-"));
    mkdirSync(join(cwd, ".data"));
    writeFileSync(join(cwd, ".data", "webhook-secret"), `${OTHER_SECRET}\n`);
    const result = await trigger(
      [
        "user.updated",
        "--id",
        "6f1c2a8e-3d4b-4c5a-9e7f-0a1b2c3d4e5f",
        "--email",
        "a@b.c",
        "--url",
        "http://127.0.0.1:4000/hook",
      ],
      {
        env: env(),
        cwd,
      },
    );
    expect(result.code).toBe(0);
    const sent = result.sent[0];
    if (!sent) throw new Error("nothing sent");
    expect(sent.url).toBe("http://127.0.0.1:4000/hook");
    expect(createVerifier([OTHER_SECRET])(sent.headers, new TextEncoder().encode(sent.body)).id).toMatch(
      /^msg_/,
    );
    expect(JSON.parse(sent.body)).toMatchObject({
      type: "user.updated",
      data: { id: "6f1c2a8e-3d4b-4c5a-9e7f-0a1b2c3d4e5f" },
    });
  });

  it("sends user.deleted as {id, teams} and needs --id for it", async () => {
    expect(await trigger(["user.deleted"])).toMatchObject({ code: 1, sent: [] });
    const result = await trigger(["user.deleted", "--id", "6f1c2a8e-3d4b-4c5a-9e7f-0a1b2c3d4e5f"]);
    expect(JSON.parse(result.sent[0]?.body ?? "")).toEqual({
      type: "user.deleted",
      data: { id: "6f1c2a8e-3d4b-4c5a-9e7f-0a1b2c3d4e5f", teams: [] },
    });
  });

  it("exits non-zero on a non-2xx answer, without a secret, and on an unknown type", async () => {
    const refused = await trigger(["user.created", "--email", "a@b.c"], {
      answer: async () => Response.json({ error: { code: "invalid_signature" } }, { status: 401 }),
    });
    expect(refused.code).toBe(1);
    expect(refused.out).toContain("HTTP 401");
    const noSecret = await trigger(["user.created", "--email", "a@b.c"], { env: env() });
    expect(noSecret.code).toBe(1);
    expect(noSecret.err).toContain("STACK_WEBHOOK_SECRET");
    expect((await trigger(["team.created"])).code).not.toBe(0);
  });
});

describe("trigger against the real handler (PGlite)", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await openTestDatabase("pglite");
  });
  afterAll(() => test.close());

  it("creates, updates and deletes a user", async () => {
    const handler = handlerFor(test);
    const answer = (request: Request) => handler(request);
    const id = "0e0e0e0e-1111-4222-8333-444455556666";
    expect(
      (
        await trigger(["user.created", "--id", id, "--email", "jane@example.com", "--name", "Jane Doe"], {
          answer,
        })
      ).code,
    ).toBe(0);
    expect(await tableState(test)).toMatchObject([
      { id, email: "jane@example.com", username: "jane_doe", displayName: "Jane Doe" },
    ]);
    expect(
      (
        await trigger(
          ["user.updated", "--id", id, "--email", "jane@example.com", "--name", "Jane D.", "--plan", "PRO"],
          { answer },
        )
      ).code,
    ).toBe(0);
    expect(await tableState(test)).toMatchObject([{ id, displayName: "Jane D.", plan: "PRO" }]);
    expect((await trigger(["user.deleted", "--id", id], { answer })).code).toBe(0);
    expect(await tableState(test)).toEqual([]);
  });
});
