import { randomBytes, randomUUID } from "node:crypto";
import { signPayload } from "../webhooks/verify";
import { chance, type Random } from "./random";

/** Svix's schedule: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after the previous attempt. */
export const SVIX_RETRY_SCHEDULE_MS = [
  0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
] as const;

/** Svix counts an attempt as failed when no 2xx arrives within about 15 s. */
export const SVIX_ATTEMPT_TIMEOUT_MS = 15_000;

export interface Endpoint {
  id: string;
  url: string;
  /** `whsec_…`: the "Verification Secret" Stack's dashboard shows for the endpoint. */
  secret: string;
}

/** The delivery side of chaos: what can go wrong between Stack, Svix and the endpoint. Probabilities in [0, 1]. */
export interface DeliveryChaos {
  /** A message is delivered a second time under the same `svix-id` (Svix is at-least-once). */
  duplicate: number;
  /** A message's first attempt waits a random time up to `maxDelayMs`, so messages overtake each other. */
  delay: number;
  maxDelayMs: number;
  /** The event never reaches Svix (Stack → Svix failed): nothing is delivered, ever. */
  drop: number;
  /** Stack retried its call to Svix without an idempotency key: the same event again under a new `svix-id`. */
  newId: number;
}

/** One HTTP attempt, as an endpoint's delivery log in Svix's dashboard would show it. */
export interface DeliveryAttempt {
  svixId: string;
  endpointId: string;
  url: string;
  eventType: string;
  userId: string | null;
  /** 1 for the first attempt, then one more per retry; duplicates carry the attempt they repeat. */
  attempt: number;
  duplicate: boolean;
  /** The `svix-timestamp` of this attempt, Unix seconds. */
  timestamp: number;
  status: number | null;
  outcome: "success" | "failure" | "aborted";
  error?: string;
  durationMs: number;
}

/** One event Stack emitted, and what became of it. */
export interface EmittedEvent {
  seq: number;
  type: string;
  userId: string | null;
  body: string;
  /** The Svix messages created for it: none when dropped, two under `newId` chaos. */
  svixIds: string[];
  dropped: boolean;
}

export interface WebhookSenderOptions {
  /** Multiplies every wait of the retry schedule; 1 is Svix's real timing, 0.0001 suits tests. */
  timeScale: number;
  attemptTimeoutMs: number;
  fetch: typeof fetch;
  chaos: () => DeliveryChaos;
  random: () => Random;
  /** Called after every attempt, for the command's log. */
  onAttempt?: (attempt: DeliveryAttempt) => void;
}

