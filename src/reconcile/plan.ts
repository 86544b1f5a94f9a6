import type { DesiredUser, SyncStore, SyncTransaction } from "../sync/store";

/** What a run would change (dry run), by user id. */
export interface ReconcilePlan {
  create: { id: string; email: string }[];
  update: { id: string; fields: string[] }[];
  delete: string[];
}

/** Collects a plan; a user seen twice (pages can repeat) is planned once. */
export class PlanRecorder {
  private readonly creates = new Map<string, string>();
  private readonly updates = new Map<string, Set<string>>();
  private readonly deletes = new Set<string>();

  created(user: DesiredUser): void {
    this.creates.set(user.id, user.email);
  }

  updated(userId: string, fields: string[]): void {
    const known = this.updates.get(userId) ?? new Set<string>();
    for (const field of fields) known.add(field);
    this.updates.set(userId, known);
  }

  deleted(userId: string): void {
    this.deletes.add(userId);
  }

  plan(): ReconcilePlan {
    return {
      create: [...this.creates].map(([id, email]) => ({ id, email })),
      update: [...this.updates].map(([id, fields]) => ({ id, fields: [...fields].sort() })),
      delete: [...this.deletes],
    };
  }
}

/**
 * A store that reads for real and writes nothing, recording the writes instead. A dry run applies every change
 * through the real sync engine over it, so the plan follows exactly the rules a real run follows (tombstones,
 * anonymous users, which fields differ) without a second copy of them.
 */
export function planningStore(store: SyncStore, recorder: PlanRecorder): SyncStore {
  return {
    eventOutcome: (svixId) => store.eventOutcome(svixId),
    preflight: (svixId, userId) => store.preflight(svixId, userId),
    transaction: (userId, work) => store.transaction(userId, (tx) => work(readOnly(tx, recorder))),
    recordFailure: async () => undefined,
  };
}

function readOnly(tx: SyncTransaction, recorder: PlanRecorder): SyncTransaction {
  return {
    eventOutcome: (svixId) => tx.eventOutcome(svixId),
    lockedState: (svixId, userId) => tx.lockedState(svixId, userId),
    recordOutcome: async () => undefined,
    createUser: async (user) => recorder.created(user),
    updateUser: async (userId, change) => recorder.updated(userId, Object.keys(change)),
    deleteUser: async (userId) => recorder.deleted(userId),
  };
}
