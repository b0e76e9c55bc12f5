import { UnisessionError } from '../../core/errors.js';
import type { AttributeKey, LoadedSession, SessionChange, SessionMeta } from '../../core/store.js';
import { bumpsVersion } from '../kit/versions.js';
import { SESSION_COLUMNS, type SessionRow, toMeta, toRow } from '../sql/rows.js';
import type { SqliteDatabase } from './database.js';

type Db = SqliteDatabase;
type VersionedRow = SessionRow & { version: number };
/** One row of the conditional load: the session's columns, and one attribute or none. */
type JoinedRow = VersionedRow & { a_key: string | null; a_value: string | null };

/**
 * The SQLite store's versioned operations (the port's "Versions"): the `version` column moves
 * in the same statement as the change it counts, inside the same IMMEDIATE transaction.
 */

/**
 * Loads in ONE statement: the session row joined to its attributes, which the join matches
 * only when the stored version differs from `knownVersion` (-1 when the caller has none), so
 * a current copy costs one row and no attribute is read.
 */
export function loadVersioned(
  d: Db,
  id: string,
  keys: AttributeKey[] | 'all',
  now: number,
  knownVersion: number | undefined,
): LoadedSession | null {
  const { sessions, attributes } = d.tables;
  const some = keys === 'all' ? '' : 'AND a.key IN (SELECT value FROM json_each(@keys))';
  const rows = d
    .sql(
      `SELECT s.*, a.key AS a_key, a.value AS a_value FROM ${sessions} s
       LEFT JOIN ${attributes} a ON a.session_id = s.id AND s.version <> @known ${some}
       WHERE s.id = @id AND (s.expires_at IS NULL OR s.expires_at > @now)`,
    )
    .all({
      id,
      now,
      known: knownVersion ?? -1,
      ...(keys === 'all' ? {} : { keys: JSON.stringify(keys) }),
    }) as JoinedRow[];
  const first = rows[0];
  if (!first) return null;
  const meta = toMeta(first);
  const version = Number(first.version);
  if (version === knownVersion) return { meta, attributes: new Map(), version, unchanged: true };
  const found = new Map<AttributeKey, string>();
  for (const row of rows) if (row.a_key !== null) found.set(row.a_key, row.a_value!);
  return { meta, attributes: found, version };
}

/** Inserts the session row at version 1; false when the id is taken. */
export function insertVersioned(d: Db, meta: SessionMeta): boolean {
  const columns = SESSION_COLUMNS.join(', ');
  const values = SESSION_COLUMNS.map((c) => `@${c}`).join(', ');
  return (
    d
      .sql(
        `INSERT INTO ${d.tables.sessions} (${columns}, version) VALUES (${values}, 1) ON CONFLICT (id) DO NOTHING`,
      )
      .run(toRow(meta)).changes > 0
  );
}

/**
 * Applies the metadata part of `change` and moves the version when the change is more than a
 * touch, in one statement; returns the version after it, or null when the session is gone.
 * The caller writes the attribute rows in the same transaction.
 */
export function updateVersioned(d: Db, id: string, change: SessionChange): number | null {
  const patch = toRow(change.meta ?? {});
  const sets = Object.keys(patch).map((c) => `${c} = @${c}`);
  if (bumpsVersion(change)) sets.push('version = version + 1');
  const statement =
    sets.length > 0
      ? d.sql(`UPDATE ${d.tables.sessions} SET ${sets.join(', ')} WHERE id = @__id RETURNING version`)
      : d.sql(`SELECT version FROM ${d.tables.sessions} WHERE id = @__id`);
  const row = statement.get({ ...patch, __id: id }) as { version: number } | undefined;
  return row ? Number(row.version) : null;
}

/** Moves the row (its attributes follow by ON UPDATE CASCADE) and the version; null when gone. */
export function renameVersioned(d: Db, oldId: string, newId: string): number | null {
  const { sessions } = d.tables;
  if (d.sql(`SELECT 1 FROM ${sessions} WHERE id = ?`).get(oldId) === undefined) return null;
  // Checked in the same IMMEDIATE transaction, so no other writer can take the id meanwhile.
  if (d.sql(`SELECT 1 FROM ${sessions} WHERE id = ?`).get(newId) !== undefined)
    throw new UnisessionError('UNISESSION_SESSION_EXISTS', newId);
  const row = d
    .sql(`UPDATE ${sessions} SET id = ?, version = version + 1 WHERE id = ? RETURNING version`)
    .get(newId, oldId) as { version: number } | undefined;
  return row ? Number(row.version) : null;
}
