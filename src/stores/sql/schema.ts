/**
 * The tables of one group, as both SQL stores lay them out: a sessions table with one row
 * per session, an attributes table with one row per attribute (so every write is a delta),
 * a leases table, the audit log and a small state table (the last sweep). Only a few types
 * differ: SQLite's INTEGER is 64-bit already.
 */

/** The table names of one group, quoted (and schema-qualified for PostgreSQL), ready for SQL. */
export interface SqlTables {
  sessions: string;
  attributes: string;
  leases: string;
  audit: string;
  state: string;
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
    audit: name('audit'),
    state: name('state'),
    tickets: name('tickets'),
  };
}

export interface SqlDialect {
  /** A 64-bit integer column (epoch ms). */
  integer: 'INTEGER' | 'BIGINT';
  /** What ends the attributes table: SQLite clusters it on its primary key. */
  attributesSuffix: string;
  /** An auto-numbered primary key (the audit log's order). */
  serial: 'INTEGER PRIMARY KEY AUTOINCREMENT' | 'BIGSERIAL PRIMARY KEY';
}

/**
 * Columns added after the first release, each with a default so that existing rows read as
 * "unknown" (''). Tables made before them get them by ALTER TABLE ADD COLUMN (`addedColumnsSql`
 * for PostgreSQL, which has IF NOT EXISTS; SQLite checks `table_info` first).
 */
export const ADDED_SESSION_COLUMNS = [
  ['created_url', "TEXT NOT NULL DEFAULT ''"],
  ['last_url', "TEXT NOT NULL DEFAULT ''"],
  ['last_host', "TEXT NOT NULL DEFAULT ''"],
  // The session's version (the port's "Versions"): rows from before it read as version 0.
  ['version', 'INTEGER NOT NULL DEFAULT 0'],
] as const;

/** The idempotent DDL of one group's tables; every statement may run again, from any process. */
export function tablesSql(tables: SqlTables, dialect: SqlDialect): string {
  const { integer, attributesSuffix, serial } = dialect;
  const { sessions, attributes, leases, audit, state, tickets } = tables;
  return `
    CREATE TABLE IF NOT EXISTS ${sessions} (
      id TEXT PRIMARY KEY, app TEXT NOT NULL, created_at ${integer} NOT NULL,
      last_accessed_at ${integer} NOT NULL, max_inactive ${integer} NOT NULL, expires_at ${integer},
      absolute_expires_at ${integer}, principal TEXT, host TEXT NOT NULL,
      client_address TEXT NOT NULL, user_agent TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS ${attributes} (
      session_id TEXT NOT NULL REFERENCES ${sessions} (id) ON DELETE CASCADE ON UPDATE CASCADE,
      key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (session_id, key))${attributesSuffix};
    CREATE TABLE IF NOT EXISTS ${leases} (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at ${integer} NOT NULL);
    CREATE TABLE IF NOT EXISTS ${audit} (
      seq ${serial}, at ${integer} NOT NULL, actor TEXT NOT NULL, scope TEXT NOT NULL,
      action TEXT NOT NULL, target TEXT NOT NULL, count ${integer} NOT NULL, detail TEXT);
    CREATE TABLE IF NOT EXISTS ${state} (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS ${tickets} (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at ${integer} NOT NULL);`;
}

/** PostgreSQL's migration of an older sessions table: each added column, if missing. */
export function addedColumnsSql(tables: SqlTables): string {
  return ADDED_SESSION_COLUMNS.map(
    ([column, type]) => `ALTER TABLE ${tables.sessions} ADD COLUMN IF NOT EXISTS ${column} ${type};`,
  ).join('\n');
}

/**
 * The indexes, after the columns exist: expiry (the sweeper), principal (its index and its
 * searches newest first), app, and the two time orders the monitor lists and counts by
 * (ending in expires_at, so "idle longer than N, live" counts read the index alone).
 */
export function indexesSql(group: string, tables: SqlTables): string {
  const { sessions, tickets } = tables;
  // Index names are not schema-qualified: an index lives in its table's schema.
  const index = (suffix: string) => `"${group}_${suffix}"`;
  return `
    CREATE INDEX IF NOT EXISTS ${index('sessions_expires')} ON ${sessions} (expires_at) WHERE expires_at IS NOT NULL;
    CREATE INDEX IF NOT EXISTS ${index('sessions_principal')} ON ${sessions} (principal) WHERE principal IS NOT NULL;
    CREATE INDEX IF NOT EXISTS ${index('sessions_app')} ON ${sessions} (app, id);
    CREATE INDEX IF NOT EXISTS ${index('sessions_accessed')} ON ${sessions} (last_accessed_at, id, expires_at);
    CREATE INDEX IF NOT EXISTS ${index('sessions_created')} ON ${sessions} (created_at, id, expires_at);
    CREATE INDEX IF NOT EXISTS ${index('sessions_principal_accessed')} ON ${sessions} (principal, last_accessed_at, id) WHERE principal IS NOT NULL;
    CREATE INDEX IF NOT EXISTS ${index('tickets_expires')} ON ${tickets} (expires_at);`;
}