/** Svix as Stack uses it: one message per event, sent to every endpoint on its own, signed, retried on schedule. */
export class WebhookSender {
  readonly attempts: DeliveryAttempt[] = [];
  readonly events: EmittedEvent[] = [];
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<AbortController>();
  private active = 0;
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly options: WebhookSenderOptions) {}

  addEndpoint(url: string, secret?: string): Endpoint {
    const endpoint = {
      id: `ep_${randomUUID().replace(/-/g, "").slice(0, 24)}`,
      url,
      secret: secret ?? newSecret(),
    };
    this.endpoints.set(endpoint.id, endpoint);
    return { ...endpoint };
  }

  removeEndpoint(id: string): boolean {
    return this.endpoints.delete(id);
  }

  listEndpoints(): Endpoint[] {
    return [...this.endpoints.values()].map((e) => ({ ...e }));
  }

  /** Messages not yet settled (waiting for an attempt, a retry or a chaos delay, or in flight). */
  get pending(): number {
    return this.active;
  }

  /** Emits one event: `{type, data}` exactly, each event its own message. */
  emit(type: string, data: unknown, userId: string | null): EmittedEvent {
    const body = JSON.stringify({ type, data });
    const chaos = this.options.chaos();
    const random = this.options.random();
    const event: EmittedEvent = {
      seq: this.events.length + 1,
      type,
      userId,
      body,
      svixIds: [],
      dropped: false,
    };
    this.events.push(event);
    if (chance(random, chaos.drop)) {
      event.dropped = true;
      return event;
    }
    const copies = chance(random, chaos.newId) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const svixId = `msg_${randomUUID().replace(/-/g, "").slice(0, 27)}`;
      event.svixIds.push(svixId);
      for (const endpoint of this.endpoints.values()) {
        const message: Message = { svixId, endpoint: { ...endpoint }, eventType: type, userId, body };
        const firstDelay = chance(random, chaos.delay) ? random() * chaos.maxDelayMs : 0;
        this.track(() => this.deliver(message, 1, firstDelay));
        if (chance(random, chaos.duplicate)) {
          const duplicateDelay = random() * Math.max(chaos.maxDelayMs, 1);
          this.track(() => this.duplicate(message, duplicateDelay));
        }
      }
    }
    return event;
  }

  /** Resolves once no message is pending. */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Cancels every pending retry and in-flight attempt. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const controller of this.inFlight) controller.abort();
    this.active = 0;
    this.settle();
  }

  private track(run: () => Promise<void>): void {
    this.active++;
    void run().finally(() => {
      this.active = Math.max(0, this.active - 1);
      this.settle();
    });
  }

  private settle(): void {
    if (this.active > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Attempts one message on one endpoint, then retries on Svix's schedule until success, abort or the last attempt. */
  private async deliver(message: Message, attempt: number, waitMs: number): Promise<void> {
    for (let n = attempt; ; n++) {
      await this.wait(n === attempt ? waitMs : (SVIX_RETRY_SCHEDULE_MS[n - 1] ?? 0) * this.options.timeScale);
      if (this.closed) return;
      const result = await this.attempt(message, n, false);
      if (result !== "failure" || n >= SVIX_RETRY_SCHEDULE_MS.length) return;
    }
  }

  private async duplicate(message: Message, waitMs: number): Promise<void> {
    await this.wait(waitMs);
    if (!this.closed) await this.attempt(message, 1, true);
  }

  private wait(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private async attempt(
    message: Message,
    attempt: number,
    duplicate: boolean,
  ): Promise<DeliveryAttempt["outcome"]> {
    // Svix signs every attempt afresh: a new timestamp each time, the same id and body.
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = signPayload(message.endpoint.secret, message.svixId, timestamp, message.body);
    const controller = new AbortController();
    this.inFlight.add(controller);
    const started = performance.now();
    const timeout = setTimeout(() => controller.abort(), this.options.attemptTimeoutMs);
    const record: DeliveryAttempt = {
      svixId: message.svixId,
      endpointId: message.endpoint.id,
      url: message.endpoint.url,
      eventType: message.eventType,
      userId: message.userId,
      attempt,
      duplicate,
      timestamp,
      status: null,
      outcome: "failure",
      durationMs: 0,
    };
    try {
      const response = await this.options.fetch(message.endpoint.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "Svix-Webhooks/1.x (stack-sync emulator)",
          ...headers,
        },
        body: message.body,
        // Svix does not follow redirects: a 3xx is a failed attempt.
        redirect: "manual",
        signal: controller.signal,
      });
      await response.arrayBuffer();
      record.status = response.status;
      if (response.status >= 200 && response.status < 300) record.outcome = "success";
      else if (response.headers.get("webhook-delivery")?.toLowerCase() === "abort-message")
        record.outcome = "aborted";
    } catch (error) {
      record.error = controller.signal.aborted
        ? `no answer within ${this.options.attemptTimeoutMs} ms`
        : errorText(error);
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
      record.durationMs = performance.now() - started;
    }
    if (!this.closed) {
      this.attempts.push(record);
      this.options.onAttempt?.(record);
    }
    return record.outcome;
  }
}

interface Message {
  svixId: string;
  endpoint: Endpoint;
  eventType: string;
  userId: string | null;
  body: string;
}

function newSecret(): string {
  return `whsec_${randomBytes(24).toString("base64")}`;
}

function errorText(error: unknown): string {
  if (error instanceof Error)
    return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
  return String(error);
}
