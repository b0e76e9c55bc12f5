import type { Pool, PoolConfig } from 'pg';
import { driverMissing, storeUnavailable, UnisessionError } from '../core/errors.js';
import type { AttributeKey, ListFilter, SessionChange, Store } from '../core/store.js';
import { checkGroup, checkLimit, checkOptions, is, isGroupName, type OptionSpec } from '../core/validate.js';
import { type SessionRow, sqlFilter, toMeta, toRow } from './sql-common.js';

export interface PostgresStoreOptions {
  /** A connection string, e.g. `postgres://user:pass@127.0.0.1:5432/app`. Needed unless `pool` is given. */
  url?: string;
  /**
   * A `pg.Pool` you already have. The store uses it as is (your timeouts, your `error` handler)
   * and leaves it open on `close()`.
   */
  pool?: Pool;
  /** Names the tables (`<group>_sessions`, `<group>_attributes`, `<group>_leases`); apps sharing sessions share it. @default 'unisession' */
  group?: string;
  /** The PostgreSQL schema holding the tables. @default undefined (the connection's search_path, usually `public`) */
  schema?: string;
  /**
   * Create the tables and indexes on first use (idempotent; several processes may start at
   * once). Turn it off when the app's database user may not run DDL, and run
   * `unisession migrate` (or `migrate()` from `unisession/migrate`) at deploy time instead.
   * @default true
   */
  createSchema?: boolean;
  /** Connections in the store's own pool. @default 10 */
  poolSize?: number;
  /** How long to wait for a connection (new or from the pool) before failing, in ms. @default 2000 */
  connectionTimeout?: number;
  /**
   * Server-side `statement_timeout` for the store's connections, in ms; the client also gives
   * up 1 s later if the server goes silent. @default 2000
   */
  statementTimeout?: number;
}

/** The table names of one group, quoted and schema-qualified, ready for SQL. */
export interface PostgresTables {
  sessions: string;
  attributes: string;
  leases: string;
}

const SCHEMA_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const isSchema = is.matching(SCHEMA_PATTERN, `a schema name matching ${SCHEMA_PATTERN}`);

const POSTGRES_OPTIONS: OptionSpec = {
  url: is.nonEmptyString,
  pool: is.withMethods('a pg Pool', 'query'),
  group: isGroupName,
  schema: isSchema,
  createSchema: is.boolean,
  poolSize: is.positiveInteger,
  connectionTimeout: is.nonNegative,
  statementTimeout: is.nonNegative,
};

/**
 * Builds the quoted table names; validates `group` and `schema`, which end up in SQL (always
 * double-quoted, so a group such as `my-portal` is a legal identifier).
 */
export function postgresTables(options: { group?: string; schema?: string }): PostgresTables {
  const group = checkGroup('postgresStore', options.group ?? 'unisession');
  const { schema } = options;
  const expected = schema === undefined ? undefined : isSchema(schema);
  if (expected !== undefined) {
    throw new UnisessionError(
      'UNISESSION_INVALID_OPTION',
      `postgresStore: option "schema" must be ${expected}, got ${JSON.stringify(schema)}`,
    );
  }
  const name = (table: string) => (schema ? `"${schema}"."${group}_${table}"` : `"${group}_${table}"`);
  return { sessions: name('sessions'), attributes: name('attributes'), leases: name('leases') };
}

/**
 * The DDL for one group, as a single script: one transaction that takes an advisory lock
 * first, because concurrent `CREATE TABLE IF NOT EXISTS` of the same table can still fail
 * (a race on the catalog's unique index); the lock makes the second process wait and then
 * find everything in place. Every statement is idempotent.
 */
