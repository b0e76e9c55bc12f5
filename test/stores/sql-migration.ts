/**
 * The sessions table as releases before issue 10 made it (no created_url, last_url,
 * last_host), for the migration tests of both SQL stores: a store opened on it must add the
 * columns and read the old rows with '' for them.
 */
export function oldSessionsTableSql(table: string, integer: 'INTEGER' | 'BIGINT'): string {
  return `CREATE TABLE ${table} (
      id TEXT PRIMARY KEY, app TEXT NOT NULL, created_at ${integer} NOT NULL,
      last_accessed_at ${integer} NOT NULL, max_inactive ${integer} NOT NULL, expires_at ${integer},
      absolute_expires_at ${integer}, principal TEXT, host TEXT NOT NULL,
      client_address TEXT NOT NULL, user_agent TEXT NOT NULL)`;
}

export const OLD_ROW_VALUES = (id: string, now: number) => [
  id,
  'shop',
  now,
  now,
  60_000,
  now + 60_000,
  null,
  'old-user',
  'old-node',
  '10.0.0.1',
  'old-agent',
];
