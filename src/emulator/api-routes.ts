import { json, KnownErrors, StackHttpError, statusError, type EmulatorResponse } from "./errors";
import { isUuid, listPage, parseListQuery } from "./list-query";
import type { UserDirectory } from "./directory";
import { toStackUser, type CreateUserInput, type UpdateUserInput } from "./user-model";
import type { EmulatorUsers } from "./users";

/** A request as the routers see it: lower-case header names, the body as text. */
export interface EmulatorRequest {
  method: string;
  url: URL;
  headers: Record<string, string | undefined>;
  body: string;
}

export interface ApiContext {
  projectId: string;
  secretServerKey: string;
  directory: UserDirectory;
  users: EmulatorUsers;
}

/** `/api/v1/users[/{id}]` with Stack's server-access checks. */
export function handleApi(request: EmulatorRequest, ctx: ApiContext): EmulatorResponse {
  const path = request.url.pathname.replace(/\/+$/, "");
  const match = /^\/api\/v1\/users(?:\/([^/]+))?$/.exec(path);
  if (!match)
    return statusError(
      404,
      `The route ${request.method} ${request.url.pathname} does not exist in the emulator.`,
    );
  const denied = checkServerAuth(request.headers, ctx);
  if (denied) return denied;
  const id = match[1] === undefined ? null : decodeURIComponent(match[1]);
  if (id === null) {
    if (request.method === "GET") return listUsers(request, ctx);
    if (request.method === "POST") return json(201, ctx.users.create(parseBody<CreateUserInput>(request)));
    return statusError(405, "Method not allowed");
  }
  if (id === "me") throw new StackHttpError(KnownErrors.cannotGetOwnUserWithoutUser());
  if (!isUuid(id)) {
    throw new StackHttpError(
      KnownErrors.schemaError(
        `Request validation failed on ${request.method} ${path}:\n  - params.user_id must be a valid UUID`,
      ),
    );
  }
  switch (request.method) {
    case "GET": {
      const record = ctx.directory.get(id);
      if (!record) throw new StackHttpError(KnownErrors.userNotFound());
      return json(200, toStackUser(record, ctx.directory.settings));
    }
    case "PATCH":
      return json(200, ctx.users.update(id, parseBody<UpdateUserInput>(request)));
    case "DELETE":
      ctx.users.delete(id);
      return json(200, { success: true });
    default:
      return statusError(405, "Method not allowed");
  }
}

function listUsers(request: EmulatorRequest, ctx: ApiContext): EmulatorResponse {
  const query = parseListQuery(request.url.searchParams);
  const page = listPage(ctx.directory.sorted(), query, ctx.directory.settings);
  return json(200, {
    items: page.items.map((r) => toStackUser(r, ctx.directory.settings)),
    is_paginated: true,
    pagination: { next_cursor: page.nextCursor },
  });
}

/** `parseAuth` of apps/backend/src/route-handlers/smart-request.tsx, for the one project and key the emulator has. */
function checkServerAuth(headers: EmulatorRequest["headers"], ctx: ApiContext): EmulatorResponse | null {
  const accessType = headers["x-stack-access-type"];
  const projectId = headers["x-stack-project-id"];
  const serverKey = headers["x-stack-secret-server-key"];
  const clientKey = headers["x-stack-publishable-client-key"];
  const adminKey = headers["x-stack-super-secret-admin-key"];
  if (!accessType) {
    return serverKey || clientKey || adminKey || headers["x-stack-admin-access-token"]
      ? KnownErrors.projectKeyWithoutAccessType()
      : KnownErrors.accessTypeRequired();
  }
  if (accessType !== "client" && accessType !== "server" && accessType !== "admin") {
    return KnownErrors.invalidAccessType(accessType);
  }
  if (!projectId) return KnownErrors.accessTypeWithoutProjectId(accessType);
  // The emulator has no client or admin keys: those access types can never authenticate.
  if (accessType === "client") {
    return clientKey
      ? KnownErrors.invalidPublishableClientKey(projectId)
      : KnownErrors.clientAuthenticationRequired();
  }
  if (accessType === "admin") {
    return adminKey
      ? KnownErrors.invalidSuperSecretAdminKey(projectId)
      : KnownErrors.adminAuthenticationRequired();
  }
  if (!serverKey) return KnownErrors.serverAuthenticationRequired();
  // Stack looks the key up for the given project: a wrong project and a wrong key fail the same way.
  if (projectId !== ctx.projectId || serverKey !== ctx.secretServerKey)
    return KnownErrors.invalidSecretServerKey(projectId);
  return null;
}

/** `parseBody` of smart-request.tsx: JSON when the content type says so. The directory validates the shape. */
function parseBody<T>(request: EmulatorRequest): T {
  const contentType = request.headers["content-type"]?.split(";")[0]?.trim();
  if (!contentType || request.body === "") return {} as T;
  if (contentType !== "application/json") {
    throw new StackHttpError(KnownErrors.bodyParsing(`Unknown content type in request body: ${contentType}`));
  }
  try {
    return JSON.parse(request.body) as T;
  } catch {
    throw new StackHttpError(KnownErrors.bodyParsing("Invalid JSON in request body"));
  }
}
