import { getService } from "@/service/singleton";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** Next.js adapter: the status page's sign-in form posts here and is sent back to `/`. */
export async function POST(request: Request): Promise<Response> {
  return (await getService()).ops.signIn(request);
}
