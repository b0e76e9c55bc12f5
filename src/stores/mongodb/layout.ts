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
import type { AttributeKey, ListFilter, MetaPatch, SessionMeta } from '../../core/store.js';

export type StoredMeta = Omit<SessionMeta, 'id'>;

export interface SessionDoc {
  _id: string;
  meta: StoredMeta;
  expireAt: Date | null;
  attrs: Record<string, string>;
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

/** The query of a list/count filter. */
export function listQuery(filter: ListFilter): Fields {
  const query: Fields = {};
  if (filter.app !== undefined) query['meta.app'] = filter.app;
  if (filter.principal !== undefined) query['meta.principal'] = filter.principal;
  if (filter.aliveAt !== undefined)
    query.$or = [{ 'meta.expiresAt': null }, { 'meta.expiresAt': { $gt: filter.aliveAt } }];
  if (filter.cursor !== undefined) query._id = { $gt: filter.cursor };
  return query;
}
