import { getService } from "@/service/singleton";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** Next.js adapter: every method goes to the framework-free handler, which answers 405 to all but POST. */
async function handle(request: Request): Promise<Response> {
  return (await getService()).handleWebhook(request);
}

export { handle as POST, handle as GET, handle as PUT, handle as PATCH, handle as DELETE };
