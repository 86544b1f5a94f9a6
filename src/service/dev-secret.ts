import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** File under the data folder that keeps the development webhook secret between starts. */
export const DEV_SECRET_FILE = "webhook-secret";

/** Where the development secret of a data folder lives. */
export function devSecretPath(dataDir: string): string {
  return join(dataDir, DEV_SECRET_FILE);
}

/** Reads the development secret of a data folder; null when there is none yet. */
export function readDevSecret(dataDir: string): string | null {
  try {
    const secret = readFileSync(devSecretPath(dataDir), "utf8").trim();
    return secret.startsWith("whsec_") ? secret : null;
  } catch {
    return null;
  }
}

/** The development secret of a data folder, made (24 random bytes, readable by the owner only) on first use. */
export function ensureDevSecret(dataDir: string): { secret: string; created: boolean } {
  const existing = readDevSecret(dataDir);
  if (existing) return { secret: existing, created: false };
  mkdirSync(dataDir, { recursive: true });
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  writeFileSync(devSecretPath(dataDir), `${secret}\n`, { mode: 0o600 });
  return { secret, created: true };
}
