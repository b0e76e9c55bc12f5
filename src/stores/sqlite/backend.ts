import { UnisessionError } from '../../core/errors.js';
import { type AttributeKey, AUDIT_LOG_LIMIT } from '../../core/store.js';
import type { Backend } from '../kit/backend.js';
import { collectPage, matches } from '../kit/paging.js';
import { needsAddressCheck, type SessionRow, sqlFilter, sqlPage, toMeta } from '../sql/rows.js';
import {
  type AuditRow,
  auditFromRow,
  LAST_SWEEP,
  statsFromRows,
  statsStatements,
  sweepFromText,
  sweepText,
} from '../sql/stats.js';
import { takenValue, ticketSql } from '../sql/tickets.js';
import type { SqliteDatabase } from './database.js';
import { insertVersioned, loadVersioned, renameVersioned, updateVersioned } from './versions.js';

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

/** The SQLite operations. Every write is one IMMEDIATE transaction (see `SqliteDatabase.write`). */
export const sqliteBackend: Backend<Db> = {
  async load(d, id, keys, now, knownVersion) {
    return loadVersioned(d, id, keys, now, knownVersion);
  },

  async loadAttributes(d, id, keys) {
    return readAttributes(d, id, keys);
  },

  async create(d, meta, attributes) {
    return d.write(() => {
      if (!insertVersioned(d, meta)) throw new UnisessionError('UNISESSION_SESSION_EXISTS', meta.id);
      writeAttributes(d, meta.id, attributes);
      return 1;
    });
  },

  async update(d, id, change) {
    return d.write(() => {
      const version = updateVersioned(d, id, change);
      if (version === null) return false;
      writeAttributes(d, id, change.set, change.remove);
      // A row from before versions stays at 0 through touches: "applied" is then true, never a falsy 0.
      return version || true;
    });
  },

  async destroy(d, id) {
    const row = d.sql(`DELETE FROM ${d.tables.sessions} WHERE id = ? RETURNING *`).get(id) as
      | SessionRow
      | undefined;
    return row ? toMeta(row) : null;
  },

  async rename(d, oldId, newId) {
    return d.write(() => renameVersioned(d, oldId, newId) ?? false);
  },

  listing: {
    async list(d, query) {
      // Bound like every other value: the text of a statement never carries a caller's input.
      return collectPage(query, async (after, limit) => {
        const { text, params } = sqlPage(d.tables.sessions, { ...query, after }, limit, '?');
        return (d.sql(text).all(...params) as SessionRow[]).map(toMeta);
      });
    },
    async count(d, filter) {
      const { where, params } = sqlFilter(filter, '?');
      if (needsAddressCheck(filter)) {
        let n = 0;
        for (const row of d.sql(`SELECT * FROM ${d.tables.sessions} ${where}`).iterate(...params))
          if (matches(toMeta(row as SessionRow), filter)) n++;
        return n;
      }
      return (
        d.sql(`SELECT count(*) AS n FROM ${d.tables.sessions} ${where}`).get(...params) as { n: number }
      ).n;
    },
  },

  stats: {
    async compute(d, query) {
      const [live, hosts, expired] = statsStatements(d.tables, query, '?');
      return statsFromRows(
        query,
        d.sql(live!.text).get(...live!.params) as Record<string, unknown>,
        d.sql(hosts!.text).all(...hosts!.params) as Array<Record<string, unknown>>,
        d.sql(expired!.text).get(...expired!.params) as Record<string, unknown>,
      );
    },
    async noteSweep(d, record) {
      d.sql(
        `INSERT INTO ${d.tables.state} (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
      ).run(LAST_SWEEP, sweepText(record));
    },
    async lastSweep(d) {
      const row = d.sql(`SELECT value FROM ${d.tables.state} WHERE name = ?`).get(LAST_SWEEP) as
        | { value: string }
        | undefined;
      return sweepFromText(row?.value);
    },
  },

  audit: {
    async append(d, entry) {
      const { audit } = d.tables;
      d.write(() => {
        const { lastInsertRowid } = d
          .sql(
            `INSERT INTO ${audit} (at, actor, scope, action, target, count, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            entry.at,
            entry.actor,
            entry.scope,
            entry.action,
            entry.target,
            entry.count,
            entry.detail === undefined ? null : JSON.stringify(entry.detail),
          );
        // Keeps the newest AUDIT_LOG_LIMIT: a range delete on the primary key.
        d.sql(`DELETE FROM ${audit} WHERE seq <= ?`).run(Number(lastInsertRowid) - AUDIT_LOG_LIMIT);
      });
    },
    async list(d, limit, before) {
      const rows = d
        .sql(`SELECT * FROM ${d.tables.audit} WHERE seq < ? ORDER BY seq DESC LIMIT ?`)
        .all(before === undefined ? Number.MAX_SAFE_INTEGER : Number(before), limit + 1) as AuditRow[];
      return rows.map(auditFromRow);
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
