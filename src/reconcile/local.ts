import type { PrismaClient } from "../db";

const BATCH = 5_000;

/** Ids of the users in the tables now, read in batches (reconcile only reads directly; writes go through the engine). */
export async function localUserIds(prisma: PrismaClient): Promise<Set<string>> {
  const ids = new Set<string>();
  let after: string | undefined;
  for (;;) {
    const rows = await prisma.user.findMany({
      select: { id: true },
      orderBy: { id: "asc" },
      take: BATCH,
      ...(after !== undefined && { cursor: { id: after }, skip: 1 }),
    });
    for (const row of rows) ids.add(row.id);
    if (rows.length < BATCH) return ids;
    after = rows.at(-1)?.id;
  }
}

/** Which local user holds each of these (stored, lower-case) emails. */
export async function emailHolders(prisma: PrismaClient, emails: string[]): Promise<Map<string, string>> {
  const rows = await prisma.user.findMany({
    where: { email: { in: emails } },
    select: { id: true, email: true },
  });
  return new Map(rows.map((r) => [r.email, r.id]));
}
