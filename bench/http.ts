import { Agent, request } from "node:http";
import { Webhook } from "standardwebhooks";
import type { Job } from "./load";

/** A signed webhook delivery ready to send. */
export interface Delivery {
  path: string;
  body: string;
  svixId: string;
}

/** Keep-alive HTTP client for one server; `send` signs at send time (Svix refuses stale timestamps). */
export class WebhookClient {
  private readonly agent: Agent;
  private readonly url: URL;
  private readonly webhook: Webhook;

  constructor(baseUrl: string, secret: string, maxSockets: number) {
    this.url = new URL(baseUrl);
    this.webhook = new Webhook(secret);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** Posts one delivery; resolves with the HTTP status and the `status` (or `error.code`) of the JSON answer. */
  send(delivery: Delivery): Promise<{ status: number; outcome: string }> {
    const now = new Date();
    const signature = this.webhook.sign(delivery.svixId, now, delivery.body);
    const body = Buffer.from(delivery.body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.url.hostname,
          port: this.url.port,
          path: delivery.path,
          method: "POST",
          agent: this.agent,
          headers: {
            "content-type": "application/json",
            "content-length": body.length,
            "svix-id": delivery.svixId,
            "svix-timestamp": String(Math.floor(now.getTime() / 1000)),
            "svix-signature": signature,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, outcome: label(res.statusCode, chunks) }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function label(status: number | undefined, chunks: Buffer[]): string {
  try {
    const json = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
      status?: string;
      received?: boolean;
      error?: { code?: string } | string;
    };
    if (json.status) return json.status;
    if (json.received) return "received";
    if (typeof json.error === "object" && json.error?.code) return json.error.code;
  } catch {
    // not JSON: fall through to the status code
  }
  return String(status);
}

/** A load job that sends one delivery; ok when the answer is 200 with the `expected` outcome. */
export function deliveryJob(client: WebhookClient, delivery: Delivery, expected: string): Job {
  return async () => {
    const { status, outcome } = await client.send(delivery);
    return { outcome, ok: status === 200 && outcome === expected };
  };
}
