import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureBuilt, freePort } from "../support/app-server";

describe("next start with a bad configuration", () => {
  it("exits 1 with one line that names the variable", async () => {
    ensureBuilt();
    const result = spawnSync(
      join("node_modules", ".bin", "next"),
      ["start", "-p", String(await freePort())],
      {
        env: {
          ...process.env,
          NEXT_TELEMETRY_DISABLED: "1",
          DATABASE_URL: "memory:",
          PASSWORD_HASH_ROUNDS: "99",
        },
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(result.status).toBe(1);
    const ours = `${result.stdout}${result.stderr}`.split("\n").filter((line) => line.includes("stack-sync"));
    expect(ours).toEqual(["stack-sync: configuration error: PASSWORD_HASH_ROUNDS: must be at most 31"]);
  });
});