export function postgresSchemaSql(options: { group?: string; schema?: string }): string {
  const { sessions, attributes, leases } = postgresTables(options);
  const group = checkGroup('postgresStore', options.group ?? 'unisession');
  const lockKey = `unisession:${options.schema ?? ''}:${group}`;
  const index = (suffix: string) => `"${group}_${suffix}"`;
  return `
    BEGIN;
    SELECT pg_advisory_xact_lock(hashtext('${lockKey}'));
    ${options.schema ? `CREATE SCHEMA IF NOT EXISTS "${options.schema}";` : ''}
    CREATE TABLE IF NOT EXISTS ${sessions} (
      id TEXT PRIMARY KEY, app TEXT NOT NULL, created_at BIGINT NOT NULL,
      last_accessed_at BIGINT NOT NULL, max_inactive BIGINT NOT NULL, expires_at BIGINT,
      absolute_expires_at BIGINT, principal TEXT, host TEXT NOT NULL,
      client_address TEXT NOT NULL, user_agent TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS ${index('sessions_expires')} ON ${sessions} (expires_at) WHERE expires_at IS NOT NULL;
    CREATE INDEX IF NOT EXISTS ${index('sessions_principal')} ON ${sessions} (principal) WHERE principal IS NOT NULL;
    CREATE INDEX IF NOT EXISTS ${index('sessions_app')} ON ${sessions} (app, id);
    CREATE TABLE IF NOT EXISTS ${attributes} (
      session_id TEXT NOT NULL REFERENCES ${sessions} (id) ON DELETE CASCADE ON UPDATE CASCADE,
      key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (session_id, key));
    CREATE TABLE IF NOT EXISTS ${leases} (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at BIGINT NOT NULL);
    COMMIT;`;
}

type PgModule = typeof import('pg');
let driver: Promise<PgModule> | undefined;

/** Loads `pg` once, on first use, so that apps on other stores never need it. */
export function loadPg(): Promise<PgModule> {
  driver ??= import('pg').then(
    // pg is CommonJS: Node puts its exports on `default`.
    (mod) => (mod as unknown as { default?: PgModule }).default ?? mod,
    (cause: unknown) => {
      driver = undefined;
      throw driverMissing('pg', 'postgres', cause);
    },
  );
  return driver;
}

/** Opens the store's own pool with timeouts short enough that a down server fails fast. */
export async function openPool(
  options: Pick<PostgresStoreOptions, 'url' | 'poolSize' | 'connectionTimeout' | 'statementTimeout'>,
): Promise<Pool> {
  if (!options.url) {
    throw new UnisessionError('UNISESSION_INVALID_OPTION', 'postgresStore needs `url` or `pool`');
  }
  const pg = await loadPg();
  const statementTimeout = options.statementTimeout ?? 2000;
  const config: PoolConfig = {
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectionTimeout ?? 2000,
    statement_timeout: statementTimeout,
    query_timeout: statementTimeout + 1000,
    application_name: 'unisession',
  };
  const pool = new pg.Pool(config);
  // An idle connection killed by a server restart emits 'error' on the pool; unhandled, that
  // would crash the app. The pool drops the connection itself and the next query reconnects.
  pool.on('error', () => {});
  return pool;
}

const UNIQUE_VIOLATION = '23505';

/**
 * PostgreSQL: a sessions table plus one row per attribute, so every write is a delta. Each
 * store operation is one SQL statement (CTEs chain the parts), hence one round trip and
 * atomic without an explicit transaction.
 */
