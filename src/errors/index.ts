/**
 * The one error type of stack-sync. Every failure the service reports carries a machine code;
 * `statusOf` is the only place a code becomes an HTTP status.
 */
export type ErrorCode =
  | "method_not_allowed"
  | "payload_too_large"
  | "not_configured"
  | "invalid_signature"
  | "invalid_json"
  | "invalid_payload"
  | "email_conflict"
  | "unavailable"
  | "unauthorized"
  | "stack_api_not_configured"
  | "reconcile_running"
  | "internal_error";

const MESSAGES: Record<ErrorCode, string> = {
  method_not_allowed: "Only POST is allowed.",
  payload_too_large: "The body is larger than 2 MiB.",
  not_configured: "No webhook secret is configured.",
  invalid_signature: "The webhook signature is missing or does not match.",
  invalid_json: "The body is not JSON.",
  invalid_payload: "The event data does not fit the Stack Auth user schema.",
  email_conflict: "The email is held by another user.",
  unavailable: "The service cannot process this event now; try again later.",
  unauthorized: "Send Authorization: Bearer <ADMIN_TOKEN>.",
  stack_api_not_configured: "STACK_SECRET_SERVER_KEY and STACK_PROJECT_ID are not set.",
  reconcile_running: "A reconcile run is already under way in this process.",
  internal_error: "Something unexpected happened.",
};

/** Seconds a client should wait before retrying an `unavailable` answer. */
export const RETRY_AFTER_SECONDS = 30;

export class SyncError extends Error {
  override readonly name = "SyncError";

  constructor(
    readonly code: ErrorCode,
    /** Internal detail for logs; never sent to the client. */
    readonly detail?: string,
    options?: { cause?: unknown },
  ) {
    super(detail ? `${code}: ${detail}` : code, options);
  }
}

/** The HTTP status of an error code. */
export function statusOf(code: ErrorCode): number {
  switch (code) {
    case "method_not_allowed":
      return 405;
    case "payload_too_large":
      return 413;
    case "invalid_signature":
    case "unauthorized":
      return 401;
    case "invalid_json":
      return 400;
    case "invalid_payload":
      return 422;
    case "email_conflict":
    case "reconcile_running":
      return 409;
    case "not_configured":
    case "stack_api_not_configured":
    case "unavailable":
      return 503;
    case "internal_error":
      return 500;
  }
}

/** The public message of an error code: fixed text, never the internal detail. */
export function messageOf(code: ErrorCode): string {
  return MESSAGES[code];
}

/** The JSON response for an error code: `{"error":{"code","message"}}`, with `Retry-After` where it helps. */
export function errorResponse(code: ErrorCode): Response {
  const status = statusOf(code);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (status === 503) headers["retry-after"] = String(RETRY_AFTER_SECONDS);
  if (code === "method_not_allowed") headers["allow"] = "POST";
  if (code === "unauthorized") headers["www-authenticate"] = 'Bearer realm="stack-sync"';
  return new Response(JSON.stringify({ error: { code, message: messageOf(code) } }), { status, headers });
}
