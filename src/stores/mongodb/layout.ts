/**
 * How a session is laid out as one MongoDB document (bboss's layout):
 *
 *   { _id: <session id>,
 *     meta: { app, createdAt, lastAccessedAt, maxInactive, expiresAt, absoluteExpiresAt,
 *             principal, host, clientAddress, userAgent },
 *     expireAt: Date | null,            // = meta.expiresAt, as a Date, for the TTL index
 *     attrs: { '<escaped key>': '<codec text>', ... } }
 *
 * Attribute keys are the store keys `<namespace>:<name>` (shared = `:name`), escaped so that
 * each is one plain field name; every write is then a `$set`/`$unset` on `attrs.<escaped>`.
 */
import type { AttributeKey, CountFilter, MetaPatch, SessionMeta } from '../../core/store.js';
import { parseAddressFilter } from '../kit/address.js';
import type { ListQuery } from '../kit/backend.js';

export type StoredMeta = Omit<SessionMeta, 'id'>;

export interface SessionDoc {
  _id: string;
  meta: StoredMeta;
  expireAt: Date | null;
  attrs: Record<string, string>;
  /** The session's version (mongodb/versions.ts); absent before versions, read as 0. */
  v?: number;
}

/** A plain object standing for a query filter, projection or update document. */
export type Fields = Record<string, unknown>;

// `.` would be read as a path, `$` as an operator, NUL ends a BSON field name; `%` is the
// escape character itself, so escaping stays reversible.
const ESCAPES: Record<string, string> = { '%': '%25', '.': '%2E', $: '%24', '\0': '%00' };
const UNESCAPES: Record<string, string> = { '%25': '%', '%2E': '.', '%24': '$', '%00': '\0' };

export function escapeKey(key: AttributeKey): string {
  return key.replace(/[%.$\0]/g, (char) => ESCAPES[char]!);
}

export function unescapeKey(field: string): AttributeKey {
  return field.replace(/%(?:25|2E|24|00)/g, (code) => UNESCAPES[code]!);
}

/** The dotted path of one attribute, for `$set`, `$unset` and projections. */
export const attrPath = (key: AttributeKey): string => `attrs.${escapeKey(key)}`;

export const toDate = (epochMs: number | null): Date | null => (epochMs === null ? null : new Date(epochMs));

export function toDoc(meta: SessionMeta, attributes: Map<AttributeKey, string>): SessionDoc {
  const attrs: Record<string, string> = {};
  for (const [key, value] of attributes) attrs[escapeKey(key)] = value;
  return {
    _id: meta.id,
    meta: {
      app: meta.app,
      createdAt: meta.createdAt,
      lastAccessedAt: meta.lastAccessedAt,
      maxInactive: meta.maxInactive,
      expiresAt: meta.expiresAt,
      absoluteExpiresAt: meta.absoluteExpiresAt,
      principal: meta.principal,
      host: meta.host,
      clientAddress: meta.clientAddress,
      userAgent: meta.userAgent,
      createdUrl: meta.createdUrl,
      lastUrl: meta.lastUrl,
      lastHost: meta.lastHost,
    },
    expireAt: toDate(meta.expiresAt),
    attrs,
  };
}

/** Reads the metadata back, field by field, so stray fields in the document never leak out. */
export function toMeta(doc: Pick<SessionDoc, '_id' | 'meta'>): SessionMeta {
  const m = doc.meta;
  return {
    id: doc._id,
    app: m.app,
    createdAt: Number(m.createdAt),
    lastAccessedAt: Number(m.lastAccessedAt),
    maxInactive: Number(m.maxInactive),
    expiresAt: nullableNumber(m.expiresAt),
    absoluteExpiresAt: nullableNumber(m.absoluteExpiresAt),
    principal: m.principal ?? null,
    host: m.host,
    clientAddress: m.clientAddress,
    userAgent: m.userAgent,
    // Absent from documents written before these fields existed.
    createdUrl: m.createdUrl ?? '',
    lastUrl: m.lastUrl ?? '',
    lastHost: m.lastHost ?? '',
  };
}

const nullableNumber = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);

export function toAttributes(attrs: Record<string, string> | undefined): Map<AttributeKey, string> {
  const map = new Map<AttributeKey, string>();
  for (const [field, value] of Object.entries(attrs ?? {})) map.set(unescapeKey(field), value);
  return map;
}

export function isAlive(meta: Pick<StoredMeta, 'expiresAt'>, now: number): boolean {
  return meta.expiresAt === null || meta.expiresAt === undefined || Number(meta.expiresAt) > now;
}

/** `$set` fields for a metadata patch; expiresAt also moves the TTL date. */
export function metaSet(patch: MetaPatch): Fields {
  const set: Fields = {};
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    set[`meta.${field}`] = value;
    if (field === 'expiresAt') set.expireAt = toDate(value as number | null);
  }
  return set;
}