export function postgresStore(options: PostgresStoreOptions): Store {
  checkOptions('postgresStore', options, POSTGRES_OPTIONS);
  if (!options?.pool && !options?.url) {
    throw new UnisessionError('UNISESSION_INVALID_OPTION', 'postgresStore needs `url` or `pool`');
  }
  const tables = postgresTables(options);
  const { sessions, attributes, leases } = tables;
  let ready: Promise<Pool> | undefined;
  let closed = false;

  /** The pool, with the schema in place; memoised, and forgotten on failure so a later call retries. */
  function open(): Promise<Pool> {
    if (closed) return Promise.reject(storeUnavailable('postgres', new Error('the store is closed')));
    ready ??= (async () => {
      const pool = options.pool ?? (await openPool(options));
      if (options.createSchema ?? true) {
        try {
          await pool.query(postgresSchemaSql(options));
        } catch (error) {
          if (!options.pool) await pool.end().catch(() => {});
          throw error;
        }
      }
      return pool;
    })();
    ready.catch(() => {
      ready = undefined;
    });
    return ready;
  }

  async function query<R>(text: string, values: unknown[]): Promise<R[]> {
    try {
      const pool = await open();
      return (await pool.query(text, values)).rows as R[];
    } catch (error) {
      throw storeUnavailable('postgres', error, hintFor(error));
    }
  }

  const store: Store = {
    name: 'postgres',
    group: options.group ?? 'unisession',
    flags: { list: true, principalIndex: true, sweep: true, lease: true },

    async load(id, keys, now) {
      const filter = keys === 'all' ? '' : 'AND key = ANY($3::text[])';
      const rows = await query<SessionRow & { attr_keys: string[] | null; attr_values: string[] | null }>(
        `SELECT s.*, a.attr_keys, a.attr_values FROM ${sessions} s
         LEFT JOIN LATERAL (SELECT array_agg(key) AS attr_keys, array_agg(value) AS attr_values
                            FROM ${attributes} WHERE session_id = s.id ${filter}) a ON true
         WHERE s.id = $1 AND (s.expires_at IS NULL OR s.expires_at > $2)`,
        keys === 'all' ? [id, now] : [id, now, keys],
      );
      const row = rows[0];
      if (!row) return null;
      const names = row.attr_keys ?? [];
      const values = row.attr_values ?? [];
      return { meta: toMeta(row), attributes: new Map(names.map((key, i) => [key, values[i]!])) };
    },

    async loadAttributes(id, keys) {
      if (keys.length === 0) return new Map();
      const rows = await query<{ key: string; value: string }>(
        `SELECT key, value FROM ${attributes} WHERE session_id = $1 AND key = ANY($2::text[])`,
        [id, keys],
      );
      return new Map(rows.map((row) => [row.key, row.value]));
    },

    async create(meta, attrs) {
      const row = toRow(meta) as SessionRow;
      const [keys, values] = columns(attrs);
      // The attribute insert reads the CTE `s`, so it writes nothing when the id was taken.
      const rows = await query<{ n: number }>(
        `WITH s AS (
           INSERT INTO ${sessions} (id, app, created_at, last_accessed_at, max_inactive, expires_at,
             absolute_expires_at, principal, host, client_address, user_agent)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING RETURNING id),
         a AS (INSERT INTO ${attributes} (session_id, key, value)
           SELECT s.id, u.k, u.v FROM s, unnest($12::text[], $13::text[]) AS u(k, v))
         SELECT count(*)::int AS n FROM s`,
        [
          row.id,
          row.app,
          row.created_at,
          row.last_accessed_at,
          row.max_inactive,
          row.expires_at,
          row.absolute_expires_at,
          row.principal,
          row.host,
          row.client_address,
          row.user_agent,
          keys,
          values,
        ],
      );
      if (rows[0]?.n !== 1) throw new UnisessionError('UNISESSION_SESSION_EXISTS', meta.id);
    },

    async update(id, change: SessionChange) {
      const patch = toRow(change.meta ?? {});
      const patchColumns = Object.keys(patch);
      const [keys, values] = columns(change.set);
      const params: unknown[] = [id, keys, values, change.remove ?? []];
      // With a metadata patch the UPDATE both writes and locks the row; without one, FOR KEY
      // SHARE keeps a concurrent destroy or rename from slipping between check and write.
      const target =
        patchColumns.length > 0
          ? `UPDATE ${sessions} SET ${patchColumns
              .map((column) => {
                params.push(patch[column as keyof SessionRow]);
                return `${column} = $${params.length}`;
              })
              .join(', ')} WHERE id = $1 RETURNING id`
          : `SELECT id FROM ${sessions} WHERE id = $1 FOR KEY SHARE`;
      const rows = await query<{ n: number }>(
        `WITH s AS (${target}),
         up AS (INSERT INTO ${attributes} (session_id, key, value)
           SELECT s.id, u.k, u.v FROM s, unnest($2::text[], $3::text[]) AS u(k, v)
           ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value),
         del AS (DELETE FROM ${attributes} a USING s WHERE a.session_id = s.id AND a.key = ANY($4::text[]))
         SELECT count(*)::int AS n FROM s`,
        params,
      );
      return rows[0]?.n === 1;
    },

    async destroy(id) {
      const rows = await query<SessionRow>(`DELETE FROM ${sessions} WHERE id = $1 RETURNING *`, [id]);
      return rows[0] ? toMeta(rows[0]) : null;
    },

    async rename(oldId, newId) {
      try {
        // ON UPDATE CASCADE moves the attribute rows in the same statement.
        const rows = await query<{ id: string }>(
          `UPDATE ${sessions} SET id = $2 WHERE id = $1 RETURNING id`,
          [oldId, newId],
        );
        return rows.length > 0;
      } catch (error) {
        if (pgCode((error as Error).cause) === UNIQUE_VIOLATION) {
          throw new UnisessionError('UNISESSION_SESSION_EXISTS', newId, { cause: error });
        }
        throw error;
      }
    },

    async list(filter: ListFilter) {
      const { where, params } = sqlFilter(filter, (n) => `$${n}`);
      const limit = checkLimit('postgresStore.list', filter.limit);
      const rows = await query<SessionRow>(
        `SELECT * FROM ${sessions} ${where} ORDER BY id LIMIT $${params.length + 1}`,
        [...params, limit + 1],
      );
      const page = rows.slice(0, limit).map(toMeta);
      return rows.length > limit ? { sessions: page, next: page[page.length - 1]!.id } : { sessions: page };
    },

    async count(filter) {
      const { where, params } = sqlFilter(filter, (n) => `$${n}`);
      const rows = await query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sessions} ${where}`, params);
      return rows[0]?.n ?? 0;
    },

    async findByPrincipal(principal) {
      const rows = await query<{ id: string }>(`SELECT id FROM ${sessions} WHERE principal = $1`, [
        principal,
      ]);
      return rows.map((row) => row.id);
    },

    async sweep(now, limit) {
      // SKIP LOCKED lets two sweepers share the work instead of queueing on the same rows.
      const rows = await query<SessionRow>(
        `DELETE FROM ${sessions} WHERE id IN (
           SELECT id FROM ${sessions} WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING *`,
        [now, limit],
      );
      return rows.map(toMeta);
    },

    async acquireLease(name, holder, ttlMs, now) {
      // The conditional upsert returns a row only when `holder` holds the lease afterwards.
      const rows = await query<{ holder: string }>(
        `INSERT INTO ${leases} (name, holder, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE ${leases}.holder = excluded.holder OR ${leases}.expires_at <= $4
         RETURNING holder`,
        [name, holder, now + ttlMs, now],
      );
      return rows.length > 0;
    },

    async close() {
      closed = true;
      const pool = await ready?.catch(() => undefined);
      ready = undefined;
      if (pool && !options.pool) await pool.end();
    },
  };
  return store;
}

/** Sorted so that concurrent writers lock attribute rows in one order (no deadlocks). */
function columns(attrs: Map<AttributeKey, string> | undefined): [string[], string[]] {
  const entries = [...(attrs ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [entries.map(([key]) => key), entries.map(([, value]) => value)];
}

function pgCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** The fix for the one configuration error users meet: tables that were never created. */
function hintFor(error: unknown): string | undefined {
  return pgCode(error) === '42P01'
    ? 'its tables do not exist: run `unisession migrate`, or leave createSchema on'
    : undefined;
}
