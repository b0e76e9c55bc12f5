import type { CountFilter, SessionMeta } from '../../core/store.js';
import { parseAddressFilter } from '../kit/address.js';
import type { ListQuery } from '../kit/backend.js';

/** A sessions-table row, as the SQL stores (SQLite, PostgreSQL) lay it out. */
export interface SessionRow {
  id: string;
  app: string;
  created_at: number;
  last_accessed_at: number;
  max_inactive: number;
  expires_at: number | null;
  absolute_expires_at: number | null;
  principal: string | null;
  host: string;
  client_address: string;
  user_agent: string;
  created_url: string;
  last_url: string;
  last_host: string;
}

const COLUMNS: Record<keyof SessionMeta, keyof SessionRow> = {
  id: 'id',
  app: 'app',
  createdAt: 'created_at',
  lastAccessedAt: 'last_accessed_at',
  maxInactive: 'max_inactive',
  expiresAt: 'expires_at',
  absoluteExpiresAt: 'absolute_expires_at',
  principal: 'principal',
  host: 'host',
  clientAddress: 'client_address',
  userAgent: 'user_agent',
  createdUrl: 'created_url',
  lastUrl: 'last_url',
  lastHost: 'last_host',
};

/** Every column of the sessions table, in the order of `INSERT` values. */
export const SESSION_COLUMNS = Object.values(COLUMNS);

/** Drivers may hand back BIGINT columns as strings (pg) or bigint; metadata wants numbers. */
const asNumber = (value: unknown): number => Number(value);
const asNullableNumber = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);

export function toMeta(row: SessionRow): SessionMeta {
  return {
    id: row.id,
    app: row.app,
    createdAt: asNumber(row.created_at),
    lastAccessedAt: asNumber(row.last_accessed_at),
    maxInactive: asNumber(row.max_inactive),
    expiresAt: asNullableNumber(row.expires_at),
    absoluteExpiresAt: asNullableNumber(row.absolute_expires_at),
    principal: row.principal,
    host: row.host,
    clientAddress: row.client_address,
    userAgent: row.user_agent,
    createdUrl: row.created_url ?? '',
    lastUrl: row.last_url ?? '',
    lastHost: row.last_host ?? '',
  };
}

/** The columns of (part of) the metadata; only the fields present are returned. */
export function toRow(meta: Partial<SessionMeta>): Partial<SessionRow> {
  const row: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(meta)) {
    const column = COLUMNS[field as keyof SessionMeta];
    if (column && value !== undefined) row[column] = value;
  }
  return row as Partial<SessionRow>;
}

type Placeholder = '?' | ((n: number) => string);

/** Collects bound values and hands out their placeholders. */
class Binder {
  readonly params: unknown[] = [];
  constructor(private readonly placeholder: Placeholder) {}
  next(value: unknown): string {
    this.params.push(value);
    return this.placeholder === '?' ? '?' : this.placeholder(this.params.length);
  }
}

/** Escapes LIKE's wildcards, so a prefix matches literally (with `ESCAPE '\'`). */
const likePrefix = (text: string) => `${text.replace(/[\\%_]/g, '\\$&')}%`;

/**
 * The conditions of a list/count filter, with its values bound (never spliced into the text).
 * A CIDR block narrows by text prefix here when it can (also in its `::ffff:` form); the
 * caller finishes the address match in process (`needsAddressCheck`).
 */
function filterClauses(filter: CountFilter, bind: Binder): string[] {
  const clauses: string[] = [];
  const equal = (column: string, value: unknown) => {
    if (value !== undefined) clauses.push(`${column} = ${bind.next(value)}`);
  };
  equal('app', filter.app);
  equal('principal', filter.principal);
  equal('id', filter.id);
  equal('host', filter.host);
  equal('last_host', filter.lastHost);
  if (filter.aliveAt !== undefined)
    clauses.push(`(expires_at IS NULL OR expires_at > ${bind.next(filter.aliveAt)})`);
  // substr, not LIKE: SQLite's LIKE ignores ASCII case, and ids are case-sensitive.
  if (filter.idPrefix !== undefined)
    clauses.push(
      `substr(id, 1, ${bind.next(Array.from(filter.idPrefix).length)}) = ${bind.next(filter.idPrefix)}`,
    );
  if (filter.authenticated !== undefined)
    clauses.push(filter.authenticated ? 'principal IS NOT NULL' : 'principal IS NULL');
  const range = (column: string, operator: '>=' | '<', value: number | undefined) => {
    if (value !== undefined) clauses.push(`${column} ${operator} ${bind.next(value)}`);
  };
  range('created_at', '>=', filter.createdAfter);
  range('created_at', '<', filter.createdBefore);
  range('last_accessed_at', '>=', filter.accessedAfter);
  range('last_accessed_at', '<', filter.accessedBefore);
  range('expires_at', '<', filter.expiresBefore);
  if (filter.clientAddress !== undefined) {
    const prefix = parseAddressFilter(filter.clientAddress)?.prefix ?? '';
    if (prefix !== '')
      clauses.push(
        `(client_address LIKE ${bind.next(likePrefix(prefix))} ESCAPE '\\' OR client_address LIKE ${bind.next(likePrefix(`::ffff:${prefix}`))} ESCAPE '\\')`,
      );
  }
  return clauses;
}

const where = (clauses: string[]) => (clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '');

/** Whether part of the filter (a client address or CIDR block) must be checked in process. */
export function needsAddressCheck(filter: CountFilter): boolean {
  return filter.clientAddress !== undefined;
}

/**
 * The WHERE clause of a count filter. `placeholder` is '?' for SQLite, or a function
 * numbering PostgreSQL's `$n`.
 */
export function sqlFilter(
  filter: CountFilter,
  placeholder: Placeholder,
): { where: string; params: unknown[] } {
  const bind = new Binder(placeholder);
  return { where: where(filterClauses(filter, bind)), params: bind.params };
}

const SORT_COLUMNS = { id: 'id', lastAccessedAt: 'last_accessed_at', createdAt: 'created_at' } as const;

/**
 * One page's SELECT: the filter, "after the cursor" as a row-value comparison (which both
 * SQLite and PostgreSQL answer from the (time, id) indexes), the order, and `limit` rows.
 */
export function sqlPage(
  table: string,
  query: ListQuery,
  limit: number,
  placeholder: Placeholder,
): { text: string; params: unknown[] } {
  const bind = new Binder(placeholder);
  const clauses = filterClauses(query.filter, bind);
  const { sort, order } = query.ordering;
  const column = SORT_COLUMNS[sort];
  const direction = order === 'asc' ? 'ASC' : 'DESC';
  const beyond = order === 'asc' ? '>' : '<';
  if (query.after) {
    clauses.push(
      sort === 'id' || query.after.value === null
        ? `id ${beyond} ${bind.next(query.after.id)}`
        : `(${column}, id) ${beyond} (${bind.next(query.after.value)}, ${bind.next(query.after.id)})`,
    );
  }
  const orderBy = sort === 'id' ? `id ${direction}` : `${column} ${direction}, id ${direction}`;
  const text = `SELECT * FROM ${table} ${where(clauses)} ORDER BY ${orderBy} LIMIT ${bind.next(limit)}`;
  return { text, params: bind.params };
}
