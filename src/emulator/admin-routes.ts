import { z } from "zod";
import type { EmulatorRequest } from "./api-routes";
import { json, StackHttpError, type EmulatorResponse } from "./errors";
import type { Emulator } from "./emulator";
import { seedUsers } from "./activity";

const notifyOf = (request: EmulatorRequest) => ({
  notify: request.url.searchParams.get("notify") !== "false",
});

const schemas = {
  endpoint: z.strictObject({ url: z.url(), secret: z.string().startsWith("whsec_").optional() }),
  upgrade: z.strictObject({
    primary_email: z.string().min(3),
    display_name: z.string().nullable().optional(),
    primary_email_verified: z.boolean().optional(),
  }),
  email: z.strictObject({
    email: z.string().min(3),
    is_verified: z.boolean().optional(),
    is_primary: z.boolean().optional(),
  }),
  oauth: z.strictObject({
    provider_id: z.string().min(1),
    account_id: z.string().min(1),
    email: z.string().nullable().optional(),
  }),
  seed: z.strictObject({
    count: z.number().int().min(1).max(100_000),
    anonymous_share: z.number().min(0).max(1).optional(),
  }),
};

/**
 * Routes that are not Stack's, under `/emulator/`: the changes Stack makes without a webhook (or that a test
 * wants without one: `?notify=false`), endpoints, chaos, and the delivery log. No authentication: local use only.
 */
export function handleAdmin(request: EmulatorRequest, emulator: Emulator): EmulatorResponse {
  const path = request.url.pathname.replace(/\/+$/, "");
  const route = `${request.method} ${path.replace(/\/users\/[^/]+/, "/users/:id").replace(/\/endpoints\/[^/]+/, "/endpoints/:id")}`;
  const id = decodeURIComponent(/\/(?:users|endpoints)\/([^/]+)/.exec(path)?.[1] ?? "");
  const body = () => parseJson(request.body);
  const limit = Number(request.url.searchParams.get("limit") ?? 100);
  const { users } = emulator;
  switch (route) {
    case "GET /emulator":
      return json(200, {
        project_id: emulator.projectId,
        users: users.count,
        endpoints: emulator.endpoints().map(({ id: endpointId, url }) => ({ id: endpointId, url })),
        chaos: emulator.chaos,
        pending_deliveries: emulator.pendingDeliveries,
        events: emulator.events.length,
        attempts: emulator.deliveries.length,
        api: emulator.apiStats,
      });
    case "GET /emulator/users":
      return json(200, { items: users.list() });
    case "GET /emulator/deliveries":
      return json(200, { items: emulator.deliveries.slice(-limit) });
    case "GET /emulator/events":
      return json(200, { items: emulator.events.slice(-limit).map(({ body: _body, ...event }) => event) });
    case "GET /emulator/endpoints":
      return json(200, { items: emulator.endpoints() });
    case "POST /emulator/endpoints": {
      const input = schemas.endpoint.parse(body());
      return json(201, emulator.addEndpoint(input.url, input.secret));
    }
    case "DELETE /emulator/endpoints/:id":
      return json(emulator.removeEndpoint(id) ? 200 : 404, { success: true });
    case "PUT /emulator/chaos":
      return json(200, emulator.setChaos(chaosSchema.parse(body())));
    case "POST /emulator/seed": {
      const input = schemas.seed.parse(body());
      return json(201, {
        created: seedUsers(users, input.count, {
          anonymousShare: input.anonymous_share ?? 0,
          ...notifyOf(request),
        }),
      });
    }
    case "POST /emulator/users/anonymous":
      return json(201, users.signUpAnonymous(notifyOf(request)));
    case "DELETE /emulator/users/:id":
      users.delete(id, notifyOf(request));
      return json(200, { success: true });
    case "POST /emulator/users/:id/upgrade":
      return json(200, users.upgradeAnonymous(id, schemas.upgrade.parse(body()), notifyOf(request)));
    case "POST /emulator/users/:id/verify-email":
      return json(200, users.verifyEmail(id));
    case "POST /emulator/users/:id/primary-email": {
      const input = schemas.email.parse(body());
      return json(
        200,
        users.setPrimaryEmail(id, input.email, {
          ...(input.is_verified !== undefined && { isVerified: input.is_verified }),
        }),
      );
    }
    case "POST /emulator/users/:id/contact-channels": {
      const input = schemas.email.parse(body());
      return json(
        200,
        users.addContactChannel(id, input.email, {
          ...(input.is_verified !== undefined && { isVerified: input.is_verified }),
          ...(input.is_primary !== undefined && { isPrimary: input.is_primary }),
        }),
      );
    }
    case "POST /emulator/users/:id/oauth": {
      const input = schemas.oauth.parse(body());
      return json(
        200,
        users.linkOAuth(id, {
          id: input.provider_id,
          account_id: input.account_id,
          email: input.email ?? null,
        }),
      );
    }
    case "POST /emulator/users/:id/password":
      return json(200, users.setPassword(id));
    case "POST /emulator/users/:id/touch":
      return json(200, users.touch(id));
    default:
      return json(404, { error: `no emulator route ${request.method} ${request.url.pathname}` });
  }
}

/** Partial chaos settings: every field optional, probabilities in [0, 1]. */
export const chaosSchema = z
  .strictObject({
    seed: z.number().int(),
    duplicate: z.number().min(0).max(1),
    delay: z.number().min(0).max(1),
    maxDelayMs: z.number().min(0),
    drop: z.number().min(0).max(1),
    newId: z.number().min(0).max(1),
    rateLimit: z.number().min(0).max(1),
    retryAfterSeconds: z.number().int().min(0),
    serverError: z.number().min(0).max(1),
  })
  .partial();

function parseJson(text: string): unknown {
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new StackHttpError(json(400, { error: "the body is not JSON" }));
  }
}
