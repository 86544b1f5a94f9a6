import { getService } from "@/service/singleton";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** Next.js adapter: a reconcile run inside the service, behind ADMIN_TOKEN in production. */
export async function POST(request: Request): Promise<Response> {
  return (await getService()).ops.reconcile(request);
}
