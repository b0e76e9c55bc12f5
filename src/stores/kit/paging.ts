import type { CountFilter, ListFilter, ListPage, ListSort, SessionMeta } from '../../core/store.js';
import { invalidArgument } from '../../core/validate.js';
import { parseAddressFilter } from './address.js';

/**
 * Whether a session matches a list or count filter, for stores that filter in process
 * (memory, and Redis, whose indexes may hold entries a filter must still check), and for the
 * address check SQL and MongoDB finish in process. Bounds: `...After` inclusive, `...Before` exclusive.
 */
export function matches(meta: SessionMeta, filter: CountFilter): boolean {
  const { clientAddress } = filter;
  return (
    (filter.app === undefined || meta.app === filter.app) &&
    (filter.principal === undefined || meta.principal === filter.principal) &&
    (filter.aliveAt === undefined || meta.expiresAt === null || meta.expiresAt > filter.aliveAt) &&
    (filter.id === undefined || meta.id === filter.id) &&
    (filter.idPrefix === undefined || meta.id.startsWith(filter.idPrefix)) &&
    (filter.host === undefined || meta.host === filter.host) &&
    (filter.lastHost === undefined || meta.lastHost === filter.lastHost) &&
    (filter.authenticated === undefined || (meta.principal !== null) === filter.authenticated) &&
    (filter.createdAfter === undefined || meta.createdAt >= filter.createdAfter) &&
    (filter.createdBefore === undefined || meta.createdAt < filter.createdBefore) &&
    (filter.accessedAfter === undefined || meta.lastAccessedAt >= filter.accessedAfter) &&
    (filter.accessedBefore === undefined || meta.lastAccessedAt < filter.accessedBefore) &&
    (filter.expiresBefore === undefined ||
      (meta.expiresAt !== null && meta.expiresAt < filter.expiresBefore)) &&
    (clientAddress === undefined || (parseAddressFilter(clientAddress)?.matches(meta.clientAddress) ?? false))
  );
}

/** The sort and order of a list filter, with the defaults applied. */
export interface Ordering {
  sort: ListSort;
  order: 'asc' | 'desc';
}

export function orderingOf(filter: Pick<ListFilter, 'sort' | 'order'>): Ordering {
  const sort = filter.sort ?? 'id';
  return { sort, order: filter.order ?? (sort === 'id' ? 'asc' : 'desc') };
}

/** The sort key of a session: its time for the time sorts (ties by id), its id alone for `id`. */
export function sortValue(meta: SessionMeta, sort: ListSort): number | null {
  return sort === 'id' ? null : meta[sort];
}

/** The position a cursor names: just after the session with this sort value and id. */
export interface Position {
  value: number | null;
  id: string;
}

/** Compares two sessions in the listing's order (ties broken by id, in the same direction). */
export function compareIn(ordering: Ordering): (a: SessionMeta, b: SessionMeta) => number {
  const sign = ordering.order === 'asc' ? 1 : -1;
  return (a, b) => sign * comparePositions(positionOf(a, ordering.sort), positionOf(b, ordering.sort));
}

function positionOf(meta: SessionMeta, sort: ListSort): Position {
  return { value: sortValue(meta, sort), id: meta.id };
}

function comparePositions(a: Position, b: Position): number {
  if (a.value !== null && b.value !== null && a.value !== b.value) return a.value - b.value;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Whether `meta` comes after the cursor's position in this order. */
export function isAfter(meta: SessionMeta, position: Position, ordering: Ordering): boolean {
  const sign = ordering.order === 'asc' ? 1 : -1;
  return sign * comparePositions(positionOf(meta, ordering.sort), position) > 0;
}

const CURSOR_VERSION = 'c1';
const SORT_CODES: Record<ListSort, string> = { id: 'i', lastAccessedAt: 'l', createdAt: 'c' };

/**
 * The opaque cursor after `meta`: base64url of `c1.<sort><order>.<value>.<id>`. It says which
 * order it belongs to, so a cursor made for another order is refused rather than misread.
 */
export function encodeCursor(meta: SessionMeta, ordering: Ordering): string {
  const value = sortValue(meta, ordering.sort);
  const text = `${CURSOR_VERSION}.${SORT_CODES[ordering.sort]}${ordering.order[0]}.${value ?? ''}.${meta.id}`;
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** The position a cursor names; UNISESSION_INVALID_ARGUMENT when forged or made for another order. */
export function decodeCursor(where: string, cursor: string, ordering: Ordering): Position {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = /^c1\.([ilc])([ad])\.(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)?\.(.+)$/s.exec(text);
  const expected = `${SORT_CODES[ordering.sort]}${ordering.order[0]}`;
  if (!match || `${match[1]}${match[2]}` !== expected) {
    throw invalidArgument(where, 'cursor', `a cursor from a previous page of this sort and order`, cursor);
  }
  const value = match[3] === undefined ? null : Number(match[3]);
  if ((ordering.sort === 'id') !== (value === null) || (value !== null && !Number.isFinite(value))) {
    throw invalidArgument(where, 'cursor', 'a cursor from a previous page of this sort and order', cursor);
  }
  return { value, id: match[4]! };
}

/**
 * The page for `found`: the matching sessions after the cursor, in the listing's order, of
 * which the backend read one more than `limit` when it could, which tells whether another
 * page follows.
 */
export function pageOf(
  found: readonly SessionMeta[],
  limit: number,
  ordering: Ordering = ID_ORDER,
): ListPage {
  const sessions = found.slice(0, limit);
  return found.length > limit
    ? { sessions, next: encodeCursor(sessions[limit - 1]!, ordering) }
    : { sessions };
}

export const ID_ORDER: Ordering = { sort: 'id', order: 'asc' };

/**
 * The rows of one page when part of the filter (a client address or CIDR block) is checked
 * in process: `read` fetches the next rows in order from the backend's pre-filtered query,
 * in batches, until the page (plus one) is full or the rows run out. Without an address
 * filter it is one read of `limit + 1` rows.
 */
export async function collectPage(
  query: { filter: CountFilter; limit: number; ordering: Ordering; after?: Position },
  read: (after: Position | undefined, limit: number) => Promise<SessionMeta[]>,
): Promise<SessionMeta[]> {
  if (query.filter.clientAddress === undefined) return read(query.after, query.limit + 1);
  const batch = Math.max(200, query.limit + 1);
  const found: SessionMeta[] = [];
  let after = query.after;
  for (;;) {
    const rows = await read(after, batch);
    for (const meta of rows) if (matches(meta, query.filter)) found.push(meta);
    if (found.length > query.limit || rows.length < batch) return found.slice(0, query.limit + 1);
    const last = rows[rows.length - 1]!;
    after = { value: sortValue(last, query.ordering.sort), id: last.id };
  }
}
