import { getService } from "@/service/singleton";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** Next.js adapter: Prometheus text, behind ADMIN_TOKEN in production. */
export async function GET(request: Request): Promise<Response> {
  return (await getService()).ops.metrics(request);
}
