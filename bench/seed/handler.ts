import { randomBytes } from "node:crypto";
import bcrypt from "bcrypt";
import type { PrismaClient } from "../../src/generated/prisma/client";
import type { TransactionClient } from "../../src/generated/prisma/internal/prismaNamespace";
import { createVerifier } from "../../src/webhooks/verify";

/**
 * The seed design (/work/shared/seed), rebuilt only as a benchmark reference: verify the signature, then
 * `user.created` runs a find-then-create username loop AND the bcrypt hash inside one interactive
 * transaction; `user.updated`/`user.deleted` are plain writes. No idempotency, no tombstones, no retries:
 * every failure is a 500, as in the seed.
 */
export interface SeedOptions {
  prisma: PrismaClient;
  secrets: readonly string[];
  /** The seed hard-codes 12; the bench passes the server's PASSWORD_HASH_ROUNDS so both designs hash alike. */
  rounds: number;
}

/** The fields of a Stack user the seed reads. */
export interface SeedUser {
  id: string;
  primary_email: string | null;
  display_name: string | null;
  profile_image_url: string | null;
}

/** A `Request → Response` handler implementing the seed design. */
export function createSeedHandler(options: SeedOptions): (request: Request) => Promise<Response> {
  const verify = createVerifier(options.secrets);
  const { prisma, rounds } = options;
  return async (request) => {
    const body = new Uint8Array(await request.arrayBuffer());
    try {
      verify(request.headers, body);
    } catch {
      return Response.json({ error: "invalid signature" }, { status: 401 });
    }
    try {
      const event = JSON.parse(new TextDecoder().decode(body)) as { type: string; data: SeedUser };
      await seedApply(prisma, event.type, event.data, rounds);
      return Response.json({ received: true });
    } catch {
      return Response.json({ error: "internal" }, { status: 500 });
    }
  };
}

/** The seed's database work for one verified event; bench/store.ts calls it without HTTP. */
export async function seedApply(
  prisma: PrismaClient,
  type: string,
  user: SeedUser,
  rounds: number,
): Promise<void> {
  if (type === "user.created") await createUser(prisma, user, rounds);
  else if (type === "user.updated") await updateUser(prisma, user);
  else if (type === "user.deleted") await prisma.user.delete({ where: { id: user.id } });
}

// Steps 1–6 of the seed's "User Created Event", in its order, all inside the one transaction.
async function createUser(prisma: PrismaClient, user: SeedUser, rounds: number): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const username = await uniqueUsername(tx, user);
    const randomPassword = randomBytes(32).toString("hex");
    const hashedPassword = await bcrypt.hash(randomPassword, rounds);
    await tx.user.create({
      data: { id: user.id, email: user.primary_email ?? "", password: hashedPassword },
    });
    await tx.profile.create({
      data: {
        userId: user.id,
        username,
        displayName: user.display_name,
        avatar: user.profile_image_url,
        plan: "FREE",
      },
    });
  });
}

// "Update User - email if changed; Update Profile - displayName and avatar", wrapped in $transaction.
async function updateUser(prisma: PrismaClient, user: SeedUser): Promise<void> {
  await prisma.$transaction(async (tx) => {
    if (user.primary_email)
      await tx.user.update({ where: { id: user.id }, data: { email: user.primary_email } });
    await tx.profile.update({
      where: { userId: user.id },
      data: { displayName: user.display_name, avatar: user.profile_image_url },
    });
  });
}

/** Find-then-create: try the base, then base1, base2, … until no profile has it. */
async function uniqueUsername(tx: TransactionClient, user: SeedUser): Promise<string> {
  const source = user.display_name || user.primary_email?.split("@")[0] || "user";
  const base =
    source
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "_")
      .slice(0, 20) || "user";
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? base : `${base}${n}`;
    const taken = await tx.profile.findUnique({ where: { username: candidate }, select: { id: true } });
    if (!taken) return candidate;
  }
}
