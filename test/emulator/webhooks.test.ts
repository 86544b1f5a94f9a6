/**
 * The emulator as a webhook sender: Stack's events (which, when, which shape) through an emulated Svix (signing,
 * retry schedule, constant svix-id, abort-message, timeouts) and the chaos settings.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  createEmulator,
  SVIX_RETRY_SCHEDULE_MS,
  type Emulator,
  type EmulatorOptions,
} from "../../src/emulator";
import { createVerifier } from "../../src/webhooks/verify";
import { OTHER_SECRET, TEST_SECRET } from "../support/fixtures";

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

type Answer = { status: number; headers?: Record<string, string>; hang?: boolean };

/** A webhook endpoint that records every request and answers as `answer` says. */
async function endpoint(answer: (n: number) => Answer = () => ({ status: 200 })) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: performance.now(),
      });
      const a = answer(received.length);
      if (a.hang) return;
      res.writeHead(a.status, a.headers ?? {});
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url, received };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function emulatorWith(options: Partial<EmulatorOptions> = {}): Emulator {
  const emulator = createEmulator({ projectId: "p", secretServerKey: "k", timeScale: 1e-5, ...options });
  cleanups.push(() => emulator.stop());
  return emulator;
}

const bodyOf = (r: Received) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> };
const header = (r: Received, name: string) => String(r.headers[name]);

describe("events and their shapes", () => {
  it("sends each event on its own, exactly {type, data}, signed with the endpoint's secret", async () => {
    const hook = await endpoint();
    const emulator = emulatorWith();
    emulator.addEndpoint(hook.url, TEST_SECRET);
    const user = emulator.users.create({ primary_email: "jane@example.com", display_name: "Jane" });
    emulator.users.update(user.id, { display_name: "Jane Doe" });
    await emulator.idle();

    expect(hook.received).toHaveLength(2);
    const verify = createVerifier([TEST_SECRET]);
    for (const r of hook.received) {
      const headers = new Headers(
        Object.entries(r.headers).map(([k, v]) => [k, String(v)] as [string, string]),
      );
      expect(verify(headers, new TextEncoder().encode(r.body)).id).toBe(header(r, "svix-id"));
      expect(Object.keys(JSON.parse(r.body) as object)).toEqual(["type", "data"]);
    }
    expect(hook.received.map((r) => bodyOf(r).type).sort()).toEqual(["user.created", "user.updated"]);
    const updated = hook.received.map(bodyOf).find((b) => b.type === "user.updated");
    expect(updated?.data).toEqual(emulator.users.get(user.id));
    expect(() =>
      createVerifier([OTHER_SECRET])(
        new Headers(hook.received[0]?.headers as Record<string, string>),
        new TextEncoder().encode(hook.received[0]?.body),
      ),
    ).toThrow();
  });

  it("sends the same message (same svix-id) to every endpoint, each signed with its own secret", async () => {
    const [a, b] = [await endpoint(), await endpoint()];
    const emulator = emulatorWith();
    emulator.addEndpoint(a.url, TEST_SECRET);
    emulator.addEndpoint(b.url, OTHER_SECRET);
    emulator.users.create({ primary_email: "x@example.com" });
    await emulator.idle();
    const [ra, rb] = [a.received[0], b.received[0]];
    if (!ra || !rb) throw new Error("both endpoints should have a delivery");
    expect(header(ra, "svix-id")).toBe(header(rb, "svix-id"));
    expect(header(ra, "svix-signature")).not.toBe(header(rb, "svix-signature"));
  });

  it("user.deleted carries {id, teams:[{id}]}, with one team_membership.deleted per team", async () => {
    const hook = await endpoint();
    const emulator = emulatorWith();
    emulator.addEndpoint(hook.url, TEST_SECRET);
    const user = emulator.users.create(
      { primary_email: "t@example.com" },
      { teamIds: ["team-1", "team-2"], notify: false },
    );
    emulator.users.delete(user.id);
    await emulator.idle();
    const bodies = hook.received.map(bodyOf);
    expect(bodies.find((b) => b.type === "user.deleted")?.data).toEqual({
      id: user.id,
      teams: [{ id: "team-1" }, { id: "team-2" }],
    });
    expect(bodies.filter((b) => b.type === "team_membership.deleted").map((b) => b.data)).toEqual([
      { team_id: "team-1", user_id: user.id },
      { team_id: "team-2", user_id: user.id },
    ]);
  });

  it("anonymous sign-up sends user.created (is_anonymous: true); the upgrade sends only user.updated", async () => {
    const hook = await endpoint();
    const emulator = emulatorWith();
    emulator.addEndpoint(hook.url, TEST_SECRET);
    const anonymous = emulator.users.signUpAnonymous({ signedUpAtMillis: 1 });
    await emulator.idle();
    emulator.users.upgradeAnonymous(anonymous.id, {
      primary_email: "Real@Example.com",
      display_name: "Real",
    });
    await emulator.idle();
    const bodies = hook.received.map(bodyOf);
    expect(bodies.map((b) => [b.type, b.data.is_anonymous])).toEqual([
      ["user.created", true],
      ["user.updated", false],
    ]);
    expect(bodies[1]?.data).toMatchObject({
      primary_email: "real@example.com",
      is_restricted: false,
      restricted_reason: null,
    });
    // Stack moves signed_up_at to the real sign-up.
    expect(bodies[1]?.data.signed_up_at_millis).toBeGreaterThan(1);
  });

  it("sends nothing for email verification, contact channels, OAuth links, passwords and activity", async () => {
    const hook = await endpoint();
    const emulator = emulatorWith();
    const user = emulator.users.create({ primary_email: "old@example.com" });
    emulator.addEndpoint(hook.url, TEST_SECRET);
    emulator.users.verifyEmail(user.id);
    emulator.users.addContactChannel(user.id, "second@example.com");
    const changed = emulator.users.setPrimaryEmail(user.id, "New@Example.com");
    emulator.users.linkOAuth(user.id, { id: "github", account_id: "42", email: "gh@example.com" });
    emulator.users.setPassword(user.id);
    emulator.users.touch(user.id);
    await emulator.idle();
    expect(hook.received).toHaveLength(0);
    expect(changed).toMatchObject({ primary_email: "new@example.com", primary_email_verified: false });
    expect(emulator.users.get(user.id)).toMatchObject({
      has_password: true,
      oauth_providers: [{ id: "github", account_id: "42", email: "gh@example.com" }],
    });
  });
});

