import type { Pool } from 'pg';
import { UnisessionError } from '../../core/errors.js';
import type { AttributeKey } from '../../core/store.js';
import type { Backend } from '../kit/backend.js';
import { pageOf } from '../kit/paging.js';
import { type SessionRow, sqlFilter, toMeta, toRow } from '../sql/rows.js';
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
export function postgresBackend({ sessions, attributes, leases, tickets }: PostgresTables): Backend<Pool> {
  const ticketStatements = ticketSql(tickets, numbered);
  return {
    async load(pool, id, keys, now) {
      const filter = keys === 'all' ? '' : 'AND key = ANY($3::text[])';
      const [row] = await query<AttributeRow>(
        pool,
        `SELECT s.*, a.attr_keys, a.attr_values FROM ${sessions} s
         LEFT JOIN LATERAL (SELECT array_agg(key) AS attr_keys, array_agg(value) AS attr_values
                            FROM ${attributes} WHERE session_id = s.id ${filter}) a ON true
         WHERE s.id = $1 AND (s.expires_at IS NULL OR s.expires_at > $2)`,
        keys === 'all' ? [id, now] : [id, now, keys],
      );
      if (!row) return null;
      const names = row.attr_keys ?? [];
      const values = row.attr_values ?? [];
      return { meta: toMeta(row), attributes: new Map(names.map((key, i) => [key, values[i]!])) };
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

    async update(pool, id, change) {
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
        pool,
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

    async destroy(pool, id) {
      const [row] = await query<SessionRow>(pool, `DELETE FROM ${sessions} WHERE id = $1 RETURNING *`, [id]);
      return row ? toMeta(row) : null;
    },

    async rename(pool, oldId, newId) {
      try {
        // ON UPDATE CASCADE moves the attribute rows in the same statement.
        const rows = await query<{ id: string }>(
          pool,
          `UPDATE ${sessions} SET id = $2 WHERE id = $1 RETURNING id`,
          [oldId, newId],
        );
        return rows.length > 0;
      } catch (error) {
        if (pgCode(error) === UNIQUE_VIOLATION) {
          throw new UnisessionError('UNISESSION_SESSION_EXISTS', newId, { cause: error });
        }
        throw error;
      }
    },

    listing: {
      async list(pool, filter) {
        const { where, params } = sqlFilter(filter, numbered);
        const rows = await query<SessionRow>(
          pool,
          `SELECT * FROM ${sessions} ${where} ORDER BY id LIMIT $${params.length + 1}`,
          [...params, filter.limit + 1],
        );
        return pageOf(rows.map(toMeta), filter.limit);
      },
      async count(pool, filter) {
        const { where, params } = sqlFilter(filter, numbered);
        const [row] = await query<{ n: number }>(
          pool,
          `SELECT count(*)::int AS n FROM ${sessions} ${where}`,
          params,
        );
        return row?.n ?? 0;
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
