import { ConfigError, loadConfig } from "../config";
import { openDatabase } from "../db";

/** `npm run db:migrate`: applies pending migrations to the configured database and says what it did. */
async function main(): Promise<void> {
  const config = loadConfig();
  const db = await openDatabase(config.database);
  try {
    const report = await db.migrate();
    const target =
      config.database.kind === "postgres"
        ? "PostgreSQL"
        : config.database.dataDir
          ? `PGlite in ${config.database.dataDir}`
          : "in-memory PGlite";
    console.log(
      report.applied.length > 0
        ? `Applied ${report.applied.length} migration(s) to ${target}: ${report.applied.join(", ")}`
        : `${target} is up to date (${report.total} migration(s)).`,
    );
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(
    error instanceof ConfigError
      ? `stack-sync: configuration error: ${error.message}`
      : `stack-sync: migration failed: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