describe("retries (Svix's schedule, scaled)", () => {
  it("retries failures on the schedule with the same svix-id and a fresh timestamp per attempt", async () => {
    const hook = await endpoint((n) => ({ status: n < 4 ? 500 : 204 }));
    const emulator = emulatorWith({ timeScale: 0.001 });
    emulator.addEndpoint(hook.url, TEST_SECRET);
    emulator.users.create({ primary_email: "r@example.com" });
    await emulator.idle();

    expect(hook.received).toHaveLength(4);
    expect(new Set(hook.received.map((r) => header(r, "svix-id"))).size).toBe(1);
    const gaps = hook.received.slice(1).map((r, i) => r.at - (hook.received[i]?.at ?? 0));
    SVIX_RETRY_SCHEDULE_MS.slice(1, 4).forEach((ms, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(ms * 0.001 - 2);
      expect(gaps[i]).toBeLessThan(ms * 0.001 + 300);
    });
    const stamps = hook.received.map((r) => Number(header(r, "svix-timestamp")));
    expect(stamps[3]).toBeGreaterThan(stamps[0] ?? Infinity);
    expect(emulator.deliveries.map((d) => [d.attempt, d.outcome])).toEqual([
      [1, "failure"],
      [2, "failure"],
      [3, "failure"],
      [4, "success"],
    ]);
  });

  it("gives up after the 8th attempt", async () => {
    const hook = await endpoint(() => ({ status: 503 }));
    const emulator = emulatorWith();
    emulator.addEndpoint(hook.url, TEST_SECRET);
    emulator.users.create({ primary_email: "g@example.com" });
    await emulator.idle();
    expect(hook.received).toHaveLength(SVIX_RETRY_SCHEDULE_MS.length);
    expect(SVIX_RETRY_SCHEDULE_MS).toHaveLength(8);
  });

  it("stops at webhook-delivery: abort-message", async () => {
    const hook = await endpoint(() => ({ status: 410, headers: { "webhook-delivery": "abort-message" } }));
    const emulator = emulatorWith();
    emulator.addEndpoint(hook.url, TEST_SECRET);
    emulator.users.create({ primary_email: "a@example.com" });
    await emulator.idle();
    expect(hook.received).toHaveLength(1);
    expect(emulator.deliveries[0]?.outcome).toBe("aborted");
  });

  it("counts no answer within the attempt timeout, and redirects, as failures", async () => {
    const slow = await endpoint((n) => (n === 1 ? { status: 200, hang: true } : { status: 200 }));
    const moved = await endpoint((n) =>
      n === 1 ? { status: 302, headers: { location: "/elsewhere" } } : { status: 200 },
    );
    const emulator = emulatorWith({ attemptTimeoutMs: 100 });
    emulator.addEndpoint(slow.url, TEST_SECRET);
    emulator.addEndpoint(moved.url, TEST_SECRET);
    emulator.users.create({ primary_email: "s@example.com" });
    await emulator.idle();
    expect(slow.received).toHaveLength(2);
    expect(moved.received).toHaveLength(2);
    const failures = emulator.deliveries.filter((d) => d.outcome === "failure");
    expect(failures.map((d) => d.status ?? d.error).sort()).toEqual([302, "no answer within 100 ms"]);
  });
});

