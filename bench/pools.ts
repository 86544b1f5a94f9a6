import type pg from "pg";

// Any valid bcrypt string will do: prepared users are only updated and deleted.
const PASSWORD = "$2b$04$abcdefghijklmnopqrstuu0123456789abcdefghijklmnopqrstu";

/** Creates `size` users and profiles named by the tokens of `pool` (see events.ts), straight in SQL. */
export async function createUsers(db: pg.Pool, pool: string, size: number): Promise<void> {
  const tokens = `SELECT $1::text || lpad(g::text, 7, '0') AS t FROM generate_series(0, $2::int - 1) g`;
  await db.query(
    `INSERT INTO users (id, email, password, updated_at)
     SELECT 'bench-' || t, t || '@bench.example', $3, now() FROM (${tokens}) s`,
    [pool, size, PASSWORD],
  );
  await db.query(
    `INSERT INTO profiles (id, user_id, username, display_name, updated_at)
     SELECT gen_random_uuid()::text, 'bench-' || t, 'bench_' || t, 'Bench ' || t, now() FROM (${tokens}) s`,
    [pool, size],
  );
}

/** Records `dup_<token>` as processed for the first `size` tokens of `pool`, for the duplicate runs. */
export async function recordProcessed(db: pg.Pool, pool: string, size: number): Promise<void> {
  await db.query(
    `INSERT INTO webhook_events (svix_id, type, user_id, outcome, attempts)
     SELECT 'dup_' || t, 'user.updated', 'bench-' || t, 'processed', 1
     FROM (SELECT $1::text || lpad(g::text, 7, '0') AS t FROM generate_series(0, $2::int - 1) g) s`,
    [pool, size],
  );
}
