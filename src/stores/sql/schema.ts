/**
 * The tables of one group, as both SQL stores lay them out: a sessions table with one row
 * per session, an attributes table with one row per attribute (so every write is a delta),
 * and a leases table. Only the integer type differs: SQLite's INTEGER is 64-bit already.
 */

/** The table names of one group, quoted (and schema-qualified for PostgreSQL), ready for SQL. */
export interface SqlTables {
  sessions: string;
  attributes: string;
  leases: string;
  /** Single-use values with a TTL (the `tickets` group): SSO tickets. */
  tickets: string;
}

/**
 * Quoted wherever they are used: a group such as `my-portal` is a legal identifier only
 * quoted. `group` and `schema` must be checked before they get here.
 */
export function sqlTables(group: string, schema?: string): SqlTables {
  const name = (table: string) => (schema ? `"${schema}"."${group}_${table}"` : `"${group}_${table}"`);
  return {
    sessions: name('sessions'),
    attributes: name('attributes'),
    leases: name('leases'),
    tickets: name('tickets'),
  };
}

export interface SqlDialect {
  /** A 64-bit integer column (epoch ms). */
  integer: 'INTEGER' | 'BIGINT';
  /** What ends the attributes table: SQLite clusters it on its primary key. */
  attributesSuffix: string;
}

/** The idempotent DDL of one group; every statement may run again, from any process. */
export function tablesSql(
  group: string,
  tables: SqlTables,
  { integer, attributesSuffix }: SqlDialect,
): string {
  const { sessions, attributes, leases, tickets } = tables;
  // Index names are not schema-qualified: an index lives in its table's schema.
  const index = (suffix: string) => `"${group}_${suffix}"`;
  return `
    CREATE TABLE IF NOT EXISTS ${sessions} (
      id TEXT PRIMARY KEY, app TEXT NOT NULL, created_at ${integer} NOT NULL,
      last_accessed_at ${integer} NOT NULL, max_inactive ${integer} NOT NULL, expires_at ${integer},
      absolute_expires_at ${integer}, principal TEXT, host TEXT NOT NULL,
      client_address TEXT NOT NULL, user_agent TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS ${index('sessions_expires')} ON ${sessions} (expires_at) WHERE expires_at IS NOT NULL;
    CREATE INDEX IF NOT EXISTS ${index('sessions_principal')} ON ${sessions} (principal) WHERE principal IS NOT NULL;
    CREATE INDEX IF NOT EXISTS ${index('sessions_app')} ON ${sessions} (app, id);
    CREATE TABLE IF NOT EXISTS ${attributes} (
      session_id TEXT NOT NULL REFERENCES ${sessions} (id) ON DELETE CASCADE ON UPDATE CASCADE,
      key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (session_id, key))${attributesSuffix};
    CREATE TABLE IF NOT EXISTS ${leases} (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at ${integer} NOT NULL);
    CREATE TABLE IF NOT EXISTS ${tickets} (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at ${integer} NOT NULL);
    CREATE INDEX IF NOT EXISTS ${index('tickets_expires')} ON ${tickets} (expires_at);`;
}
