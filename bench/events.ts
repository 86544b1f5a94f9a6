import { stackUser } from "../test/support/fixtures";
import type { Delivery } from "./http";

/** The real endpoint and the seed design's bench-only route. */
export const PATHS = { ours: "/api/webhooks/stack/user/sync", seed: "/api/bench/seed" } as const;
export type Impl = keyof typeof PATHS;

const TOKEN_DIGITS = 7;

/**
 * Every bench user is named by a token of fixed width: 3 lowercase letters (its pool) and 7 digits. The
 * id, email, display name and username all derive from it, so SQL can make thousands of such users at once
 * and the database-limit replay can swap one token for another in captured statements.
 */
export function token(pool: string, n: number): string {
  if (!/^[a-z]{3}$/.test(pool)) throw new Error(`pool tag must be 3 lowercase letters: ${pool}`);
  return pool + String(n).padStart(TOKEN_DIGITS, "0");
}

export const userId = (t: string): string => `bench-${t}`;
export const email = (t: string): string => `${t}@bench.example`;
export const displayName = (t: string): string => `Bench ${t}`;

let version = 0;
let created = 0;

/** A `user.created` for a user no one has seen. */
export function createdDelivery(impl: Impl): Delivery {
  const t = token("new", created++);
  return { path: PATHS[impl], svixId: `msg_${t}`, body: userEvent("user.created", t, displayName(t)) };
}

/** A `user.updated` that really changes the display name of a prepared user. */
export function updatedDelivery(impl: Impl, t: string): Delivery {
  const v = version++;
  return {
    path: PATHS[impl],
    svixId: `msg_${t}_v${v}`,
    body: userEvent("user.updated", t, `${displayName(t)} v${v}`),
  };
}

/** A delivery whose `svix-id` the event log already holds as processed (see `recordProcessed`). */
export function duplicateDelivery(impl: Impl, t: string): Delivery {
  return { path: PATHS[impl], svixId: `dup_${t}`, body: userEvent("user.updated", t, displayName(t)) };
}

/** A `user.deleted` of a prepared user. */
export function deletedDelivery(impl: Impl, t: string): Delivery {
  return {
    path: PATHS[impl],
    svixId: `msg_${t}_del`,
    body: JSON.stringify({ type: "user.deleted", data: { id: userId(t), teams: [] } }),
  };
}

function userEvent(type: string, t: string, name: string): string {
  const data = stackUser({ id: userId(t), primary_email: email(t), display_name: name });
  return JSON.stringify({ type, data });
}

/** Cycles through `size` tokens of a pool, forever. */
export function cycle(pool: string, size: number): () => string {
  let i = 0;
  return () => token(pool, i++ % size);
}

/** Hands out tokens 0‥size−1 of a pool once each, then null. */
export function once(pool: string, size: number): () => string | null {
  let i = 0;
  return () => (i < size ? token(pool, i++) : null);
}
