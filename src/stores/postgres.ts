import type { Pool } from 'pg';
import { UnisessionError } from '../core/errors.js';
import type { Store } from '../core/store.js';
import { checkOptions, is, type OptionSpec } from '../core/validate.js';
import { defineStore } from './kit/define.js';
import { isGroupName, storeGroup } from './kit/group.js';
import { postgresBackend } from './postgres/backend.js';
import { hintFor, openReadyPool } from './postgres/pool.js';
import { isSchema, postgresSchemaSql, postgresTables } from './postgres/schema.js';

export { loadPg, openPool } from './postgres/pool.js';
export { type PostgresTables, postgresSchemaSql, postgresTables } from './postgres/schema.js';

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
 * PostgreSQL: a sessions table plus one row per attribute, so every write is a delta. Each
 * store operation is one SQL statement, hence one round trip (see postgres/backend.ts).
 */
export function postgresStore(options: PostgresStoreOptions): Store {
  checkOptions('postgresStore', options, POSTGRES_OPTIONS);
  if (!options?.pool && !options?.url) {
    throw new UnisessionError('UNISESSION_INVALID_OPTION', 'postgresStore needs `url` or `pool`');
  }
  const tables = postgresTables(options);
  const schemaSql = (options.createSchema ?? true) ? postgresSchemaSql(options) : undefined;
  return defineStore({
    name: 'postgres',
    group: storeGroup('postgresStore', options.group),
    open: () => openReadyPool(options.pool, options, schemaSql),
    release: async (pool) => {
      if (!options.pool) await pool.end();
    },
    hint: hintFor,
    backend: postgresBackend(tables),
  });
}
