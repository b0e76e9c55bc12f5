import type { SessionQuery } from '../core/admin-types.js';

/*
 * The search filters of the API and the UI, read from a URL's query string. Every value is
 * checked here and a bad one is a `QueryError` (a 400 naming the parameter); the manager
 * checks the assembled filter again before any store sees it.
 */

export class QueryError extends Error {
  override readonly name = 'QueryError';
}

/** `90s`, `15m`, `2h`, `7d` or plain milliseconds. */
export function parseDuration(name: string, text: string): number {
  const match = /^(\d{1,12})(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match)
    throw new QueryError(
      `${name} must be a duration such as 90s, 15m, 2h, 7d or milliseconds, got "${text}"`,
    );
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 'ms'] ?? 1;
  return Number(match[1]) * unit;
}

/** An ISO date (`2026-01-31`, `2026-01-31T12:00`) or epoch milliseconds. */
export function parseTime(name: string, text: string): number {
  const trimmed = text.trim();
  const value = /^\d{1,15}$/.test(trimmed) ? Number(trimmed) : Date.parse(trimmed);
  if (!Number.isFinite(value))
    throw new QueryError(`${name} must be an ISO date or epoch milliseconds, got "${text}"`);
  return value;
}

const STRING_FILTERS = ['id', 'idPrefix', 'principal', 'clientAddress', 'host', 'lastHost', 'app'] as const;
const TIME_FILTERS = [
  'createdAfter',
  'createdBefore',
  'accessedAfter',
  'accessedBefore',
  'expiresBefore',
] as const;

/** The query parameters a search takes (the UI's form fields have the same names). */
export const QUERY_PARAMETERS = [
  ...STRING_FILTERS,
  ...TIME_FILTERS,
  'authenticated',
  'idleLongerThan',
  'sort',
  'order',
  'limit',
  'cursor',
] as const;

/**
 * The filter a query string asks for. Empty fields count as absent (an HTML form sends every
 * field). Unknown parameters are refused, so a misspelt filter never silently matches all.
 */
export function parseQuery(params: URLSearchParams, ignore: readonly string[] = []): SessionQuery {
  const query: SessionQuery = {};
  const known = new Set<string>([...QUERY_PARAMETERS, ...ignore]);
  for (const key of params.keys()) {
    if (!known.has(key)) throw new QueryError(`unknown search parameter "${key.slice(0, 40)}"`);
  }
  const get = (name: string): string | undefined => {
    const value = params.get(name)?.trim();
    if (value && value.length > 512) throw new QueryError(`${name} is longer than 512 characters`);
    return value ? value : undefined;
  };
  for (const name of STRING_FILTERS) {
    const value = get(name);
    if (value !== undefined) query[name] = value;
  }
  for (const name of TIME_FILTERS) {
    const value = get(name);
    if (value !== undefined) query[name] = parseTime(name, value);
  }
  const authenticated = get('authenticated');
  if (authenticated !== undefined) {
    if (authenticated !== 'true' && authenticated !== 'false') {
      throw new QueryError(`authenticated must be true or false, got "${authenticated}"`);
    }
    query.authenticated = authenticated === 'true';
  }
  const idle = get('idleLongerThan');
  if (idle !== undefined) query.idleLongerThan = parseDuration('idleLongerThan', idle);
  const sort = get('sort');
  if (sort !== undefined) {
    if (sort !== 'id' && sort !== 'lastAccessedAt' && sort !== 'createdAt') {
      throw new QueryError(`sort must be id, lastAccessedAt or createdAt, got "${sort}"`);
    }
    query.sort = sort;
  }
  const order = get('order');
  if (order !== undefined) {
    if (order !== 'asc' && order !== 'desc')
      throw new QueryError(`order must be asc or desc, got "${order}"`);
    query.order = order;
  }
  const limit = get('limit');
  if (limit !== undefined) {
    const value = Number(limit);
    if (!/^\d{1,4}$/.test(limit) || value < 1 || value > 1000) {
      throw new QueryError(`limit must be a whole number from 1 to 1000, got "${limit}"`);
    }
    query.limit = value;
  }
  const cursor = get('cursor');
  if (cursor !== undefined) query.cursor = cursor;
  return query;
}

/** The query string of a filter (for links: the next page, the CSV export of this search). */
export function formatQuery(query: SessionQuery, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    params.set(key, String(value));
  }
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}
