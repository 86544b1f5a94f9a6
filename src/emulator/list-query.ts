import { KnownErrors, StackHttpError, statusError } from "./errors";
import { primaryChannel, type ProjectSettings, type UserRecord } from "./user-model";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const QUERY_KEYS = new Set([
  "team_id",
  "limit",
  "cursor",
  "order_by",
  "desc",
  "query",
  "include_anonymous",
  "only_anonymous",
  "include_restricted",
]);

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** The query of `GET /api/v1/users`, checked as Stack's `querySchema` checks it. */
export interface ListQuery {
  teamId?: string;
  limit?: number;
  cursor?: string;
  desc: boolean;
  search?: string;
  includeAnonymous: boolean;
  onlyAnonymous: boolean;
  includeRestricted: boolean;
}

/** Stack's SCHEMA_ERROR message: one line per failed field. */
export function formatIssues(
  what: string,
  prefix: string,
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): string {
  const lines = issues.map((i) => `  - ${[prefix, ...i.path.map(String)].join(".")}: ${i.message}`);
  return `Request validation failed on ${what}:\n${lines.join("\n")}`;
}

export function parseListQuery(params: URLSearchParams): ListQuery {
  const problems: string[] = [];
  for (const key of params.keys()) if (!QUERY_KEYS.has(key)) problems.push(`query.${key} is not allowed`);
  const flag = (key: string): boolean => {
    const value = params.get(key);
    if (value !== null && value !== "true" && value !== "false")
      problems.push(`query.${key} must be one of: true, false`);
    return value === "true";
  };
  const limitText = params.get("limit");
  let limit: number | undefined;
  if (limitText !== null) {
    limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1) problems.push("query.limit must be an integer of at least 1");
  }
  const cursor = params.get("cursor") ?? undefined;
  if (cursor !== undefined && !isUuid(cursor)) problems.push("query.cursor must be a valid UUID");
  const teamId = params.get("team_id") ?? undefined;
  if (teamId !== undefined && !isUuid(teamId)) problems.push("query.team_id must be a valid UUID");
  const orderBy = params.get("order_by");
  if (orderBy !== null && orderBy !== "signed_up_at")
    problems.push("query.order_by must be one of: signed_up_at");
  const query: ListQuery = {
    desc: flag("desc"),
    includeAnonymous: flag("include_anonymous"),
    onlyAnonymous: flag("only_anonymous"),
    includeRestricted: flag("include_restricted"),
    ...(limit !== undefined && { limit }),
    ...(cursor !== undefined && { cursor }),
    ...(teamId !== undefined && { teamId }),
    ...(params.get("query") !== null && { search: params.get("query") ?? "" }),
  };
  if (problems.length > 0) {
    throw new StackHttpError(
      KnownErrors.schemaError(
        `Request validation failed on GET /api/v1/users:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      ),
    );
  }
  if (query.onlyAnonymous && !query.includeAnonymous) {
    throw new StackHttpError(statusError(400, "only_anonymous=true requires include_anonymous=true"));
  }
  return query;
}

/**
 * One page, as Stack's `onList` computes it with Prisma: filter, order by (signed_up_at, id), start AT the cursor
 * (inclusive), take limit + 1 to know whether a next page exists. A cursor that names no user gives an empty
 * page, as Prisma's cursor does.
 */
export function listPage(
  sorted: readonly UserRecord[],
  query: ListQuery,
  settings: ProjectSettings,
): { items: UserRecord[]; nextCursor: string | null } {
  const order = query.desc ? [...sorted].reverse() : sorted;
  let start = 0;
  if (query.cursor !== undefined) {
    start = order.findIndex((r) => r.id === query.cursor);
    if (start < 0) return { items: [], nextCursor: null };
  }
  const keep = filterFor(query, settings);
  const taken: UserRecord[] = [];
  const want = query.limit === undefined ? Infinity : query.limit + 1;
  for (let i = start; i < order.length && taken.length < want; i++) {
    const record = order[i];
    if (record && keep(record)) taken.push(record);
  }
  if (query.limit === undefined) return { items: taken, nextCursor: null };
  const next = taken.length > query.limit ? taken[query.limit] : undefined;
  return { items: taken.slice(0, query.limit), nextCursor: next?.id ?? null };
}

/** The `where` of Stack's `onList`: anonymous users out unless asked for; restricted ones out unless asked for. */
function filterFor(query: ListQuery, settings: ProjectSettings): (r: UserRecord) => boolean {
  const includeRestricted = query.includeRestricted || query.includeAnonymous;
  const search = query.search?.toLowerCase();
  const searchId = query.search?.replace(/[^a-zA-Z0-9\-_.]/g, "");
  return (r) => {
    if (query.teamId !== undefined && !r.teamIds.includes(query.teamId)) return false;
    if (query.onlyAnonymous ? !r.isAnonymous : !query.includeAnonymous && r.isAnonymous) return false;
    if (!includeRestricted) {
      if (settings.requireEmailVerification && !primaryChannel(r)?.isVerified) return false;
      if (r.restrictedByAdmin) return false;
    }
    if (search !== undefined) {
      const byId = searchId !== undefined && isUuid(searchId) && r.id === searchId;
      const byName = r.displayName?.toLowerCase().includes(search) ?? false;
      const byEmail = r.contactChannels.some((c) => c.value.toLowerCase().includes(search));
      if (!byId && !byName && !byEmail) return false;
    }
    return true;
  };
}
