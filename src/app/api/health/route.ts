import { getService } from "@/service/singleton";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** Next.js adapter: the framework-free health check (open, no secrets in it). */
export async function GET(request: Request): Promise<Response> {
  return (await getService()).ops.health(request);
}
