import type BetterSqlite3 from 'better-sqlite3';
import type { Store } from '../core/store.js';
import { checkOptions, is } from '../core/validate.js';
import { defineStore } from './kit/define.js';
import { isGroupName, storeGroup } from './kit/group.js';
import { sqlTables } from './sql/schema.js';
import { sqliteBackend } from './sqlite/backend.js';
import { openDatabase } from './sqlite/database.js';

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
  const group = storeGroup('sqliteStore', options.group);
  const settings = {
    file: options.file ?? './unisession.sqlite',
    group,
    database: options.database,
    busyTimeout: options.busyTimeout ?? 5000,
  };
  return defineStore({
    name: 'sqlite',
    group,
    open: () => openDatabase(settings, sqlTables(group)),
    release: (database) => database.close(options.database === undefined),
    backend: sqliteBackend,
  });
}
