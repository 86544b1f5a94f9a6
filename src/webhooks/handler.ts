import { SyncError, errorResponse, type ErrorCode } from "../errors/index";
import { silentLogger, type Logger } from "../log/index";
import {
  isUserEventType,
  stackDeletedUserSchema,
  stackUserSchema,
  webhookEnvelopeSchema,
  type UserEventType,
} from "../stack/index";
import {
  applyChange,
  recordUnhandled,
  type SyncOptions,
  type SyncResult,
  type UserChange,
} from "../sync/engine";
import type { DeliveryRecord, SyncStore } from "../sync/store";
import { readBodyLimited } from "./body";
import { createVerifier, type VerifiedDelivery, type Verifier } from "./verify";

export interface WebhookHandlerOptions {
  store: SyncStore;
  /** `whsec_…` secrets; none means "not configured" and every delivery is answered 503. */
  secrets: readonly string[];
  sync: SyncOptions;
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

    const delivery: DeliveryRecord = { svixId: signed.id, type: null, userId: null };
    const envelope = parseEnvelope(body);
    if (!envelope.ok) return fail(delivery, envelope.code, body);
    delivery.type = seen.type = envelope.type;
    delivery.userId = seen.userId = envelope.userId;

    if (!isUserEventType(envelope.type)) return recordUnhandled(options.store, delivery);
    const change = parseUserChange(envelope.type, envelope.data);
    if (!change) return fail(delivery, "invalid_payload", body);

    try {
      return await applyChange(options.store, change, delivery, options.sync);
    } catch (error) {
      if (error instanceof SyncError && error.code === "email_conflict")
        return fail(delivery, "email_conflict", body);
      throw error;
    }
  }

  /** Records a failed delivery with its body (for replay), then answers with the error. */
  async function fail(delivery: DeliveryRecord, code: ErrorCode, body: Uint8Array): Promise<never> {
    await options.store.recordFailure(delivery, code, decodeForLog(body));
    throw new SyncError(code);
  }
}

/** What is known of a delivery so far, for its log line. */
type Seen = Pick<DeliveryOutcome, "svixId" | "type" | "userId">;

type Envelope =
  | { ok: true; type: string; data: unknown; userId: string | null }
  | { ok: false; code: "invalid_json" | "invalid_payload" };

const utf8 = new TextDecoder("utf-8", { fatal: true });

function parseEnvelope(body: Uint8Array): Envelope {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(body));
  } catch {
    return { ok: false, code: "invalid_json" };
  }
  const envelope = webhookEnvelopeSchema.safeParse(json);
  if (!envelope.success) return { ok: false, code: "invalid_payload" };
  const { type, data } = envelope.data;
  const id = typeof data === "object" && data !== null ? (data as { id?: unknown }).id : undefined;
  const userId = typeof id === "string" && !id.includes("\u0000") ? id.slice(0, 255) : null;
  return { ok: true, type, data, userId };
}

function parseUserChange(type: UserEventType, data: unknown): UserChange | null {
  if (type === "user.deleted") {
    const parsed = stackDeletedUserSchema.safeParse(data);
    return parsed.success ? { kind: "deletion", userId: parsed.data.id } : null;
  }
  const parsed = stackUserSchema.safeParse(data);
  return parsed.success ? { kind: "snapshot", user: parsed.data } : null;
}

/** The body as text for the event log: bytes that are not UTF-8, and NULs (which PostgreSQL text refuses), replaced. */
function decodeForLog(body: Uint8Array): string {
  return new TextDecoder("utf-8").decode(body).replaceAll("\u0000", "\uFFFD");
}
