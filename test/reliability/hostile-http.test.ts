import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StackUser } from "../../src/stack/index";
import { signPayload } from "../../src/webhooks/verify";
import { startAppServer, type AppServer } from "../support/app-server";
import { stackUser } from "../support/fixtures";
import { createTestDatabase } from "../support/postgres";
import { recordFigures, sleep, WEBHOOK_PATH } from "../support/reliability";

/**
 * Scenario 3 of RELIABILITY.md, over real HTTP against the built app (`next start`) on PostgreSQL:
 * oversized bodies are refused before they have been read whole, oversized headers get a 4xx, and with
 * known secrets in the environment, neither they nor any test user's email ever shows up in what the
 * server prints or answers, whatever path a delivery takes (every status of SPEC §3, a database outage,
 * fetch-on-notify against a Stack API stand-in when the service uses it).
 */

const MiB = 1024 * 1024;
const SECRETS = [1, 2].map(() => `whsec_${randomBytes(24).toString("base64")}`);
const SERVER_KEY = `ssk_${randomBytes(24).toString("hex")}`;
const PROJECT_ID = randomUUID();
const DB_PASSWORD = `dbpw${randomBytes(12).toString("hex")}`;
const marker = randomBytes(4).toString("hex");
const EMAILS = [
  `Secret.Person.${marker}@Example.org`,
  `second.${marker}@example.net`,
  `third.${marker}@example.com`,
  `Outage.${marker}@Example.com`,
];

