/**
 * The `tickets` group for both SQL stores: one row per ticket, taken with a single
 * `DELETE … RETURNING` (SQLite ≥ 3.35, PostgreSQL), so of two concurrent takes exactly one
 * statement deletes the row and gets its value. Expired rows are deleted on the way: a take
 * removes its row whatever its time, and each put deletes every expired row (an indexed range
 * delete), so the table holds at most the tickets of the last TTL.
 */

/** The statements, for a dialect's placeholders (`?` for SQLite, `$n` for PostgreSQL). */
export function ticketSql(table: string, placeholder: (n: number) => string) {
  const [a, b, c] = [placeholder(1), placeholder(2), placeholder(3)];
  return {
    /** Deletes tickets whose time has passed at $1, except the key $2 about to be put. */
    prune: `DELETE FROM ${table} WHERE expires_at <= ${a} AND key <> ${b}`,
    /** Puts ($1 key, $2 value, $3 expires_at), replacing a ticket of the same key. */
    put: `INSERT INTO ${table} (key, value, expires_at) VALUES (${a}, ${b}, ${c})
          ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    /** Takes $1: the row is gone afterwards; its value counts only if it had not expired. */
    take: `DELETE FROM ${table} WHERE key = ${a} RETURNING value, expires_at`,
  };
}

/** The value of a taken row, or null when there was none or its time had passed at `now`. */
export function takenValue(row: { value: string; expires_at: number | string } | undefined, now: number) {
  return row && Number(row.expires_at) > now ? row.value : null;
}
