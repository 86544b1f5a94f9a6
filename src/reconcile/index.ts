export {
  reconcile,
  ReconcileRefusedError,
  type ReconcileOptions,
  type ReconcileProgress,
  type ReconcileSummary,
} from "./reconcile";
export type { ReconcilePlan } from "./plan";
export { DEFAULT_RETRY, type RetryPolicy } from "./retry";