/** A stand-in for Stack's server API on loopback, for fetch-on-notify: serves the users the test sent. */
function stackApiStub() {
  const users = new Map<string, StackUser>();
  /** Ids the stand-in answers 500 for: Stack Auth having a bad moment. */
  const failing = new Set<string>();
  let calls = 0;
  let wrongKey = 0;
  const server = http.createServer((req, res) => {
    calls++;
    if (
      req.headers["x-stack-secret-server-key"] !== SERVER_KEY ||
      req.headers["x-stack-project-id"] !== PROJECT_ID
    ) {
      wrongKey++;
      res.writeHead(401, { "content-type": "application/json" }).end('{"code":"INVALID_SECRET_SERVER_KEY"}');
      return;
    }
    const id = decodeURIComponent(/^\/api\/v1\/users\/([^/?]+)/.exec(req.url ?? "")?.[1] ?? "");
    if (failing.has(id)) {
      res.writeHead(500, { "content-type": "application/json" }).end('{"error":"internal"}');
      return;
    }
    const user = users.get(id);
    if (!user) {
      res
        .writeHead(404, { "content-type": "application/json", "x-stack-known-error": "USER_NOT_FOUND" })
        .end('{"code":"USER_NOT_FOUND","error":"User not found."}');
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(user));
  });
  return {
    users,
    failing,
    stats: () => ({ calls, wrongKey }),
    listen: () =>
      new Promise<number>((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Upload {
  /** Status and body of the answer, if one came. */
  status: number | null;
  body: string;
  /** Bytes handed to the socket when the answer arrived. */
  sentAtResponse: number | null;
  /** Bytes handed to the socket in all. */
  sent: number;
  /** The server closed or reset the connection, or stopped reading, before the whole body was sent. */
  cutOff: boolean;
}

/**
 * POSTs a body of `total` bytes (chunked, or with a declared length), sends `first` bytes, then waits
 * (bounded) for an answer before trying to send the rest.
 */
async function oversizedUpload(
  port: number,
  options: { declared: number | null; first: number; total: number },
): Promise<Upload> {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    ...signPayload(SECRETS[0] as string, `msg_big_${marker}`, Math.floor(Date.now() / 1000), "{}"),
  };
  if (options.declared !== null) headers["content-length"] = String(options.declared);
  const req = http.request({ host: "127.0.0.1", port, method: "POST", path: WEBHOOK_PATH, headers });
  req.setMaxListeners(0);
  const result: Upload = { status: null, body: "", sentAtResponse: null, sent: 0, cutOff: false };
  let ended = false;
  let markEnded: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (markEnded = resolve));
  const end = () => {
    ended = true;
    markEnded();
  };
  req.on("error", end);
  req.on("close", end);
  const answered = new Promise<void>((resolve) => {
    req.on("response", (res) => {
      result.status = res.statusCode ?? null;
      result.sentAtResponse = result.sent;
      res.setEncoding("utf8");
      res.on("data", (d: string) => (result.body += d));
      res.on("end", resolve);
      res.on("error", resolve);
    });
    void closed.then(resolve);
  });
  /** Writes until `upTo` bytes are out, the connection ends, or the socket stops draining for 5 s. */
  const writeUpTo = async (upTo: number): Promise<"done" | "ended" | "stalled"> => {
    while (result.sent < upTo) {
      if (ended || req.destroyed) return "ended";
      const flushed = req.write(chunk);
      result.sent += chunk.byteLength;
      if (!flushed) {
        const outcome = await Promise.race([
          new Promise<"drain">((resolve) => req.once("drain", () => resolve("drain"))),
          closed.then(() => "ended" as const),
          sleep(5_000).then(() => "stalled" as const),
        ]);
        if (outcome !== "drain") return outcome;
      }
    }
    return "done";
  };
  await writeUpTo(options.first);
  await Promise.race([answered, sleep(30_000)]);
  const rest = await writeUpTo(options.total);
  result.cutOff = rest !== "done";
  if (rest === "done") await new Promise<void>((resolve) => req.end(resolve));
  req.destroy();
  return result;
}

describe("hostile input over HTTP (scenario 3)", () => {
  let server: AppServer;
  let dbUrl: string;
  let adminUrl: string;
  let drop: () => Promise<void>;
  const stub = stackApiStub();
  /** Everything the server answered, headers and bodies, for the secrets check. */
  const answers: string[] = [];
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    const created = await createTestDatabase();
    drop = created.drop;
    adminUrl = created.url;
    // A password in the URL (trust authentication ignores it): one more secret that must not leak.
    const withPassword = new URL(created.url);
    withPassword.password = DB_PASSWORD;
    dbUrl = withPassword.toString();
    const apiPort = await stub.listen();
    server = await startAppServer({
      DATABASE_URL: dbUrl,
      STACK_WEBHOOK_SECRET: SECRETS.join(" "),
      STACK_SECRET_SERVER_KEY: SERVER_KEY,
      STACK_PROJECT_ID: PROJECT_ID,
      STACK_API_URL: `http://127.0.0.1:${apiPort}`,
      PASSWORD_HASH_ROUNDS: "4",
      LOG_LEVEL: "trace",
    });
  }, 180_000);

  afterAll(async () => {
    recordFigures("hostile-http", figures);
    await server?.stop();
    await stub.close();
    await drop?.();
  });

  function port(): number {
    return Number(new URL(server.url).port);
  }

  async function post(body: string, headers: Record<string, string>, method = "POST") {
    const res = await fetch(`${server.url}${WEBHOOK_PATH}`, {
      method,
      headers,
      body: method === "GET" ? undefined : body,
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${text}`);
    let code: string | null = null;
    try {
      const json = JSON.parse(text) as { status?: string; error?: { code?: string } };
      code = json.status ?? json.error?.code ?? null;
    } catch {
      code = null;
    }
    return { status: res.status, code, retryAfter: res.headers.get("retry-after") };
  }

  function signedHeaders(body: string, options: { secret?: string; id?: string; offset?: number } = {}) {
    return {
      "content-type": "application/json",
      ...signPayload(
        options.secret ?? (SECRETS[0] as string),
        options.id ?? `msg_${randomUUID().replaceAll("-", "")}`,
        Math.floor(Date.now() / 1000) + (options.offset ?? 0),
        body,
      ),
    };
  }

  it("cuts off a 50 MiB chunked body: 413 once past 2 MiB, before the client has finished", async () => {
    const upload = await oversizedUpload(port(), {
      declared: null,
      first: 2 * MiB + 256 * 1024,
      total: 50 * MiB,
    });
    answers.push(`${upload.status} ${upload.body}`);
    expect(upload.status).toBe(413);
    expect(JSON.parse(upload.body)).toMatchObject({ error: { code: "payload_too_large" } });
    // The answer came while the client, holding back, had sent only a little more than 2 MiB…
    expect(upload.sentAtResponse).not.toBeNull();
    expect(upload.sentAtResponse as number).toBeLessThanOrEqual(2 * MiB + 256 * 1024);
    // …and the server would not take the remaining 47 MiB.
    expect(upload.cutOff).toBe(true);
    expect(upload.sent).toBeLessThan(50 * MiB);
    figures.chunked = {
      total: 50 * MiB,
      sentAtResponse: upload.sentAtResponse,
      sentBeforeCutOff: upload.sent,
    };
  });

  it("refuses a declared 50 MiB body with 413 after its first 64 KiB", async () => {
    const upload = await oversizedUpload(port(), { declared: 50 * MiB, first: 64 * 1024, total: 50 * MiB });
    answers.push(`${upload.status} ${upload.body}`);
    expect(upload.status).toBe(413);
    expect(upload.sentAtResponse as number).toBeLessThanOrEqual(64 * 1024);
    expect(upload.cutOff).toBe(true);
    figures.declared = {
      total: 50 * MiB,
      sentAtResponse: upload.sentAtResponse,
      sentBeforeCutOff: upload.sent,
    };
  });

  it("answers huge or numerous headers with a 4xx, never a 5xx", async () => {
    const body = JSON.stringify({ type: "stack.test", data: {} });
    const cases: [string, Record<string, string>][] = [
      ["a 32 KiB header", { ...signedHeaders(body), "x-padding": "a".repeat(32 * 1024) }],
      ["a 1 MiB signature header", { ...signedHeaders(body), "svix-signature": `v1,${"A".repeat(MiB)}` }],
      [
        "3,000 headers",
        {
          ...signedHeaders(body),
          ...Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`x-h${i}`, "v"])),
        },
      ],
      [
        "a 13 KiB list of 280 wrong v1 entries (under the header limit: 401)",
        {
          ...signedHeaders(body),
          "svix-signature": Array.from(
            { length: 280 },
            () => `v1,${randomBytes(32).toString("base64")}`,
          ).join(" "),
        },
      ],
    ];
    const statuses: Record<string, number> = {};
    for (const [name, headers] of cases) {
      const { status } = await post(body, headers);
      statuses[name] = status;
      expect(status, name).toBeGreaterThanOrEqual(400);
      expect(status, name).toBeLessThan(500);
    }
    // Under Node's 16 KiB header limit, the list reaches the handler and is checked entry by entry.
    expect(statuses["a 13 KiB list of 280 wrong v1 entries (under the header limit: 401)"]).toBe(401);
    figures.headers = statuses;
  });

  it("never shows a secret, the server key, the database password or an email in logs or answers", async () => {
    const [a, b, c] = [0, 1, 2].map((i) =>
      stackUser({ primary_email: EMAILS[i] as string, display_name: `Person ${i}` }),
    ) as [StackUser, StackUser, StackUser];
    const send = async (
      type: string,
      user: StackUser | { id: string },
      options: Parameters<typeof signedHeaders>[1] = {},
    ) => {
      const body = JSON.stringify({ type, data: user });
      if (type === "user.deleted") stub.users.delete(user.id);
      else if ("primary_email" in user) stub.users.set(user.id, user);
      return post(body, signedHeaders(body, options));
    };
    const results: Record<string, string> = {};
    const expectAnswer = (name: string, got: { status: number; code: string | null }, want: string) => {
      results[name] = `${got.status} ${got.code}`;
      expect(`${got.status} ${got.code}`, name).toBe(want);
    };

    expectAnswer("created", await send("user.created", a, { id: `msg_a_${marker}` }), "200 processed");
    expectAnswer("duplicate", await send("user.created", a, { id: `msg_a_${marker}` }), "200 duplicate");
    expectAnswer("second secret", await send("user.created", b, { secret: SECRETS[1] }), "200 processed");
    const moved = { ...a, primary_email: `Moved.${EMAILS[0]}` };
    EMAILS.push(moved.primary_email);
    expectAnswer("updated", await send("user.updated", moved), "200 processed");
    expectAnswer("ignored type", await send("team.created", { id: "team_1" }), "200 ignored");
    const clash = stackUser({ primary_email: EMAILS[1] as string });
    expectAnswer("email conflict", await send("user.created", clash), "409 email_conflict");
    stub.users.delete(clash.id);
    const badPayload = JSON.stringify({
      type: "user.created",
      data: { id: c.id, primary_email: c.primary_email, display_name: 5 },
    });
    const r422 = await post(badPayload, signedHeaders(badPayload));
    expectAnswer("invalid payload", r422, "422 invalid_payload");
    const badJson = `{"type":"user.created","data":{"primary_email":"${c.primary_email}"`;
    expectAnswer("invalid json", await post(badJson, signedHeaders(badJson)), "400 invalid_json");
    const forged = JSON.stringify({ type: "user.created", data: c });
    expectAnswer(
      "wrong secret",
      await post(forged, signedHeaders(forged, { secret: `whsec_${randomBytes(24).toString("base64")}` })),
      "401 invalid_signature",
    );
    expectAnswer(
      "stale",
      await post(forged, signedHeaders(forged, { offset: -3600 })),
      "401 invalid_signature",
    );
    expectAnswer(
      "unsigned",
      await post(forged, { "content-type": "application/json" }),
      "401 invalid_signature",
    );
    expectAnswer("GET", await post("", {}, "GET"), "405 method_not_allowed");
    const huge = JSON.stringify({
      type: "user.created",
      data: { ...c, profile_image_url: "x".repeat(3 * MiB) },
    });
    expectAnswer("too large", await post(huge, signedHeaders(huge)), "413 payload_too_large");

    // The database goes away for this app (connections refused and cut), then comes back.
    const d = stackUser({ primary_email: EMAILS[3] as string });
    const maintenance = new URL(adminUrl);
    maintenance.pathname = "/postgres";
    const admin = new pg.Client({ connectionString: maintenance.toString() });
    await admin.connect();
    const dbName = new URL(adminUrl).pathname.slice(1);
    try {
      await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [
        dbName,
      ]);
      const outage = await send("user.created", d, { id: `msg_d_${marker}` });
      expectAnswer("outage", outage, "503 unavailable");
      expect(outage.retryAfter).toMatch(/^\d+$/);
    } finally {
      await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    expectAnswer("after outage", await send("user.created", d, { id: `msg_d_${marker}` }), "200 processed");
    expectAnswer("deleted", await send("user.deleted", { id: b.id }), "200 processed");
    // Stack's API failing under fetch-on-notify (SPEC §4): 503, and an error line that names no secret.
    const e = stackUser({ primary_email: `stack.down.${marker}@example.com` });
    EMAILS.push(e.primary_email as string);
    stub.failing.add(e.id);
    expectAnswer("stack api down", await send("user.created", e), "503 unavailable");
    await sleep(200); // let the last log lines reach the pipe

    const output = server.output();
    // Not a vacuous check: the server did log every delivery, at trace level.
    expect(output).toContain("webhook delivery");
    expect(output).toContain("webhook unavailable");
    const haystacks: [string, string][] = [
      ["server output", output],
      ["answers", answers.join("\n")],
    ];
    for (const [where, text] of haystacks) {
      const lower = text.toLowerCase();
      for (const secret of SECRETS) {
        expect(text, `${where}: webhook secret`).not.toContain(secret);
        expect(text, `${where}: webhook secret key`).not.toContain(secret.slice("whsec_".length));
      }
      expect(text, `${where}: server key`).not.toContain(SERVER_KEY);
      expect(text, `${where}: database password`).not.toContain(DB_PASSWORD);
      for (const email of EMAILS)
        expect(lower, `${where}: email ${email}`).not.toContain(email.toLowerCase());
      expect(lower, `${where}: any test email`).not.toContain(marker + "@");
      expect(text, `${where}: a password hash`).not.toMatch(/\$2[aby]\$\d\d\$/);
    }
    figures.secrets = {
      deliveries: Object.keys(results).length,
      results,
      stackApi: stub.stats(),
      outputBytes: output.length,
    };
  });
});
