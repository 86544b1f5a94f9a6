import type { StackApiClient, UserPage } from "../stack/api";
import { withApiRetry, type RetryPolicy } from "./retry";

export interface ListingOptions {
  api: Pick<StackApiClient, "listUsers">;
  pageSize: number;
  includeAnonymous: boolean;
  retry: RetryPolicy;
  signal?: AbortSignal;
}

/** How often the listing may lose its place before the run gives up (each time a cursor user was deleted). */
const MAX_RESTARTS = 50;

/**
 * Every page of `GET /api/v1/users` (restricted users always included: left out, they would look deleted).
 *
 * Stack's cursor is the id of the next page's first user, looked up by Prisma: if that user is deleted
 * between two pages, Stack answers an empty page, which looks like the end of the list but is not. An empty
 * page after a cursor therefore steps back to the previous cursor (inclusive, so that page comes again with a
 * fresh `next_cursor`). Pages may thus repeat users; callers count by id.
 */
export async function* listAllUsers(options: ListingOptions): AsyncGenerator<UserPage> {
  const cursors: (string | null)[] = [null];
  let restarts = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const cursor = cursors.at(-1) ?? null;
    const page = await withApiRetry(
      () =>
        options.api.listUsers({
          cursor,
          limit: options.pageSize,
          includeAnonymous: options.includeAnonymous,
          includeRestricted: true,
        }),
      options.retry,
    );
    if (cursor !== null && page.items.length === 0 && page.invalid.length === 0) {
      if (++restarts > MAX_RESTARTS)
        throw new Error(`the user listing lost its place ${MAX_RESTARTS} times; try again later`);
      cursors.pop();
      continue;
    }
    yield page;
    if (page.nextCursor === null) return;
    cursors.push(page.nextCursor);
  }
}
