import { randomUUID } from "node:crypto";
import { StackHttpError } from "./errors";
import type { Random } from "./random";
import type { EmulatedUser } from "./user-model";
import type { EmulatorUsers, NotifyOption } from "./users";

const FIRST = [
  "Jane",
  "John",
  "Zoë",
  "José",
  "Ana",
  "Li",
  "Émile",
  "Ngozi",
  "Sven",
  "Aiko",
  "Omar",
  "Priya",
  "Ólafur",
  "Mia",
];
const LAST = [
  "Doe",
  "Smith",
  "Müller",
  "García",
  "Okafor",
  "Tanaka",
  "Nguyen",
  "Kowalski",
  "Dubois",
  "Rossi",
  "Øster",
];
const PLANS = ["FREE", "PRO", "ENTERPRISE"] as const;

function pick<T>(random: Random, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error("pick from an empty list");
  return item;
}

/** A plausible new user's fields: a name, a unique email, sometimes a plan and an avatar. */
export function randomPerson(random: Random): {
  display_name: string;
  primary_email: string;
  server_metadata: { plan: string } | null;
  profile_image_url: string | null;
} {
  const first = pick(random, FIRST);
  const last = pick(random, LAST);
  const tag = randomUUID().slice(0, 8);
  return {
    display_name: `${first} ${last}`,
    primary_email: `${first}.${last}.${tag}@example.com`
      .normalize("NFD")
      .replace(/[^\x20-\x7e]/g, "")
      .toLowerCase(),
    server_metadata: random() < 0.3 ? { plan: pick(random, PLANS) } : null,
    profile_image_url: random() < 0.3 ? `https://avatars.example.com/${tag}.png` : null,
  };
}

/** Creates `count` users (some anonymous), spread over past sign-up times; returns how many were made. */
export function seedUsers(
  users: EmulatorUsers,
  count: number,
  options: NotifyOption & { anonymousShare?: number; random?: Random } = {},
): number {
  const random = options.random ?? Math.random;
  const start = Date.now() - count * 1000;
  for (let i = 0; i < count; i++) {
    const extras = {
      signedUpAtMillis: start + i * 1000,
      ...(options.notify !== undefined && { notify: options.notify }),
    };
    if (random() < (options.anonymousShare ?? 0)) users.signUpAnonymous(extras);
    else
      users.create(
        { ...randomPerson(random), primary_email_auth_enabled: true, password: "hunter2-but-longer" },
        extras,
      );
  }
  return count;
}

/** The kinds of change `randomOperation` makes. */
export type OperationKind =
  | "sign_up"
  | "sign_up_anonymous"
  | "upgrade_anonymous"
  | "rename"
  | "change_avatar"
  | "change_plan"
  | "delete"
  | "verify_email"
  | "change_email_silently"
  | "touch";

/** One random change, the way a live project sees them; the kind is returned for logs. */
export function randomOperation(
  users: EmulatorUsers,
  random: Random,
  options: NotifyOption = {},
): { kind: OperationKind; userId: string } {
  const all = users.list();
  const real = all.filter((u) => !u.is_anonymous);
  const anonymous = all.filter((u) => u.is_anonymous);
  const roll = random();
  if (real.length < 3 || roll < 0.25) {
    return {
      kind: "sign_up",
      userId: users.create({ ...randomPerson(random), primary_email_auth_enabled: true }, options).id,
    };
  }
  if (roll < 0.3) return { kind: "sign_up_anonymous", userId: users.signUpAnonymous(options).id };
  if (roll < 0.35 && anonymous.length > 0) {
    const user = pick(random, anonymous);
    const person = randomPerson(random);
    users.upgradeAnonymous(
      user.id,
      { primary_email: person.primary_email, display_name: person.display_name },
      options,
    );
    return { kind: "upgrade_anonymous", userId: user.id };
  }
  const user: EmulatedUser = pick(random, real);
  const person = randomPerson(random);
  if (roll < 0.5)
    return change("rename", () => users.update(user.id, { display_name: person.display_name }, options));
  if (roll < 0.58)
    return change("change_avatar", () =>
      users.update(user.id, { profile_image_url: person.profile_image_url }, options),
    );
  if (roll < 0.66)
    return change("change_plan", () =>
      users.update(user.id, { server_metadata: { plan: pick(random, PLANS) } }, options),
    );
  if (roll < 0.78) return change("delete", () => users.delete(user.id, options));
  if (roll < 0.85 && user.primary_email) return change("verify_email", () => users.verifyEmail(user.id));
  if (roll < 0.93)
    return change("change_email_silently", () => users.setPrimaryEmail(user.id, person.primary_email));
  return change("touch", () => users.touch(user.id));

  function change(kind: OperationKind, run: () => unknown): { kind: OperationKind; userId: string } {
    try {
      run();
    } catch (error) {
      // A clash Stack itself would refuse (e.g. an email taken): the operation simply did not happen.
      if (!(error instanceof StackHttpError)) throw error;
    }
    return { kind, userId: user.id };
  }
}
