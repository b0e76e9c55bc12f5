import type { ListFilter, SessionMeta } from '../../core/store.js';

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
};

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

/**
 * The WHERE clause of a list/count filter, with its values bound (never spliced into the
 * text). `placeholder` is '?' for SQLite, or a function numbering PostgreSQL's `$n`.
 */
export function sqlFilter(
  filter: ListFilter,
  placeholder: '?' | ((n: number) => string),
): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const next = (value: unknown) => {
    params.push(value);
    return placeholder === '?' ? '?' : placeholder(params.length);
  };
  if (filter.app !== undefined) clauses.push(`app = ${next(filter.app)}`);
  if (filter.principal !== undefined) clauses.push(`principal = ${next(filter.principal)}`);
  if (filter.aliveAt !== undefined)
    clauses.push(`(expires_at IS NULL OR expires_at > ${next(filter.aliveAt)})`);
  if (filter.cursor !== undefined) clauses.push(`id > ${next(filter.cursor)}`);
  return { where: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}
