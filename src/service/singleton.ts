import { ConfigError, loadConfig } from "../config";
import { createLogger } from "../log";
import { startService, type Service } from "./index";

// Next.js bundles the route handlers and instrumentation separately, so a module-level variable would
// not be shared between them; the embedded database must be opened exactly once per process.
const KEY = Symbol.for("stack-sync.service");
type Holder = { [KEY]?: Promise<Service> };

/** The process's one Service, started on first use from the environment. */
export function getService(): Promise<Service> {
  const holder = globalThis as Holder;
  holder[KEY] ??= boot();
  return holder[KEY];
}

async function boot(): Promise<Service> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`stack-sync: configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ pretty: !config.production && process.stdout.isTTY });
  try {
    return await startService(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, "stack-sync could not start");
    process.exit(1);
  }
}
