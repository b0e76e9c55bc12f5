import type { CountFilter, ListFilter } from '../../core/store.js';
import { checkString, invalidArgument } from '../../core/validate.js';
import { isAddressFilter } from './address.js';

/**
 * The argument checks every store method makes before its backend sees a value. The manager
 * checks its own arguments first; these are the defence in depth for code that calls a store
 * directly: a value of the wrong type (an object where an id belongs, `{ $ne: null }`) would
 * be read as an operator by some backends and match every session, so it is refused with
 * UNISESSION_INVALID_ARGUMENT, never matched.
 */
export { checkLimit, checkString } from '../../core/validate.js';

export function checkFinite(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidArgument(where, name, 'a finite number', value);
  }
  return value;
}

export function checkPositiveInteger(where: string, name: string, value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw invalidArgument(where, name, 'an integer > 0', value);
  }
  return value as number;
}

export function checkNonNegativeInteger(where: string, name: string, value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw invalidArgument(where, name, 'an integer >= 0', value);
  }
  return value as number;
}
const STRING_FIELDS = ['app', 'principal', 'id', 'idPrefix', 'host', 'lastHost', 'cursor'] as const;
const TIME_FIELDS = [
  'aliveAt',
  'createdAfter',
  'createdBefore',
  'accessedAfter',
  'accessedBefore',
  'expiresBefore',
] as const;
const SORTS: readonly unknown[] = ['id', 'lastAccessedAt', 'createdAt'];
const ORDERS: readonly unknown[] = ['asc', 'desc'];

/** Each value of a list or count filter is of the type its field holds. */
export function checkFilter(where: string, filter: CountFilter & Omit<ListFilter, 'limit'>): void {
  if (typeof filter !== 'object' || filter === null)
    throw invalidArgument(where, 'filter', 'an object', filter);
  for (const field of STRING_FIELDS) {
    if (filter[field] !== undefined) checkString(where, field, filter[field]);
  }
  for (const field of TIME_FIELDS) {
    if (filter[field] !== undefined) checkFinite(where, field, filter[field]);
  }
  if (filter.authenticated !== undefined && typeof filter.authenticated !== 'boolean')
    throw invalidArgument(where, 'authenticated', 'a boolean', filter.authenticated);
  if (filter.clientAddress !== undefined) {
    checkString(where, 'clientAddress', filter.clientAddress);
    if (!isAddressFilter(filter.clientAddress))
      throw invalidArgument(where, 'clientAddress', 'an IP address or a CIDR block', filter.clientAddress);
  }
  if (filter.sort !== undefined && !SORTS.includes(filter.sort))
    throw invalidArgument(where, 'sort', "'id', 'lastAccessedAt' or 'createdAt'", filter.sort);
  if (filter.order !== undefined && !ORDERS.includes(filter.order))
    throw invalidArgument(where, 'order', "'asc' or 'desc'", filter.order);
}
