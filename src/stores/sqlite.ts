import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { driverMissing, UnisessionError } from '../core/errors.js';
import type { AttributeKey, ListFilter, SessionChange, Store } from '../core/store.js';
import { checkLimit, checkOptions, is, isGroupName } from '../core/validate.js';
import { type SessionRow, sqlFilter, toMeta, toRow } from './sql-common.js';

export interface SqliteStoreOptions {
  /** The database file, shared by every process on this host. @default './unisession.sqlite' */
  file?: string;
  /** Names the tables (`<group>_sessions`, `<group>_attributes`); apps sharing sessions share it. @default 'unisession' */
  group?: string;
  /** An open better-sqlite3 database to use instead of opening `file`. */
  database?: BetterSqlite3.Database;
  /** How long a writer waits for another process's lock before failing, in ms. @default 5000 */
  busyTimeout?: number;
}

/**
 * The embedded default: better-sqlite3 in WAL mode, so the processes of one host share a
 * file safely. Every write is an IMMEDIATE transaction (the write lock is taken up front,
 * which lets SQLite's busy handler wait instead of failing on lock upgrade).
 */
export function sqliteStore(options: SqliteStoreOptions = {}): Store {
  checkOptions('sqliteStore', options, {
    file: is.nonEmptyString,
    group: isGroupName,
    database: is.withMethods('an open better-sqlite3 Database', 'prepare', 'pragma', 'exec', 'transaction'),
    busyTimeout: is.nonNegativeInteger,
  });
  // Quoted wherever it is used: a group such as `my-portal` is a legal identifier only quoted.
  const group = options.group ?? 'unisession';
  const sessions = `"${group}_sessions"`;
  const attributes = `"${group}_attributes"`;
  const leases = `"${group}_leases"`;
  let db: BetterSqlite3.Database | undefined;
  const statements = new Map<string, BetterSqlite3.Statement>();

  function open(): BetterSqlite3.Database {
    if (db) return db;
    db = options.database ?? openFile(options.file ?? './unisession.sqlite');
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a process crash (SIGKILL); only an OS crash can lose the last commits.
    db.pragma('synchronous = NORMAL');
    // A pragma cannot take a parameter; busyTimeout was checked to be an integer at creation.
    db.pragma(`busy_timeout = ${options.busyTimeout ?? 5000}`);
    db.pragma('foreign_keys = ON');
    db.exec(`
      CREATE TABLE IF NOT EXISTS ${sessions} (
        id TEXT PRIMARY KEY, app TEXT NOT NULL, created_at INTEGER NOT NULL,
        last_accessed_at INTEGER NOT NULL, max_inactive INTEGER NOT NULL, expires_at INTEGER,
        absolute_expires_at INTEGER, principal TEXT, host TEXT NOT NULL,
        client_address TEXT NOT NULL, user_agent TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS "${group}_sessions_expires" ON ${sessions} (expires_at) WHERE expires_at IS NOT NULL;
      CREATE INDEX IF NOT EXISTS "${group}_sessions_principal" ON ${sessions} (principal) WHERE principal IS NOT NULL;
      CREATE INDEX IF NOT EXISTS "${group}_sessions_app" ON ${sessions} (app, id);
      CREATE TABLE IF NOT EXISTS ${attributes} (
        session_id TEXT NOT NULL REFERENCES ${sessions} (id) ON DELETE CASCADE ON UPDATE CASCADE,
        key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (session_id, key)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS ${leases} (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL);
    `);
    return db;
  }

  function sql(text: string): BetterSqlite3.Statement {
    let statement = statements.get(text);
    if (!statement) {
      statement = open().prepare(text);
      statements.set(text, statement);
    }
    return statement;
  }

  /** Runs `work` in an IMMEDIATE transaction; better-sqlite3 is synchronous, so this is atomic. */
  function write<T>(work: () => T): T {
    return open().transaction(work).immediate();
  }

  function readAttributes(id: string, keys: AttributeKey[] | 'all'): Map<AttributeKey, string> {
    const rows = (
      keys === 'all'
        ? sql(`SELECT key, value FROM ${attributes} WHERE session_id = ?`).all(id)
        : keys.length === 0
          ? []
          : sql(
              `SELECT key, value FROM ${attributes} WHERE session_id = ? AND key IN (SELECT value FROM json_each(?))`,
            ).all(id, JSON.stringify(keys))
    ) as Array<{ key: string; value: string }>;
    return new Map(rows.map((row) => [row.key, row.value]));
  }

  function writeAttributes(
    id: string,
    set: Map<AttributeKey, string> | undefined,
    remove: AttributeKey[] = [],
  ): void {
    const upsert = sql(
      `INSERT INTO ${attributes} (session_id, key, value) VALUES (?, ?, ?) ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value`,
    );
    for (const [key, value] of set ?? []) upsert.run(id, key, value);
    const del = sql(`DELETE FROM ${attributes} WHERE session_id = ? AND key = ?`);
    for (const key of remove) del.run(id, key);
  }

  const store: Store = {
    name: 'sqlite',
    group,
    flags: { list: true, principalIndex: true, sweep: true, lease: true },

    async load(id, keys, now) {
      const row = sql(
        `SELECT * FROM ${sessions} WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)`,
      ).get(id, now) as SessionRow | undefined;
      return row ? { meta: toMeta(row), attributes: readAttributes(id, keys) } : null;
    },

    async loadAttributes(id, keys) {
      return readAttributes(id, keys);
    },

    async create(meta, attrs) {
      write(() => {
        const row = toRow(meta);
        const result = sql(
          `INSERT INTO ${sessions} VALUES (@id, @app, @created_at, @last_accessed_at, @max_inactive, @expires_at, @absolute_expires_at, @principal, @host, @client_address, @user_agent) ON CONFLICT (id) DO NOTHING`,
        ).run(row);
        if (result.changes === 0) throw new UnisessionError('UNISESSION_SESSION_EXISTS', meta.id);
        writeAttributes(meta.id, attrs);
      });
    },

    async update(id, change: SessionChange) {
      return write(() => {
        const patch = toRow(change.meta ?? {});
        const columns = Object.keys(patch);
        const exists =
          columns.length > 0
            ? sql(
                `UPDATE ${sessions} SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @__id`,
              ).run({
                ...patch,
                __id: id,
              }).changes > 0
            : sql(`SELECT 1 FROM ${sessions} WHERE id = ?`).get(id) !== undefined;
        if (exists) writeAttributes(id, change.set, change.remove);
        return exists;
      });
    },

    async destroy(id) {
      const row = sql(`DELETE FROM ${sessions} WHERE id = ? RETURNING *`).get(id) as SessionRow | undefined;
      return row ? toMeta(row) : null;
    },

    async rename(oldId, newId) {
      return write(() => {
        if (sql(`SELECT 1 FROM ${sessions} WHERE id = ?`).get(oldId) === undefined) return false;
        // Checked in the same IMMEDIATE transaction, so no other writer can take the id meanwhile.
        if (sql(`SELECT 1 FROM ${sessions} WHERE id = ?`).get(newId) !== undefined) {
          throw new UnisessionError('UNISESSION_SESSION_EXISTS', newId);
        }
        // ON UPDATE CASCADE moves the attribute rows in the same statement.
        return sql(`UPDATE ${sessions} SET id = ? WHERE id = ?`).run(newId, oldId).changes > 0;
      });
    },

    async list(filter: ListFilter) {
      const { where, params } = sqlFilter(filter, '?');
      const limit = checkLimit('sqliteStore.list', filter.limit);
      // Bound like every other value: the text of a statement never carries a caller's input.
      const rows = sql(`SELECT * FROM ${sessions} ${where} ORDER BY id LIMIT ?`).all(
        ...params,
        limit + 1,
      ) as SessionRow[];
      const page = rows.slice(0, limit).map(toMeta);
      return rows.length > limit ? { sessions: page, next: page[page.length - 1]!.id } : { sessions: page };
    },

    async count(filter) {
      const { where, params } = sqlFilter(filter, '?');
      return (sql(`SELECT count(*) AS n FROM ${sessions} ${where}`).get(...params) as { n: number }).n;
    },

    async findByPrincipal(principal) {
      const rows = sql(`SELECT id FROM ${sessions} WHERE principal = ?`).all(principal) as Array<{
        id: string;
      }>;
      return rows.map((row) => row.id);
    },

    async sweep(now, limit) {
      const rows = sql(
        `DELETE FROM ${sessions} WHERE id IN (SELECT id FROM ${sessions} WHERE expires_at <= ? LIMIT ?) RETURNING *`,
      ).all(now, limit) as SessionRow[];
      return rows.map(toMeta);
    },

    async acquireLease(name, holder, ttlMs, now) {
      return write(() => {
        sql(
          `INSERT INTO ${leases} (name, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at WHERE ${leases}.holder = excluded.holder OR ${leases}.expires_at <= ?`,
        ).run(name, holder, now + ttlMs, now);
        const row = sql(`SELECT holder FROM ${leases} WHERE name = ?`).get(name) as { holder: string };
        return row.holder === holder;
      });
    },

    async close() {
      statements.clear();
      if (!options.database) db?.close();
      db = undefined;
    },
  };
  return store;
}

function openFile(file: string): BetterSqlite3.Database {
  let Database: typeof BetterSqlite3;
  try {
    Database = createRequire(import.meta.url)('better-sqlite3');
  } catch (cause) {
    throw driverMissing('better-sqlite3', 'sqlite', cause);
  }
  return new Database(file);
}
