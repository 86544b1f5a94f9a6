import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffMigrationsToSchema } from "./schema-diff";

const repoPrisma = path.join(process.cwd(), "prisma");

describe("diffMigrationsToSchema", () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), "schema-diff-"));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  // The drift check: fails when schema.prisma was changed without `npm run db:migration -- <name>`.
  it("finds prisma/migrations in step with prisma/schema.prisma", async () => {
    expect((await diffMigrationsToSchema()).trim()).toBe("");
  });

  it("returns the ALTER script when the schema has a field the migrations lack", async () => {
    const schema = await readFile(path.join(repoPrisma, "schema.prisma"), "utf8");
    const edited = schema.replace(/^(\s+password\s+String)$/m, "$1\n  nickname String?");
    expect(edited).not.toBe(schema);
    const schemaPath = path.join(tmp, "schema.prisma");
    await writeFile(schemaPath, edited);
    const script = await diffMigrationsToSchema({
      schemaPath,
      migrationsDir: path.join(repoPrisma, "migrations"),
    });
    expect(script).toContain(`ALTER TABLE "users" ADD COLUMN     "nickname" TEXT;`);
  });

  // pglite-prisma-adapter 0.7.2 does not await its script: a broken history would diff as "in sync".
  it("fails, naming the migration, when the history does not apply", async () => {
    const migrationsDir = path.join(tmp, "migrations");
    await cp(path.join(repoPrisma, "migrations"), migrationsDir, { recursive: true });
    await mkdir(path.join(migrationsDir, "20990101000000_broken"));
    await writeFile(
      path.join(migrationsDir, "20990101000000_broken", "migration.sql"),
      `ALTER TABLE "nope" ADD x INT;`,
    );
    const run = diffMigrationsToSchema({ schemaPath: path.join(repoPrisma, "schema.prisma"), migrationsDir });
    await expect(run).rejects.toThrow(/20990101000000_broken[\s\S]*nope/);
  });
});
