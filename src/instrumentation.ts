/** Next.js start-up hook: migrate and settle the configuration before the first request, not during it. */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { getService } = await import("./service/singleton");
  await getService();
}
