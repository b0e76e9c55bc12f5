import type { Pool, PoolConfig } from 'pg';
import { UnisessionError } from '../../core/errors.js';
import { loadDriver } from '../kit/driver.js';

type PgModule = typeof import('pg');

/** Loads `pg` once, on first use, so that apps on other stores never need it. */
export function loadPg(): Promise<PgModule> {
  return loadDriver<PgModule>('pg', 'postgres');
}

export interface PoolSettings {
  url?: string;
  poolSize?: number;
  connectionTimeout?: number;
  statementTimeout?: number;
}

/** Opens the store's own pool with timeouts short enough that a down server fails fast. */
export async function openPool(options: PoolSettings): Promise<Pool> {
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

/** The pool with the schema in place; a pool made here is ended again if the DDL fails. */
export async function openReadyPool(
  own: Pool | undefined,
  settings: PoolSettings,
  schemaSql: string | undefined,
): Promise<Pool> {
  const pool = own ?? (await openPool(settings));
  if (schemaSql === undefined) return pool;
  try {
    await pool.query(schemaSql);
  } catch (error) {
    if (!own) await pool.end().catch(() => {});
    throw error;
  }
  return pool;
}

/** The SQLSTATE of a driver error, if it has one. */
export function pgCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** The fix for the one configuration error users meet: tables that were never created. */
export function hintFor(error: unknown): string | undefined {
  return pgCode(error) === '42P01'
    ? 'its tables do not exist: run `unisession migrate`, or leave createSchema on'
    : undefined;
}
