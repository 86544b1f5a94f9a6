import { SyncError, type ErrorCode } from "../errors";
import {
  isUserEventType,
  stackDeletedUserSchema,
  stackUserSchema,
  webhookEnvelopeSchema,
  type StackUser,
  type UserEventType,
} from "../stack";
import {
  applyChange,
  recordUnhandled,
  type SyncOptions,
  type SyncResult,
  type UserChange,
} from "../sync/engine";
import type { DeliveryRecord, SyncStore } from "../sync/store";

export interface ProcessOptions {
  store: SyncStore;
  sync: SyncOptions;
  /**
   * Fetch-on-notify: with Stack's server API configured, a user event only says "this user changed"; the
   * user's current state is read (null: deleted) and applied instead of the payload, so the result does not
   * depend on the order deliveries arrive in.
   */
  fetchUser?: (userId: string) => Promise<StackUser | null>;
}

/**
 * Applies the body of a delivery whose signature has been verified (or, for a replay, that was recorded):
 * parse, validate, sync. A body that cannot be applied is recorded as failed, with its text for replay,
 * and thrown as a `SyncError`. `seen` receives the type and user id as soon as they are known, for logs.
 */
export async function processDelivery(
  svixId: string,
  body: Uint8Array,
  options: ProcessOptions,
  seen: { type: string | null; userId: string | null } = { type: null, userId: null },
): Promise<SyncResult> {
  const delivery: DeliveryRecord = { svixId, type: null, userId: null };
  const fail = async (code: ErrorCode): Promise<never> => {
    await options.store.recordFailure(delivery, code, decodeForLog(body));
    throw new SyncError(code);
  };

  const envelope = parseEnvelope(body);
  if (!envelope.ok) return fail(envelope.code);
  delivery.type = seen.type = envelope.type;
  delivery.userId = seen.userId = isUserEventType(envelope.type) ? envelope.userId : null;

  if (!isUserEventType(envelope.type)) return recordUnhandled(options.store, delivery);
  let change = parseUserChange(envelope.type, envelope.data);
  if (!change) return fail("invalid_payload");
  if (options.fetchUser) {
    // A redelivery needs no call to Stack: answer it before asking.
    if (await isSettled(options.store, svixId)) return { status: "duplicate" };
    change = await currentState(options.fetchUser, changedUserId(change));
  }

  try {
    return await applyChange(options.store, change, delivery, options.sync);
  } catch (error) {
    if (error instanceof SyncError && (error.code === "email_conflict" || error.code === "invalid_payload")) {
      return fail(error.code);
    }
    throw error;
  }
}

function changedUserId(change: UserChange): string {
  return change.kind === "snapshot" ? change.user.id : change.userId;
}

/** The change that brings a user to Stack's current state. A failing API is `unavailable`: Svix retries. */
async function currentState(
  fetchUser: (userId: string) => Promise<StackUser | null>,
  userId: string,
): Promise<UserChange> {
  let user: StackUser | null;
  try {
    user = await fetchUser(userId);
  } catch (error) {
    throw new SyncError("unavailable", "Stack API call failed", { cause: error });
  }
  if (user === null) return { kind: "deletion", userId };
  if (user.id !== userId) throw new SyncError("unavailable", "Stack API answered with another user");
  return { kind: "snapshot", user };
}

async function isSettled(store: SyncStore, svixId: string): Promise<boolean> {
  const outcome = await store.eventOutcome(svixId);
  return outcome === "processed" || outcome === "ignored";
}

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
