/** What the emulator answers: status, headers and a text body. */
export interface EmulatorResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A Stack Auth error answer, thrown by the user directory and turned into a response by the router. */
export class StackHttpError extends Error {
  override readonly name = "StackHttpError";
  constructor(readonly response: EmulatorResponse) {
    super(`${response.status} ${response.headers["x-stack-known-error"] ?? ""}`.trim());
  }
}

/**
 * A Stack "known error": `{code, details?, error}` pretty-printed, with `X-Stack-Known-Error`
 * (`KnownError.getBody`/`getHeaders` in packages/stack-shared/src/known-errors.tsx).
 */
export function knownError(
  status: number,
  code: string,
  message: string,
  details?: unknown,
): EmulatorResponse {
  const json = { code, ...(details !== undefined && { details }), error: message };
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "x-stack-known-error": code },
    body: JSON.stringify(json, undefined, 2),
  };
}

/** Stack's `StatusError`s that are not known errors answer with a plain-text message. */
export function statusError(status: number, message: string): EmulatorResponse {
  return { status, headers: { "content-type": "text/plain; charset=utf-8" }, body: message };
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): EmulatorResponse {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(value),
  };
}

const DOCS =
  "For more information, see the docs on REST API authentication: https://docs.stack-auth.com/rest-api/overview#authentication";

/** The known errors the emulator uses, with Stack's codes, statuses and messages. */
export const KnownErrors = {
  userNotFound: () => knownError(404, "USER_NOT_FOUND", "User not found."),
  schemaError: (message: string) => knownError(400, "SCHEMA_ERROR", message, { message }),
  bodyParsing: (message: string) => knownError(400, "BODY_PARSING_ERROR", message),
  accessTypeRequired: () =>
    knownError(
      400,
      "ACCESS_TYPE_REQUIRED",
      `You must specify an access level for this Stack project. Make sure project API keys are provided (eg. x-stack-publishable-client-key) and you set the x-stack-access-type header to 'client', 'server', or 'admin'.\n\n${DOCS}`,
    ),
  projectKeyWithoutAccessType: () =>
    knownError(
      400,
      "PROJECT_KEY_WITHOUT_ACCESS_TYPE",
      "Either an API key or an admin access token was provided, but the x-stack-access-type header is missing. Set it to 'client', 'server', or 'admin' as appropriate.",
    ),
  invalidAccessType: (accessType: string) =>
    knownError(
      400,
      "INVALID_ACCESS_TYPE",
      `The x-stack-access-type header must be 'client', 'server', or 'admin', but was '${accessType}'.`,
    ),
  accessTypeWithoutProjectId: (accessType: string) =>
    knownError(
      400,
      "ACCESS_TYPE_WITHOUT_PROJECT_ID",
      `The x-stack-access-type header was '${accessType}', but the x-stack-project-id header was not provided.\n\n${DOCS}`,
      { request_type: accessType },
    ),
  serverAuthenticationRequired: () =>
    knownError(401, "SERVER_AUTHENTICATION_REQUIRED", "The secret server key must be provided."),
  invalidSecretServerKey: (projectId: string) =>
    knownError(
      401,
      "INVALID_SECRET_SERVER_KEY",
      `The secret server key is not valid for the project ${JSON.stringify(projectId)}. Does the project and/or the key exist?`,
      { project_id: projectId },
    ),
  clientAuthenticationRequired: () =>
    knownError(401, "CLIENT_AUTHENTICATION_REQUIRED", "The publishable client key must be provided."),
  invalidPublishableClientKey: (projectId: string) =>
    knownError(
      401,
      "INVALID_PUBLISHABLE_CLIENT_KEY",
      `The publishable key is not valid for the project ${JSON.stringify(projectId)}. Does the project and/or the key exist?`,
      { project_id: projectId },
    ),
  adminAuthenticationRequired: () =>
    knownError(401, "ADMIN_AUTHENTICATION_REQUIRED", "The super secret admin key must be provided."),
  invalidSuperSecretAdminKey: (projectId: string) =>
    knownError(
      401,
      "INVALID_SUPER_SECRET_ADMIN_KEY",
      `The super secret admin key is not valid for the project ${JSON.stringify(projectId)}. Does the project and/or the key exist?`,
      { project_id: projectId },
    ),
  cannotGetOwnUserWithoutUser: () =>
    knownError(
      400,
      "CANNOT_GET_OWN_USER_WITHOUT_USER",
      "You have specified 'me' as a userId, but did not provide authentication for a user.",
    ),
  userEmailAlreadyExists: (email: string) =>
    knownError(
      409,
      "USER_EMAIL_ALREADY_EXISTS",
      `A user with email ${JSON.stringify(email)} already exists.`,
      {
        email,
        would_work_if_email_was_verified: false,
      },
    ),
};
