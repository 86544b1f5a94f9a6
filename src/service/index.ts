import type { Config } from "../config";
import { openDatabase, type Database } from "../db";
import { pruneEventLog } from "../db/event-log";
import { createSyncStore } from "../db/sync-store";
import type { Logger } from "../log";
import {
  createMetrics,
  createOps,
  recordReconcileRun,
  type Metrics,
  type Ops,
  type RunReconcile,
} from "../ops";
import { reconcile, reconcileFailureCode } from "../reconcile";
import { createStackApiClient, type StackApiClient } from "../stack/api";
import type { SyncStore } from "../sync/store";
import { createWebhookHandler, type WebhookHandler } from "../webhooks/handler";
import { ensureDevSecret } from "./dev-secret";

export { devSecretPath, ensureDevSecret, readDevSecret } from "./dev-secret";

/** Everything a running stack-sync holds, built from a config; no framework in sight. */
export interface Service {
  config: Config;
  db: Database;
  store: SyncStore;
  logger: Logger;
  /** The webhook endpoint, `Request → Response`. */
  handleWebhook: WebhookHandler;
  /** Prometheus series; the webhook path reports into them. */
  metrics: Metrics;
  /** Health, metrics, the status page and its sign-in, as framework-free functions. */
  ops: Ops;
  close(): Promise<void>;
}

export const WEBHOOK_PATH = "/api/webhooks/stack/user/sync";

/** A user read for fetch-on-notify must end well inside the 15 s Svix gives a delivery. */
const FETCH_TIMEOUT_MS = 5_000;
/** A listing page for reconcile is larger than one user: give it longer. */
const LISTING_TIMEOUT_MS = 30_000;

/** How often the event log is pruned while the service runs. */
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/** Opens and migrates the database, settles the webhook secrets and builds the handler. */
export async function startService(config: Config, logger: Logger): Promise<Service> {
  const db = await openDatabase(config.database, {
    onConnectionError: (err) => logger.warn({ err }, "database connection error"),
  });
  const migrations = await db.migrate();
  if (migrations.applied.length > 0) logger.info({ applied: migrations.applied }, "migrations applied");
  const metrics = createMetrics();
  const store = createSyncStore(db.prisma, { onRetry: metrics.observeRetry });
  const secrets = webhookSecrets(config, logger);
  const sync = {
    syncAnonymousUsers: config.syncAnonymousUsers,
    passwordHashRounds: config.passwordHashRounds,
    onPasswordHash: metrics.observePasswordHash,
  };
  const api = stackApi(config, FETCH_TIMEOUT_MS);
  const handleWebhook = createWebhookHandler({
    store,
    secrets,
    fetchUser: api ? (id) => api.getUser(id) : undefined,
    sync,
    logger,
    onDelivery: metrics.observeDelivery,
  });
  const listingApi = stackApi(config, LISTING_TIMEOUT_MS);
  const runReconcile: RunReconcile | null = listingApi
    ? ({ dryRun, force }) =>
        recordReconcileRun(db.prisma, { dryRun, errorCode: reconcileFailureCode }, () =>
          reconcile({ store, prisma: db.prisma, api: listingApi, options: sync, dryRun, force }),
        )
    : null;
  const ops = createOps({ config, db, metrics, startedAt: new Date(), runReconcile });
  if (config.production && config.adminToken === undefined) {
    logger.warn("ADMIN_TOKEN is not set: the status page and /api/metrics stay closed until it is");
  }
  const prune = () =>
    pruneEventLog(db.prisma, config.eventLogRetentionDays).then(
      (count) =>
        count > 0 && logger.info({ count, retentionDays: config.eventLogRetentionDays }, "event log pruned"),
      (err: unknown) => logger.warn({ err }, "event log pruning failed"),
    );
  await prune();
  const pruning = setInterval(prune, PRUNE_INTERVAL_MS).unref();
  logger.info(
    {
      database: config.database.kind,
      path: WEBHOOK_PATH,
      secretCount: secrets.length,
      anonymous: config.syncAnonymousUsers,
      fetchOnNotify: api !== null,
    },
    "stack-sync ready",
  );
  return {
    config,
    db,
    store,
    logger,
    handleWebhook,
    metrics,
    ops,
    close: async () => {
      clearInterval(pruning);
      await db.close();
    },
  };
}

/** Stack's server API when a server key is configured (fetch-on-notify, reconcile), else null. */
function stackApi(config: Config, timeoutMs: number): StackApiClient | null {
  const { apiUrl, projectId, secretServerKey } = config.stack;
  if (!secretServerKey || !projectId) return null;
  return createStackApiClient({ apiUrl, projectId, secretServerKey, timeoutMs });
}

/** The configured secrets; outside production without any, a development secret kept in the data folder. */
function webhookSecrets(config: Config, logger: Logger): string[] {
  if (config.webhookSecrets.length > 0) return config.webhookSecrets;
  if (config.production) {
    logger.error("STACK_WEBHOOK_SECRET is not set: the webhook answers 503 not_configured until it is");
    return [];
  }
  const { secret, created } = ensureDevSecret(config.dataDir);
  // Printed on purpose: a development secret exists to be pasted into a test sender.
  console.log(
    `\nstack-sync: ${created ? "made a" : "using the"} development webhook secret (kept in .data/webhook-secret):\n` +
      `  STACK_WEBHOOK_SECRET=${secret}\n` +
      `  Send a signed test event:  npm run trigger -- user.created --email jane@example.com --name "Jane Doe"\n`,
  );
  return [secret];
}
