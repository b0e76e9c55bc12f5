import { UnisessionError } from '../../core/errors.js';
import type { AttributeKey } from '../../core/store.js';
import type { Backend } from '../kit/backend.js';
import { pageOf } from '../kit/paging.js';
import { type SessionRow, sqlFilter, toMeta, toRow } from '../sql/rows.js';
import { takenValue, ticketSql } from '../sql/tickets.js';
import type { SqliteDatabase } from './database.js';

type Db = SqliteDatabase;

function readAttributes(d: Db, id: string, keys: AttributeKey[] | 'all'): Map<AttributeKey, string> {
  const { attributes } = d.tables;
  const rows = (
    keys === 'all'
      ? d.sql(`SELECT key, value FROM ${attributes} WHERE session_id = ?`).all(id)
      : keys.length === 0
        ? []
        : d
            .sql(
              `SELECT key, value FROM ${attributes} WHERE session_id = ? AND key IN (SELECT value FROM json_each(?))`,
            )
            .all(id, JSON.stringify(keys))
  ) as Array<{ key: string; value: string }>;
  return new Map(rows.map((row) => [row.key, row.value]));
}

function writeAttributes(
  d: Db,
  id: string,
  set: Map<AttributeKey, string> | undefined,
  remove: AttributeKey[] = [],
): void {
  const { attributes } = d.tables;
  const upsert = d.sql(
    `INSERT INTO ${attributes} (session_id, key, value) VALUES (?, ?, ?) ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value`,
  );
  for (const [key, value] of set ?? []) upsert.run(id, key, value);
  const del = d.sql(`DELETE FROM ${attributes} WHERE session_id = ? AND key = ?`);
  for (const key of remove) del.run(id, key);
}

const exists = (d: Db, id: string) =>
  d.sql(`SELECT 1 FROM ${d.tables.sessions} WHERE id = ?`).get(id) !== undefined;

/** The SQLite operations. Every write is one IMMEDIATE transaction (see `SqliteDatabase.write`). */
export const sqliteBackend: Backend<Db> = {
  async load(d, id, keys, now) {
    const row = d
      .sql(`SELECT * FROM ${d.tables.sessions} WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)`)
      .get(id, now) as SessionRow | undefined;
    return row ? { meta: toMeta(row), attributes: readAttributes(d, id, keys) } : null;
  },

  async loadAttributes(d, id, keys) {
    return readAttributes(d, id, keys);
  },

  async create(d, meta, attributes) {
    d.write(() => {
      const result = d
        .sql(
          `INSERT INTO ${d.tables.sessions} VALUES (@id, @app, @created_at, @last_accessed_at, @max_inactive, @expires_at, @absolute_expires_at, @principal, @host, @client_address, @user_agent) ON CONFLICT (id) DO NOTHING`,
        )
        .run(toRow(meta));
      if (result.changes === 0) throw new UnisessionError('UNISESSION_SESSION_EXISTS', meta.id);
      writeAttributes(d, meta.id, attributes);
    });
  },

  async update(d, id, change) {
    return d.write(() => {
      const patch = toRow(change.meta ?? {});
      const columns = Object.keys(patch);
      const found =
        columns.length > 0
          ? d
              .sql(
                `UPDATE ${d.tables.sessions} SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @__id`,
              )
              .run({ ...patch, __id: id }).changes > 0
          : exists(d, id);
      if (found) writeAttributes(d, id, change.set, change.remove);
      return found;
    });
  },

  async destroy(d, id) {
    const row = d.sql(`DELETE FROM ${d.tables.sessions} WHERE id = ? RETURNING *`).get(id) as
      | SessionRow
      | undefined;
    return row ? toMeta(row) : null;
  },

  async rename(d, oldId, newId) {
    return d.write(() => {
      if (!exists(d, oldId)) return false;
      // Checked in the same IMMEDIATE transaction, so no other writer can take the id meanwhile.
      if (exists(d, newId)) throw new UnisessionError('UNISESSION_SESSION_EXISTS', newId);
      // ON UPDATE CASCADE moves the attribute rows in the same statement.
      return d.sql(`UPDATE ${d.tables.sessions} SET id = ? WHERE id = ?`).run(newId, oldId).changes > 0;
    });
  },

  listing: {
    async list(d, filter) {
      const { where, params } = sqlFilter(filter, '?');
      // Bound like every other value: the text of a statement never carries a caller's input.
      const rows = d
        .sql(`SELECT * FROM ${d.tables.sessions} ${where} ORDER BY id LIMIT ?`)
        .all(...params, filter.limit + 1) as SessionRow[];
      return pageOf(rows.map(toMeta), filter.limit);
    },
    async count(d, filter) {
      const { where, params } = sqlFilter(filter, '?');
      return (
        d.sql(`SELECT count(*) AS n FROM ${d.tables.sessions} ${where}`).get(...params) as { n: number }
      ).n;
    },
  },

  principals: {
    async find(d, principal) {
      const rows = d.sql(`SELECT id FROM ${d.tables.sessions} WHERE principal = ?`).all(principal) as Array<{
        id: string;
      }>;
      return rows.map((row) => row.id);
    },
  },

  sweeping: {
    async sweep(d, now, limit) {
      const { sessions } = d.tables;
      const rows = d
        .sql(
          `DELETE FROM ${sessions} WHERE id IN (SELECT id FROM ${sessions} WHERE expires_at <= ? LIMIT ?) RETURNING *`,
        )
        .all(now, limit) as SessionRow[];
      return rows.map(toMeta);
    },
  },

  leases: {
    async acquire(d, name, holder, ttlMs, now) {
      const { leases } = d.tables;
      return d.write(() => {
        d.sql(
          `INSERT INTO ${leases} (name, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at WHERE ${leases}.holder = excluded.holder OR ${leases}.expires_at <= ?`,
        ).run(name, holder, now + ttlMs, now);
        const row = d.sql(`SELECT holder FROM ${leases} WHERE name = ?`).get(name) as { holder: string };
        return row.holder === holder;
      });
    },
  },

  tickets: {
    async put(d, key, value, ttlMs, now) {
      const sql = ticketSql(d.tables.tickets, () => '?');
      d.write(() => {
        d.sql(sql.prune).run(now, key);
        d.sql(sql.put).run(key, value, now + ttlMs);
      });
    },
    async take(d, key, now) {
      const sql = ticketSql(d.tables.tickets, () => '?');
      const row = d.write(() => d.sql(sql.take).get(key)) as
        | { value: string; expires_at: number }
        | undefined;
      return takenValue(row, now);
    },
  },
};
