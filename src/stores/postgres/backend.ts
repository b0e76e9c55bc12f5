import type { Pool } from 'pg';
import { UnisessionError } from '../../core/errors.js';
import { type AttributeKey, AUDIT_LOG_LIMIT } from '../../core/store.js';
import type { Backend } from '../kit/backend.js';
import { collectPage, matches } from '../kit/paging.js';
import { bumpsVersion } from '../kit/versions.js';
import { needsAddressCheck, type SessionRow, sqlFilter, sqlPage, toMeta, toRow } from '../sql/rows.js';
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
import { pgCode } from './pool.js';
import type { PostgresTables } from './schema.js';

const UNIQUE_VIOLATION = '23505';

type AttributeRow = SessionRow & { attr_keys: string[] | null; attr_values: string[] | null };

async function query<R>(pool: Pool, text: string, values: unknown[]): Promise<R[]> {
  return (await pool.query(text, values)).rows as R[];
}

/** Sorted so that concurrent writers lock attribute rows in one order (no deadlocks). */
function columns(attrs: Map<AttributeKey, string> | undefined): [string[], string[]] {
  const entries = [...(attrs ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [entries.map(([key]) => key), entries.map(([, value]) => value)];
}

const numbered = (n: number) => `$${n}`;

/**
 * The PostgreSQL operations. Each is one SQL statement (CTEs chain the parts), hence one
 * round trip and atomic without an explicit transaction.
 */
export function postgresBackend(tables: PostgresTables): Backend<Pool> {
  const { sessions, attributes, leases, audit, state, tickets } = tables;
  const ticketStatements = ticketSql(tickets, numbered);
  return {
    async load(pool, id, keys, now, knownVersion) {
      const filter = keys === 'all' ? '' : 'AND key = ANY($4::text[])';
      // One statement: the attributes are read only when the version is not the caller's.
      const known = knownVersion ?? -1;
      const [row] = await query<AttributeRow & { version: number }>(
        pool,
        `SELECT s.*, a.attr_keys, a.attr_values FROM ${sessions} s
         LEFT JOIN LATERAL (SELECT array_agg(key) AS attr_keys, array_agg(value) AS attr_values
                            FROM ${attributes} WHERE session_id = s.id AND s.version <> $3 ${filter}) a ON true
         WHERE s.id = $1 AND (s.expires_at IS NULL OR s.expires_at > $2)`,
        keys === 'all' ? [id, now, known] : [id, now, known, keys],
      );
      if (!row) return null;
      const version = Number(row.version);
      if (version === knownVersion)
        return { meta: toMeta(row), attributes: new Map(), version, unchanged: true };
      const names = row.attr_keys ?? [];
      const values = row.attr_values ?? [];
      return { meta: toMeta(row), attributes: new Map(names.map((key, i) => [key, values[i]!])), version };
    },

    async loadAttributes(pool, id, keys) {
      if (keys.length === 0) return new Map();
      const rows = await query<{ key: string; value: string }>(
        pool,
        `SELECT key, value FROM ${attributes} WHERE session_id = $1 AND key = ANY($2::text[])`,
        [id, keys],
      );
      return new Map(rows.map((row) => [row.key, row.value]));
    },

    async create(pool, meta, attrs) {
      const row = toRow(meta) as SessionRow;
      const [keys, values] = columns(attrs);
      // The attribute insert reads the CTE `s`, so it writes nothing when the id was taken.
      const rows = await query<{ n: number }>(
        pool,
        `WITH s AS (
           INSERT INTO ${sessions} (id, app, created_at, last_accessed_at, max_inactive, expires_at,
             absolute_expires_at, principal, host, client_address, user_agent, created_url, last_url, last_host, version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $14, $15, $16, 1) ON CONFLICT (id) DO NOTHING RETURNING id),
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
          row.created_url,
          row.last_url,
          row.last_host,
        ],
      );
      if (rows[0]?.n !== 1) throw new UnisessionError('UNISESSION_SESSION_EXISTS', meta.id);
      return 1;
    },

    async update(pool, id, change) {
      const patch = toRow(change.meta ?? {});
      const patchColumns = Object.keys(patch);
      const [keys, values] = columns(change.set);
      const params: unknown[] = [id, keys, values, change.remove ?? []];
      // With a metadata patch the UPDATE both writes and locks the row; without one, FOR KEY
      // SHARE keeps a concurrent destroy or rename from slipping between check and write.
      const sets = patchColumns.map((column) => {
        params.push(patch[column as keyof SessionRow]);
        return `${column} = $${params.length}`;
      });
      // The version moves in the same statement as the change it counts (not on a touch).
      if (bumpsVersion(change)) sets.push('version = version + 1');
      const target =
        sets.length > 0
          ? `UPDATE ${sessions} SET ${sets.join(', ')} WHERE id = $1 RETURNING id, version`
          : `SELECT id, version FROM ${sessions} WHERE id = $1 FOR KEY SHARE`;
      const rows = await query<{ n: number; version: number | null }>(
        pool,
        `WITH s AS (${target}),
         up AS (INSERT INTO ${attributes} (session_id, key, value)
           SELECT s.id, u.k, u.v FROM s, unnest($2::text[], $3::text[]) AS u(k, v)
           ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value),
         del AS (DELETE FROM ${attributes} a USING s WHERE a.session_id = s.id AND a.key = ANY($4::text[]))
         SELECT count(*)::int AS n, max(s.version)::int AS version FROM s`,
        params,
      );
      if (rows[0]?.n !== 1) return false;
      // A row from before versions stays at 0 through touches: "applied" is then true, never a falsy 0.
      return Number(rows[0].version) || true;
    },

    async destroy(pool, id) {
      const [row] = await query<SessionRow>(pool, `DELETE FROM ${sessions} WHERE id = $1 RETURNING *`, [id]);
      return row ? toMeta(row) : null;
    },

    async rename(pool, oldId, newId) {
      try {
        // ON UPDATE CASCADE moves the attribute rows in the same statement.
        const rows = await query<{ version: number }>(
          pool,
          `UPDATE ${sessions} SET id = $2, version = version + 1 WHERE id = $1 RETURNING version`,
          [oldId, newId],
        );
        return rows[0] ? Number(rows[0].version) : false;
      } catch (error) {
        if (pgCode(error) === UNIQUE_VIOLATION) {
          throw new UnisessionError('UNISESSION_SESSION_EXISTS', newId, { cause: error });
        }
        throw error;
      }
    },

    listing: {
      async list(pool, listQuery) {
        return collectPage(listQuery, async (after, limit) => {
          const { text, params } = sqlPage(sessions, { ...listQuery, after }, limit, numbered);
          return (await query<SessionRow>(pool, text, params)).map(toMeta);
        });
      },
      async count(pool, filter) {
        const { where, params } = sqlFilter(filter, numbered);
        if (needsAddressCheck(filter)) {
          // Only what the address check needs; pre-filtered by text prefix when the block allows.
          const rows = await query<SessionRow>(pool, `SELECT * FROM ${sessions} ${where}`, params);
          return rows.filter((row) => matches(toMeta(row), filter)).length;
        }
        const [row] = await query<{ n: number }>(
          pool,
          `SELECT count(*)::int AS n FROM ${sessions} ${where}`,
          params,
        );
        return row?.n ?? 0;
      },
    },

    stats: {
      async compute(pool, statsQuery) {
        const [live, hosts, expired] = statsStatements(tables, statsQuery, numbered).map((statement) =>
          query<Record<string, unknown>>(pool, statement.text, statement.params),
        );
        return statsFromRows(statsQuery, (await live!)[0]!, await hosts!, (await expired!)[0]!);
      },
      async noteSweep(pool, record) {
        await query(
          pool,
          `INSERT INTO ${state} (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
          [LAST_SWEEP, sweepText(record)],
        );
      },
      async lastSweep(pool) {
        const [row] = await query<{ value: string }>(pool, `SELECT value FROM ${state} WHERE name = $1`, [
          LAST_SWEEP,
        ]);
        return sweepFromText(row?.value);
      },
    },

    audit: {
      async append(pool, entry) {
        // One statement: the insert, and the trim to the newest AUDIT_LOG_LIMIT by sequence.
        await query(
          pool,
          `WITH i AS (INSERT INTO ${audit} (at, actor, scope, action, target, count, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq)
           DELETE FROM ${audit} WHERE seq <= (SELECT seq FROM i) - $8`,
          [
            entry.at,
            entry.actor,
            entry.scope,
            entry.action,
            entry.target,
            entry.count,
            entry.detail === undefined ? null : JSON.stringify(entry.detail),
            AUDIT_LOG_LIMIT,
          ],
        );
      },
      async list(pool, limit, before) {
        const rows = await query<AuditRow>(
          pool,
          `SELECT * FROM ${audit} WHERE seq < $1 ORDER BY seq DESC LIMIT $2`,
          [before ?? String(Number.MAX_SAFE_INTEGER), limit + 1],
        );
        return rows.map(auditFromRow);
      },
    },

    principals: {
      async find(pool, principal) {
        const rows = await query<{ id: string }>(pool, `SELECT id FROM ${sessions} WHERE principal = $1`, [
          principal,
        ]);
        return rows.map((row) => row.id);
      },
    },

    sweeping: {
      async sweep(pool, now, limit) {
        // SKIP LOCKED lets two sweepers share the work instead of queueing on the same rows.
        const rows = await query<SessionRow>(
          pool,
          `DELETE FROM ${sessions} WHERE id IN (
             SELECT id FROM ${sessions} WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
           RETURNING *`,
          [now, limit],
        );
        return rows.map(toMeta);
      },
    },

    leases: {
      async acquire(pool, name, holder, ttlMs, now) {
        // The conditional upsert returns a row only when `holder` holds the lease afterwards.
        const rows = await query<{ holder: string }>(
          pool,
          `INSERT INTO ${leases} (name, holder, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
           WHERE ${leases}.holder = excluded.holder OR ${leases}.expires_at <= $4
           RETURNING holder`,
          [name, holder, now + ttlMs, now],
        );
        return rows.length > 0;
      },
    },

    tickets: {
      async put(pool, key, value, ttlMs, now) {
        // One statement: the prune rides along as a CTE (it spares the key being put, which
        // one statement must not both delete and upsert).
        await query(
          pool,
          `WITH pruned AS (DELETE FROM ${tickets} WHERE expires_at <= $4 AND key <> $1) ${ticketStatements.put}`,
          [key, value, now + ttlMs, now],
        );
      },
      async take(pool, key, now) {
        const [row] = await query<{ value: string; expires_at: string }>(pool, ticketStatements.take, [key]);
        return takenValue(row, now);
      },
    },
  };
}
