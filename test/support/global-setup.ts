import { execFileSync } from "node:child_process";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

/**
 * Gives the suite a PostgreSQL server: TEST_DATABASE_URL when set (.ci/run starts one),
 * else a throwaway cluster from the installed server binaries, stopped after the run.
 */
export default function setup(project: TestProject): (() => void) | undefined {
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    project.provide("postgresUrl", given);
    return undefined;
  }
  const [url, dir] = execFileSync("scripts/postgres.sh", ["start"], { encoding: "utf8" }).trim().split("\n");
  if (!url || !dir) throw new Error("scripts/postgres.sh start printed no URL");
  project.provide("postgresUrl", url);
  return () => {
    execFileSync("scripts/postgres.sh", ["stop", dir]);
  };
}
