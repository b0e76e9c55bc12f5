import { storeUnavailable } from '../core/errors.js';
import { openPool, postgresSchemaSql } from '../stores/postgres.js';

export interface MigrateOptions {
  /** The PostgreSQL connection string. */
  url: string;
  /** The group whose tables to create. @default 'unisession' */
  group?: string;
  /** The schema to create them in (created too if missing). @default undefined (the search_path) */
  schema?: string;
}

/**
 * Creates the PostgreSQL tables and indexes of one group, explicitly, with the same DDL the
 * store runs on first use. For deployments where the app's database user may not run DDL
 * (`postgresStore({ createSchema: false })`). Idempotent: running it twice changes nothing.
 *
 * @example
 * await migrate({ url: process.env.DATABASE_URL!, group: 'shop' });
 */
export async function migrate(options: MigrateOptions): Promise<void> {
  // Validate names before connecting, so a typo fails without touching the server.
  const ddl = postgresSchemaSql(options);
  // DDL may wait on another process's advisory lock; give it longer than a request would get.
  const pool = await openPool({ url: options.url, poolSize: 1, statementTimeout: 30_000 });
  try {
    await pool.query(ddl);
  } catch (error) {
    throw storeUnavailable('postgres', error);
  } finally {
    await pool.end();
  }
}
