import { SyncError, errorResponse, type ErrorCode } from "../errors";
import { silentLogger, type Logger } from "../log";
import type { SyncOptions, SyncResult } from "../sync/engine";
import type { SyncStore } from "../sync/store";
import { readBodyLimited } from "./body";
import { processDelivery, type ProcessOptions } from "./process";
import { createVerifier, type VerifiedDelivery, type Verifier } from "./verify";

export interface WebhookHandlerOptions {
  store: SyncStore;
  /** `whsec_…` secrets; none means "not configured" and every delivery is answered 503. */
  secrets: readonly string[];
  sync: SyncOptions;
  /** Fetch-on-notify (see `ProcessOptions.fetchUser`); unset: payloads are applied as they come. */
  fetchUser?: ProcessOptions["fetchUser"];
  logger?: Logger;
  /** Called once per answered delivery, after the response is decided (metrics). */
  onDelivery?: (delivery: DeliveryOutcome) => void;
}

/** What happened to one delivery, for logs and metrics. */
export interface DeliveryOutcome {
  svixId: string | null;
  type: string | null;
  userId: string | null;
  status: number;
  outcome: SyncResult["status"] | ErrorCode;
  durationMs: number;
}

export type WebhookHandler = (request: Request) => Promise<Response>;

/**
 * The webhook endpoint as a Web `Request → Response` function, independent of any framework.
 * Checks run in SPEC §3's order; nothing reaches the database before the signature holds.
 */
export function createWebhookHandler(options: WebhookHandlerOptions): WebhookHandler {
  const verify: Verifier | null = options.secrets.length > 0 ? createVerifier(options.secrets) : null;
  const logger = options.logger ?? silentLogger();

  return async (request) => {
    const started = performance.now();
    const seen: Seen = { svixId: null, type: null, userId: null };
    let response: Response;
    let outcome: DeliveryOutcome["outcome"];
    try {
      const result = await handle(request, seen);
      outcome = result.status;
      response = Response.json(
        result.status === "ignored"
          ? { status: result.status, reason: result.reason }
          : { status: result.status },
      );
    } catch (error) {
      const code: ErrorCode = error instanceof SyncError ? error.code : "internal_error";
      outcome = code;
      response = errorResponse(code);
      if (code === "internal_error" || code === "unavailable") {
        logger.error(
          { err: error, svixId: seen.svixId, type: seen.type, userId: seen.userId },
          `webhook ${code}`,
        );
      }
    }
    const delivery: DeliveryOutcome = {
      ...seen,
      status: response.status,
      outcome,
      durationMs: performance.now() - started,
    };
    logger.info(delivery, "webhook delivery");
    options.onDelivery?.(delivery);
    return response;
  };

  async function handle(request: Request, seen: Seen): Promise<SyncResult> {
    if (request.method !== "POST") throw new SyncError("method_not_allowed");
    const body = await readBodyLimited(request);
    if (!verify) throw new SyncError("not_configured");
    const signed: VerifiedDelivery = verify(request.headers, body);
    seen.svixId = signed.id;
    return processDelivery(signed.id, body, options, seen);
  }
}

/** What is known of a delivery so far, for its log line. */
type Seen = Pick<DeliveryOutcome, "svixId" | "type" | "userId">;
