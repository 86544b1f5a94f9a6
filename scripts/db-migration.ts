// Offline `prisma migrate dev --create-only --name <name>`: writes the next migration from the difference
// between prisma/migrations and prisma/schema.prisma. `--check` only reports drift (exit 1), for CI.
// Usage: npm run db:migration -- <name> | --name <name> | --check
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { diffMigrationsToSchema, MIGRATION_LOCK } from "../src/db/schema-diff";

/** Migration folder name as Prisma makes it: UTC `YYYYMMDDHHMMSS`, `_`, the name in snake_case. */
function migrationFolderName(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/\D/g, "").slice(0, 14);
  // Close to Prisma's slugify: split camelCase, drop accents, keep [a-z0-9], join with "_".
  const slug = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 200);
  if (!slug) throw new Error(`migration name "${name}" has no usable characters`);
  return `${stamp}_${slug}`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { name: { type: "string" }, check: { type: "boolean", default: false } },
    allowPositionals: true,
  });
  const migrationsDir = path.join(process.cwd(), "prisma", "migrations");
  const name = values.name ?? positionals[0];
  if (!values.check && !name) {
    console.error("usage: npm run db:migration -- <name>   (or --check to detect drift)");
    return 2;
  }
  const script = await diffMigrationsToSchema({ migrationsDir });
  if (values.check) {
    if (!script.trim()) {
      console.log("prisma/migrations matches prisma/schema.prisma");
      return 0;
    }
    console.error("Drift: prisma/schema.prisma differs from prisma/migrations. Missing migration:\n");
    console.error(script);
    console.error("Run `npm run db:migration -- <name>` to write it.");
    return 1;
  }
  if (!script.trim()) {
    console.log("no changes");
    return 0;
  }
  const folder = migrationFolderName(name ?? "");
  await mkdir(migrationsDir, { recursive: true });
  await mkdir(path.join(migrationsDir, folder)); // fails if it exists: never overwrite a migration
  await writeFile(path.join(migrationsDir, folder, "migration.sql"), script, "utf8");
  // Prisma rewrites the lock file with every migration it creates.
  await writeFile(path.join(migrationsDir, "migration_lock.toml"), MIGRATION_LOCK, "utf8");
  console.log(`wrote prisma/migrations/${folder}/migration.sql`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
