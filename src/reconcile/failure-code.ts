import { StackApiError } from "../stack/api";
import { ReconcileRefusedError } from "./types";

/** A machine code for a failed run, as operators see it in `reconcile_runs`: never a raw message. */
export function reconcileFailureCode(error: unknown): string {
  if (error instanceof ReconcileRefusedError) return "mass_delete_refused";
  if (error instanceof StackApiError) return `stack_api_${error.kind}`;
  return "failed";
}
