#!/usr/bin/env node
// Runs the Prisma CLI with what these offline machines need: Prisma's native schema engine cannot be
// downloaded here, and `prisma generate` refuses to start without one although it never uses it.
// Machines that do have a real engine keep it.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const env = { ...process.env, CHECKPOINT_DISABLE: "1" };

if (!env.PRISMA_SCHEMA_ENGINE_BINARY) {
  let hasEngine = false;
  try {
    hasEngine = readdirSync(join(root, "node_modules/@prisma/engines")).some((f) =>
      f.startsWith("schema-engine"),
    );
  } catch {
    hasEngine = false;
  }
  if (!hasEngine) env.PRISMA_SCHEMA_ENGINE_BINARY = join(root, "scripts/prisma-engine-stub.sh");
}

const result = spawnSync(join(root, "node_modules/.bin/prisma"), process.argv.slice(2), {
  stdio: "inherit",
  env,
});
process.exit(result.status ?? 1);