/** The update document of one delta, or null when it changes nothing. */
export function deltaUpdate(
  patch: MetaPatch | undefined,
  set: Map<AttributeKey, string> | undefined,
  remove: AttributeKey[] | undefined,
): { $set?: Fields; $unset?: Fields } | null {
  const $set = metaSet(patch ?? {});
  const $unset: Fields = {};
  // Remove wins over a set of the same key (as in the SQL stores, which delete after upserting);
  // MongoDB would reject an update naming one path in both operators.
  for (const key of remove ?? []) $unset[attrPath(key)] = '';
  for (const [key, value] of set ?? []) {
    const path = attrPath(key);
    if (!(path in $unset)) $set[path] = value;
  }
  const update: { $set?: Fields; $unset?: Fields } = {};
  if (Object.keys($set).length > 0) update.$set = $set;
  if (Object.keys($unset).length > 0) update.$unset = $unset;
  return update.$set || update.$unset ? update : null;
}

/** The projection of one load: metadata plus the named attributes, or everything. */
export function loadProjection(keys: AttributeKey[] | 'all'): Fields {
  if (keys === 'all') return { meta: 1, attrs: 1 };
  const projection: Fields = { meta: 1 };
  for (const key of keys) projection[attrPath(key)] = 1;
  return projection;
}

/** Escapes text for a RegExp, so a prefix filter matches literally. */
const literal = (text: string) => text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/** A numeric range on one field, merged with what the query has for it already. */
function range(
  query: Fields,
  field: string,
  operator: '$gte' | '$lt' | '$gt',
  value: number | undefined,
): void {
  if (value === undefined) return;
  query[field] = { ...(query[field] as Fields | undefined), [operator]: value };
}

/**
 * The query of a list/count filter. Values are bound as they are (the kit has checked their
 * types), so none can be read as an operator. A CIDR filter narrows by text prefix here when
 * it can; `needsAddressCheck` tells the caller to finish the match in process.
 */
export function listQuery(filter: CountFilter): Fields {
  const query: Fields = {};
  const and: Fields[] = [];
  if (filter.app !== undefined) query['meta.app'] = filter.app;
  if (filter.principal !== undefined) query['meta.principal'] = filter.principal;
  if (filter.authenticated === true && filter.principal === undefined)
    query['meta.principal'] = { $ne: null };
  if (filter.authenticated === false) query['meta.principal'] = null;
  if (filter.aliveAt !== undefined)
    and.push({ $or: [{ 'meta.expiresAt': null }, { 'meta.expiresAt': { $gt: filter.aliveAt } }] });
  if (filter.id !== undefined) query._id = filter.id;
  if (filter.idPrefix !== undefined)
    query._id = {
      ...(query._id === undefined ? {} : { $eq: query._id }),
      $regex: `^${literal(filter.idPrefix)}`,
    };
  if (filter.host !== undefined) query['meta.host'] = filter.host;
  if (filter.lastHost !== undefined) query['meta.lastHost'] = filter.lastHost;
  range(query, 'meta.createdAt', '$gte', filter.createdAfter);
  range(query, 'meta.createdAt', '$lt', filter.createdBefore);
  range(query, 'meta.lastAccessedAt', '$gte', filter.accessedAfter);
  range(query, 'meta.lastAccessedAt', '$lt', filter.accessedBefore);
  if (filter.expiresBefore !== undefined) query['meta.expiresAt'] = { $ne: null, $lt: filter.expiresBefore };
  if (filter.clientAddress !== undefined) {
    const prefix = parseAddressFilter(filter.clientAddress)?.prefix ?? '';
    if (prefix !== '')
      and.push({ 'meta.clientAddress': { $regex: `^(::ffff:)?${literal(prefix)}`, $options: 'i' } });
  }
  if (and.length > 0) query.$and = and;
  return query;
}

/** Whether `listQuery` left part of the filter (a CIDR block) for the caller to check in process. */
export function needsAddressCheck(filter: CountFilter): boolean {
  return filter.clientAddress !== undefined;
}

const SORT_FIELDS = {
  id: '_id',
  lastAccessedAt: 'meta.lastAccessedAt',
  createdAt: 'meta.createdAt',
} as const;

/** The sort document and the "after the cursor" condition of a listing. */
export function listOrder(query: ListQuery): { sort: Record<string, 1 | -1>; after: Fields | undefined } {
  const { ordering, after } = query;
  const direction = ordering.order === 'asc' ? 1 : -1;
  const field = SORT_FIELDS[ordering.sort];
  const beyond = ordering.order === 'asc' ? '$gt' : '$lt';
  const sort: Record<string, 1 | -1> =
    ordering.sort === 'id' ? { _id: direction } : { [field]: direction, _id: direction };
  if (!after) return { sort, after: undefined };
  if (ordering.sort === 'id' || after.value === null) return { sort, after: { _id: { [beyond]: after.id } } };
  return {
    sort,
    after: {
      $or: [{ [field]: { [beyond]: after.value } }, { [field]: after.value, _id: { [beyond]: after.id } }],
    },
  };
}
