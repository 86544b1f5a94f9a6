/**
 * Turns the errors of Prisma and its driver adapters into the few cases the sync acts on.
 * PostgreSQL and PGlite report the same failures in different shapes (PRISMA-OFFLINE.md); this is the one
 * place that knows them.
 */
export type DbFailure =
  /** A unique constraint; `column` is the column it guards when known. */
  | { kind: "unique"; table: string | undefined; column: string | undefined }
  /** Serialization failure, deadlock or write conflict: the transaction may succeed if run again. */
  | { kind: "retryable" }
  /** The data itself cannot be stored (a data exception, a value past an index's size limit): never will be. */
  | { kind: "rejected" }
  /** Anything else from the database or the way to it. */
  | { kind: "unavailable" };

const RETRYABLE_SQLSTATES = new Set(["40001", "40P01"]);
const RETRYABLE_PRISMA_CODES = new Set(["P2034"]);
const RETRYABLE_ADAPTER_KINDS = new Set(["TransactionWriteConflict"]);
/** Class 22 (data exception) and 54 (program limit exceeded, e.g. an index row over 2,704 bytes). */
const REJECTED_SQLSTATE = /^(22|54)[0-9A-Z]{3}$/;
const REJECTED_ADAPTER_KINDS = new Set(["ValueOutOfRange", "InvalidInputValue", "LengthMismatch"]);

/** Classifies an error thrown by a database call; null when it did not come from the database. */
export function classifyDbError(error: unknown): DbFailure | null {
  if (!isDatabaseError(error)) return null;
  const parts = nested(error);
  const unique = parts.find(
    (p) => p.kind === "UniqueConstraintViolation" || p.code === "P2002" || p.code === "23505",
  );
  if (unique) return { kind: "unique", ...uniqueTarget(parts) };
  if (
    parts.some(
      (p) =>
        RETRYABLE_SQLSTATES.has(String(p.code)) ||
        RETRYABLE_PRISMA_CODES.has(String(p.code)) ||
        RETRYABLE_ADAPTER_KINDS.has(String(p.kind)),
    )
  ) {
    return { kind: "retryable" };
  }
  if (
    parts.some((p) => REJECTED_SQLSTATE.test(String(p.code)) || REJECTED_ADAPTER_KINDS.has(String(p.kind)))
  ) {
    return { kind: "rejected" };
  }
  return { kind: "unavailable" };
}

type Part = Record<string, unknown>;

/**
 * pg's own errors about a connection that broke or could not be had. They are plain `Error`s without a
 * code, and the Prisma adapter rethrows them as they are (e.g. a query inside a transaction whose server
 * went away or whose backend was terminated).
 */
const PG_CONNECTION_MESSAGES = new Set([
  "Client has encountered a connection error and is not queryable",
  "Client was closed and is not queryable",
  "Connection terminated unexpectedly",
  "Connection terminated",
  "Connection terminated due to connection timeout",
  "timeout exceeded when trying to connect",
  "Query read timeout",
  // A Database that was closed (shutdown under way): PGlite's and pg.Pool's words for it.
  "PGlite is closed",
  "Cannot use a pool after calling end on the pool",
]);

function isDatabaseError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const name = error.name ?? error.constructor.name;
  if (name.startsWith("PrismaClient") || name === "DriverAdapterError" || name === "DatabaseError")
    return true;
  if (PG_CONNECTION_MESSAGES.has(error.message)) return true;
  // Socket-level failures of pg (ECONNREFUSED, ECONNRESET, …) and PGlite's closed-instance errors.
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code);
}

/** The error, its `cause` chain and its `meta.driverAdapterError`, flattened. */
function nested(error: unknown): Part[] {
  const parts: Part[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && parts.length < 16) {
    const item = queue.shift();
    if (typeof item !== "object" || item === null || parts.includes(item as Part)) continue;
    const part = item as Part;
    parts.push(part);
    queue.push(part.cause, part.meta, (part.meta as Part | undefined)?.driverAdapterError, part.constraint);
  }
  return parts;
}

/** PostgreSQL names the index (`users_email_key`); PGlite lists the fields (`["email"]`). */
function uniqueTarget(parts: Part[]): { table: string | undefined; column: string | undefined } {
  for (const part of parts) {
    const constraint = part.constraint as Part | undefined;
    if (!constraint) continue;
    if (typeof constraint.index === "string") {
      const match = /^(users|profiles|webhook_events|user_tombstones)_(\w+?)_(key|pkey)$/.exec(
        constraint.index,
      );
      if (match) return { table: match[1], column: match[3] === "pkey" ? "pkey" : match[2] };
      if (constraint.index.endsWith("_pkey")) return { table: constraint.index.slice(0, -5), column: "pkey" };
    }
    if (Array.isArray(constraint.fields) && typeof constraint.fields[0] === "string") {
      const field = constraint.fields[0].replace(/"/g, "");
      return { table: typeof part.table === "string" ? part.table : undefined, column: field };
    }
  }
  return { table: undefined, column: undefined };
}
