import type { HealthReason } from "@/ops";

/** `2026-12-04 21:36:21 UTC`: one zone for every reader of the page, sortable by eye. */
export function formatTime(date: Date | string | null): string {
  if (date === null) return "—";
  return `${new Date(date).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** `42 s ago`, `3 min ago`, `5 h ago`, `2 d ago`. */
export function formatAge(seconds: number | null): string {
  if (seconds === null) return "never";
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

/** Seconds from `date` to `now`, or null. */
export function ageOf(date: Date | string | null, now: Date): number | null {
  if (date === null) return null;
  return Math.max(0, Math.round((now.getTime() - new Date(date).getTime()) / 1000));
}

/** What each health reason means, in a line (docs/OPERATIONS.md says what to do). */
export const REASON_TEXT: Record<HealthReason, string> = {
  database_unreachable: "The database does not answer.",
  database_query_failed: "The database answers, but the sync's tables cannot be read.",
  migrations_pending: "Migrations are not applied: run npm run db:migrate.",
  webhook_not_configured: "STACK_WEBHOOK_SECRET is not set: every delivery is refused with 503.",
  reconcile_failed: "The last reconcile run failed.",
  reconcile_stale: "No successful reconcile run within the allowed age.",
};
