import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleAdmin } from "./admin-routes";
import { handleApi, type EmulatorRequest } from "./api-routes";
import { UserDirectory } from "./directory";
import { json, StackHttpError, statusError, type EmulatorResponse } from "./errors";
import { chance, seededRandom, type Random } from "./random";
import { usersApi, type EmulatorUsers } from "./users";
import {
  SVIX_ATTEMPT_TIMEOUT_MS,
  WebhookSender,
  type DeliveryAttempt,
  type DeliveryChaos,
  type EmittedEvent,
  type Endpoint,
} from "./webhooks";

/** Everything that can be made to go wrong, on purpose and reproducibly (same seed, same decisions). */
export interface ChaosSettings extends DeliveryChaos {
  seed: number;
  /** Share of API requests answered 429 with `Retry-After: retryAfterSeconds`. */
  rateLimit: number;
  retryAfterSeconds: number;
  /** Share of API requests answered 503, as an outage would. */
  serverError: number;
}

export const NO_CHAOS: ChaosSettings = {
  seed: 1,
  duplicate: 0,
  delay: 0,
  maxDelayMs: 200,
  drop: 0,
  newId: 0,
  rateLimit: 0,
  retryAfterSeconds: 1,
  serverError: 0,
};

export interface EmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  projectId: string;
  secretServerKey: string;
  /** Stack's `onboarding.requireEmailVerification`: unverified users count as restricted. */
  requireEmailVerification?: boolean;
  /** Multiplies Svix's retry waits (1 = real timing). */
  timeScale?: number;
  attemptTimeoutMs?: number;
  chaos?: Partial<ChaosSettings>;
  /** Used for webhook deliveries; tests may route them straight to a handler. */
  fetch?: typeof fetch;
  /** Called after every webhook delivery attempt, for the command's log. */
  onDelivery?: (attempt: DeliveryAttempt) => void;
  /** Called after every HTTP request, for the command's log. */
  onRequest?: (line: { method: string; path: string; status: number; ms: number }) => void;
}

/** A stand-in for Stack Auth: its server API for users, and its webhooks through an emulated Svix. */
export interface Emulator {
  /** `http://host:port` once started. */
  readonly url: string;
  readonly projectId: string;
  readonly secretServerKey: string;
  readonly users: EmulatorUsers;
  readonly chaos: ChaosSettings;
  /** Every delivery attempt so far, in the order they finished. */
  readonly deliveries: readonly DeliveryAttempt[];
  /** Every event emitted so far, dropped ones included. */
  readonly events: readonly EmittedEvent[];
  readonly pendingDeliveries: number;
  readonly apiStats: { requests: number; rateLimited: number; serverErrors: number };
  start(): Promise<string>;
  stop(): Promise<void>;
  addEndpoint(url: string, secret?: string): Endpoint;
  removeEndpoint(id: string): boolean;
  endpoints(): Endpoint[];
  /** Merges settings; a new `seed` restarts both random sequences. */
  setChaos(settings: Partial<ChaosSettings>): ChaosSettings;
  /** Resolves when no webhook delivery is pending (retries and chaos delays included). */
  idle(): Promise<void>;
  /** Answers one request without HTTP (what the server does for each request). */
  handle(request: EmulatorRequest): Promise<EmulatorResponse>;
}

