import type BetterSqlite3 from 'better-sqlite3';
import { loadDriver } from '../kit/driver.js';
import { ADDED_SESSION_COLUMNS, indexesSql, type SqlTables, tablesSql } from '../sql/schema.js';

/** One open database with its prepared statements. better-sqlite3 is synchronous. */
export class SqliteDatabase {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(
    readonly db: BetterSqlite3.Database,
    readonly tables: SqlTables,
  ) {}

  /** The statement for `text`, prepared once. */
  sql(text: string): BetterSqlite3.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /** Runs `work` in an IMMEDIATE transaction; better-sqlite3 is synchronous, so this is atomic. */
  write<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  /** Closes the database unless it is the app's own. */
  close(owned: boolean): void {
    this.statements.clear();
    if (owned) this.db.close();
  }
}

export interface OpenOptions {
  file: string;
  group: string;
  /** The app's database, used instead of opening `file`. */
  database: BetterSqlite3.Database | undefined;
  busyTimeout: number;
}

/**
 * Opens the file in WAL mode, so the processes of one host share it safely, and creates the
 * group's tables (idempotent).
 */
export async function openDatabase(options: OpenOptions, tables: SqlTables): Promise<SqliteDatabase> {
  const db = options.database ?? (await openFile(options.file));
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode survives a process crash (SIGKILL); only an OS crash can lose the last commits.
  db.pragma('synchronous = NORMAL');
  // A pragma cannot take a parameter; busyTimeout was checked to be an integer at creation.
  db.pragma(`busy_timeout = ${options.busyTimeout}`);
  db.pragma('foreign_keys = ON');
  db.exec(
    tablesSql(tables, {
      integer: 'INTEGER',
      attributesSuffix: ' WITHOUT ROWID',
      serial: 'INTEGER PRIMARY KEY AUTOINCREMENT',
    }),
  );
  addMissingColumns(db, tables);
  db.exec(indexesSql(options.group, tables));
  return new SqliteDatabase(db, tables);
}

/**
 * Brings a sessions table made by an older release up to date. SQLite has no ADD COLUMN IF
 * NOT EXISTS, so the columns are read first; in one IMMEDIATE transaction, so two processes
 * opening the same file at once cannot both add a column.
 */
function addMissingColumns(db: BetterSqlite3.Database, tables: SqlTables): void {
  db.transaction(() => {
    const present = new Set(
      (
        db.prepare(`SELECT name FROM pragma_table_info(?)`).all(tables.sessions.slice(1, -1)) as Array<{
          name: string;
        }>
      ).map((row) => row.name),
    );
    for (const [column, type] of ADDED_SESSION_COLUMNS) {
      if (!present.has(column)) db.exec(`ALTER TABLE ${tables.sessions} ADD COLUMN ${column} ${type}`);
    }
  }).immediate();
}

async function openFile(file: string): Promise<BetterSqlite3.Database> {
  const Database = await loadDriver<typeof BetterSqlite3>('better-sqlite3', 'sqlite');
  return new Database(file);
}
