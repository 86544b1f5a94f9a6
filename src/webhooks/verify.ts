import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { SyncError } from "../errors";

/** Svix's names for the three signature headers, and Standard Webhooks' names, which Svix also sends. */
const HEADER_NAMES = {
  id: ["svix-id", "webhook-id"],
  timestamp: ["svix-timestamp", "webhook-timestamp"],
  signature: ["svix-signature", "webhook-signature"],
} as const;

/** Longest `svix-id` accepted. */
export const MAX_ID_LENGTH = 255;

/** The signed identity of a delivery. */
export interface VerifiedDelivery {
  /** The `svix-id`: constant across retries of one message, the only event identity Stack Auth gives. */
  id: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
}

export type Verifier = (headers: Headers, body: Uint8Array) => VerifiedDelivery;

/**
 * Builds a verifier for one or more `whsec_…` secrets (rotation: any may match). Verification is
 * `standardwebhooks`'s: HMAC-SHA256 over `id.timestamp.body`, constant-time comparison against each `v1,`
 * entry, timestamps more than 5 minutes away refused. Throws on a malformed secret, at build time.
 */
export function createVerifier(secrets: readonly string[]): Verifier {
  if (secrets.length === 0) throw new Error("createVerifier needs at least one secret");
  const webhooks = secrets.map((secret) => new Webhook(secret));
  return (headers, body) => {
    const id = firstHeader(headers, HEADER_NAMES.id);
    const timestamp = firstHeader(headers, HEADER_NAMES.timestamp);
    const signature = firstHeader(headers, HEADER_NAMES.signature);
    if (!id || !timestamp || !signature)
      throw new SyncError("invalid_signature", "missing signature headers");
    // Svix ids are short (`msg_` + 27 characters); a longer one is malformed and could not be recorded.
    if (id.length > MAX_ID_LENGTH) throw new SyncError("invalid_signature", "svix-id too long");
    const standard = { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signature };
    let lastReason = "no secret matched";
    for (const webhook of webhooks) {
      try {
        webhook.verify(body, standard, { jsonParse: false });
        return { id, timestamp: Number(timestamp) };
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) throw error;
        lastReason = error.message;
      }
    }
    throw new SyncError("invalid_signature", lastReason);
  };
}

function firstHeader(headers: Headers, names: readonly string[]): string | null {
  for (const name of names) {
    const value = headers.get(name);
    if (value) return value;
  }
  return null;
}

/** Signs a body the way Svix does; for tests, the trigger command and the emulator. */
export function signPayload(
  secret: string,
  id: string,
  timestamp: number,
  body: string | Uint8Array,
): Record<"svix-id" | "svix-timestamp" | "svix-signature", string> {
  const signature = new Webhook(secret).sign(id, new Date(timestamp * 1000), body);
  return { "svix-id": id, "svix-timestamp": String(timestamp), "svix-signature": signature };
}