/** Creates an emulator; `start()` opens its port. */
export function createEmulator(options: EmulatorOptions): Emulator {
  let chaos: ChaosSettings = { ...NO_CHAOS, ...options.chaos };
  // Two sequences, so API traffic does not shift the delivery decisions (and the reverse).
  let deliveryRandom: Random = seededRandom(chaos.seed);
  let apiRandom: Random = seededRandom(chaos.seed ^ 0x5eed);
  const directory = new UserDirectory(
    { requireEmailVerification: options.requireEmailVerification ?? false },
    Date.now,
  );
  const sender = new WebhookSender({
    timeScale: options.timeScale ?? 1,
    attemptTimeoutMs: options.attemptTimeoutMs ?? SVIX_ATTEMPT_TIMEOUT_MS,
    fetch: options.fetch ?? fetch,
    chaos: () => chaos,
    random: () => deliveryRandom,
    ...(options.onDelivery && { onAttempt: options.onDelivery }),
  });
  const users = usersApi(directory, sender);
  const apiStats = { requests: 0, rateLimited: 0, serverErrors: 0 };
  let server: Server | null = null;
  let url = "";

  const emulator: Emulator = {
    get url() {
      return url;
    },
    projectId: options.projectId,
    secretServerKey: options.secretServerKey,
    users,
    get chaos() {
      return { ...chaos };
    },
    deliveries: sender.attempts,
    events: sender.events,
    get pendingDeliveries() {
      return sender.pending;
    },
    apiStats,
    async start() {
      server = createServer((req, res) => void serve(req, res));
      await new Promise<void>((resolve, reject) => {
        server?.once("error", reject);
        server?.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
      });
      const address = server.address() as AddressInfo;
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      url = `http://${host}:${address.port}`;
      return url;
    },
    async stop() {
      sender.close();
      const closing = server;
      server = null;
      if (!closing) return;
      closing.closeAllConnections();
      await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
    addEndpoint: (endpointUrl, secret) => sender.addEndpoint(endpointUrl, secret),
    removeEndpoint: (id) => sender.removeEndpoint(id),
    endpoints: () => sender.listEndpoints(),
    setChaos(settings) {
      chaos = { ...chaos, ...settings };
      if (settings.seed !== undefined) {
        deliveryRandom = seededRandom(chaos.seed);
        apiRandom = seededRandom(chaos.seed ^ 0x5eed);
      }
      return { ...chaos };
    },
    idle: () => sender.idle(),
    handle,
  };

  async function handle(request: EmulatorRequest): Promise<EmulatorResponse> {
    try {
      if (request.url.pathname === "/emulator" || request.url.pathname.startsWith("/emulator/")) {
        return handleAdmin(request, emulator);
      }
      if (request.url.pathname.startsWith("/api/")) {
        apiStats.requests++;
        // Outages come before authentication, as a rate limiter or a load balancer in front of Stack would answer.
        if (chance(apiRandom, chaos.rateLimit)) {
          apiStats.rateLimited++;
          return {
            ...statusError(429, "Too many requests"),
            headers: {
              "content-type": "text/plain; charset=utf-8",
              "retry-after": String(chaos.retryAfterSeconds),
            },
          };
        }
        if (chance(apiRandom, chaos.serverError)) {
          apiStats.serverErrors++;
          return statusError(503, "Service unavailable (emulated outage)");
        }
        return handleApi(request, {
          projectId: options.projectId,
          secretServerKey: options.secretServerKey,
          directory,
          users,
        });
      }
      return statusError(
        404,
        `Not found: ${request.url.pathname}. The Stack API is under /api/v1, the emulator's own routes under /emulator.`,
      );
    } catch (error) {
      if (error instanceof StackHttpError) return error.response;
      if (isZodError(error)) return json(400, { error: "invalid body", issues: error.issues });
      return statusError(500, "Internal emulator error");
    }
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(req.headers))
      headers[name] = Array.isArray(value) ? value.join(", ") : value;
    const requestUrl = new URL(req.url ?? "/", "http://emulator.invalid");
    const response = await handle({
      method: req.method ?? "GET",
      url: requestUrl,
      headers,
      body: Buffer.concat(chunks).toString("utf8"),
    });
    res.writeHead(response.status, response.headers);
    res.end(response.body);
    options.onRequest?.({
      method: req.method ?? "GET",
      path: requestUrl.pathname,
      status: response.status,
      ms: performance.now() - started,
    });
  }

  return emulator;
}

function isZodError(error: unknown): error is { issues: unknown[] } {
  return error instanceof Error && error.name === "ZodError" && "issues" in error;
}
