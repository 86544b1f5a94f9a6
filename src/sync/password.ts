import { randomBytes } from "node:crypto";
import bcrypt from "bcrypt";

/**
 * The `users.password` of a synced user: bcrypt of 32 random bytes, never known to anyone.
 * Stack Auth owns sign-in; the column exists because the app's schema requires it.
 * bcrypt's async hash runs on libuv's threadpool, so the event loop stays free while it works.
 */
export function makeUnusablePassword(rounds: number): Promise<string> {
  return bcrypt.hash(randomBytes(32).toString("hex"), rounds);
}
