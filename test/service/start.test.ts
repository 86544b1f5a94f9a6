import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config";
import { silentLogger } from "../../src/log";
import { startService, type Service } from "../../src/service";
import { createdEvent, signedRequest, stackUser } from "../support/fixtures";

describe("service start-up", () => {
  const started: Service[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()));
    dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
    vi.restoreAllMocks();
  });

  function workDir(): string {
    const dir = mkdtempSync(join(tmpdir(), "stack-sync-start-"));
    dirs.push(dir);
    return dir;
  }

  async function start(env: Record<string, string>, cwd: string): Promise<Service> {
    const service = await startService(
      loadConfig({ DATABASE_URL: "memory:", PASSWORD_HASH_ROUNDS: "4", ...env }, cwd),
      silentLogger(),
    );
    started.push(service);
    return service;
  }

  it("makes a development secret on first start, keeps it, prints it with a test-event hint, and accepts events signed with it", async () => {
    const cwd = workDir();
    const printed = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const service = await start({}, cwd);
    const secret = readFileSync(join(cwd, ".data", "webhook-secret"), "utf8").trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(statSync(join(cwd, ".data", "webhook-secret")).mode & 0o777).toBe(0o600);
    const output = printed.mock.calls.flat().join("\n");
    expect(output).toContain(secret);
    expect(output).toContain("npm run trigger -- user.created");

    const user = stackUser();
    const res = await service.handleWebhook(signedRequest(createdEvent(user), { secret }));
    expect(res.status).toBe(200);
    expect(await service.db.prisma.user.count({ where: { id: user.id } })).toBe(1);

    await start({}, cwd);
    expect(readFileSync(join(cwd, ".data", "webhook-secret"), "utf8").trim()).toBe(secret);
  });

  it("uses the configured secrets and makes no development secret when they are set", async () => {
    const cwd = workDir();
    const service = await start({ STACK_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }, cwd);
    expect(() => statSync(join(cwd, ".data", "webhook-secret"))).toThrow();
    const res = await service.handleWebhook(signedRequest(createdEvent(stackUser())));
    expect(res.status).toBe(200);
  });

  it("answers 503 not_configured in production without a secret, and writes nothing", async () => {
    const cwd = workDir();
    const service = await start({ NODE_ENV: "production" }, cwd);
    const res = await service.handleWebhook(signedRequest(createdEvent(stackUser())));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "not_configured" } });
    expect(await service.db.prisma.user.count()).toBe(0);
    expect(await service.db.prisma.webhookEvent.count()).toBe(0);
    expect(() => statSync(join(cwd, ".data", "webhook-secret"))).toThrow();
  });

  it("stops the migrate command with one line naming the variable when the configuration is bad", () => {
    const result = spawnSync(join("node_modules", ".bin", "tsx"), ["src/cli/migrate.ts"], {
      env: { ...process.env, DATABASE_URL: "mysql://nope" },
      encoding: "utf8",
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^stack-sync: configuration error: DATABASE_URL: /),
    ]);
  });
});
