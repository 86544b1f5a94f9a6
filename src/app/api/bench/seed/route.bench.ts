import { getService } from "@/service/singleton";
import { createSeedHandler } from "../../../../../bench/seed/handler";

// Bench-only: this file is a route only in a build made with STACK_SYNC_BENCH=1 (next.config.ts
// pageExtensions); `npm run bench` drives the seed design here, beside the real endpoint, on the same pool.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

let handler: ((request: Request) => Promise<Response>) | undefined;

/** The seed design's webhook, sharing the service's Prisma client, secrets and hash cost. */
export async function POST(request: Request): Promise<Response> {
  if (!handler) {
    const service = await getService();
    handler = createSeedHandler({
      prisma: service.db.prisma,
      secrets: service.config.webhookSecrets,
      rounds: service.config.passwordHashRounds,
    });
  }
  return handler(request);
}
