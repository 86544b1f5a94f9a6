export { reconcile } from "./reconcile";
export { reconcileFailureCode } from "./failure-code";
export {
  ReconcileRefusedError,
  type ReconcileOptions,
  type ReconcileProgress,
  type ReconcileSummary,
} from "./types";
export type { ReconcilePlan } from "./plan";
export { DEFAULT_RETRY, type RetryPolicy } from "./retry";
