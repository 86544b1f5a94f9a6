import { cookies, headers } from "next/headers";
import { ADMIN_COOKIE } from "@/ops";
import { getService } from "@/service/singleton";
import { SignIn } from "./_status/SignIn";
import { StatusView } from "./_status/StatusView";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** The status page: a server component over the framework-free `ops.status`; no client script. */
export default async function StatusPage({ searchParams }: { searchParams: Promise<{ login?: string }> }) {
  const [headerList, cookieStore, params] = await Promise.all([headers(), cookies(), searchParams]);
  const view = await (
    await getService()
  ).ops.status({
    authorization: headerList.get("authorization"),
    session: cookieStore.get(ADMIN_COOKIE)?.value ?? null,
  });
  if (view.kind === "sign_in") {
    return <SignIn failed={params.login === "failed"} tokenConfigured={view.tokenConfigured} />;
  }
  return <StatusView data={view.data} />;
}