describe("chaos", () => {
  it("duplicate delivers a message twice under the same svix-id", async () => {
    const hook = await endpoint();
    const emulator = emulatorWith({ chaos: { duplicate: 1, maxDelayMs: 20 } });
    emulator.addEndpoint(hook.url, TEST_SECRET);
    emulator.users.create({ primary_email: "d@example.com" });
    await emulator.idle();
    expect(hook.received).toHaveLength(2);
    expect(hook.received[0]?.body).toBe(hook.received[1]?.body);
    expect(header(hook.received[0] as Received, "svix-id")).toBe(
      header(hook.received[1] as Received, "svix-id"),
    );
  });

  it("newId sends the same event under two svix-ids; drop loses it entirely", async () => {
    const hook = await endpoint();
    const emulator = emulatorWith({ chaos: { newId: 1 } });
    emulator.addEndpoint(hook.url, TEST_SECRET);
    emulator.users.create({ primary_email: "n@example.com" });
    await emulator.idle();
    expect(hook.received).toHaveLength(2);
    expect(hook.received[0]?.body).toBe(hook.received[1]?.body);
    expect(new Set(hook.received.map((r) => header(r, "svix-id"))).size).toBe(2);

    emulator.setChaos({ newId: 0, drop: 1 });
    emulator.users.create({ primary_email: "lost@example.com" });
    await emulator.idle();
    expect(hook.received).toHaveLength(2);
    expect(emulator.events.at(-1)).toMatchObject({ type: "user.created", dropped: true, svixIds: [] });
  });

  it("delay reorders deliveries", async () => {
    const hook = await endpoint();
    const emulator = emulatorWith({ chaos: { seed: 3, delay: 1, maxDelayMs: 60 } });
    emulator.addEndpoint(hook.url, TEST_SECRET);
    const user = emulator.users.create({ primary_email: "o@example.com" }, { notify: false });
    for (let i = 0; i < 15; i++) emulator.users.update(user.id, { display_name: `name ${i}` });
    await emulator.idle();
    const names = hook.received.map((r) => bodyOf(r).data.display_name);
    expect(names).toHaveLength(15);
    expect(names).not.toEqual(
      [...names].sort((a, b) => Number(String(a).slice(5)) - Number(String(b).slice(5))),
    );
  });

  it("makes the same decisions for the same seed", async () => {
    const pattern = async (seed: number) => {
      const emulator = emulatorWith({ chaos: { seed, drop: 0.5, newId: 0.3 } });
      emulator.addEndpoint("http://127.0.0.1:9/never", TEST_SECRET);
      emulator.setChaos({ seed });
      for (let i = 0; i < 30; i++) emulator.users.create({}, { notify: true });
      const decisions = emulator.events.map((e) => (e.dropped ? "drop" : e.svixIds.length));
      await emulator.stop();
      return decisions;
    };
    const first = await pattern(11);
    expect(await pattern(11)).toEqual(first);
    expect(first).toContain("drop");
    expect(first).toContain(2);
  });
});
