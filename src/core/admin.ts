import { randomBytes } from 'node:crypto';
import {
  DEFAULT_AGE_BOUNDS,
  DEFAULT_IDLE_BOUNDS,
  DEFAULT_ONLINE_WINDOW,
  type DestroyWhereOptions,
  type RevokeOptions,
  type SessionCountQuery,
  type SessionQuery,
  type SessionStatistics,
  type SessionView,
  type StatsOptions,
  type StoreHealth,
} from './admin-types.js';
import type { Codec } from './codec.js';
import { UnisessionError } from './errors.js';
import type { DestroyReason, SessionEmitter } from './events.js';
import {
  attributeKey,
  type CountFilter,
  type ListFilter,
  type ListPage,
  type SessionMeta,
  type Store,
  type StoreListing,
  type StorePrincipals,
  type StoreStatsGroup,
  type SweepRecord,
  splitAttributeKey,
} from './store.js';
import {
  type Check,
  checkArgument,
  checkLimit,
  checkString,
  invalidArgument,
  is,
  type OptionSpec,
} from './validate.js';

const isTime: Check = (value) =>
  typeof value === 'number' && Number.isFinite(value) ? undefined : 'a finite number (epoch ms)';
const isDuration: Check = (value) =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0
    ? undefined
    : 'a finite number of ms >= 0';

/** The keys a count query may have, and what each must be; others are refused. */
const COUNT_QUERY: OptionSpec = {
  app: is.string,
  principal: is.string,
  aliveAt: isTime,
  id: is.string,
  idPrefix: is.string,
  clientAddress: is.string,
  host: is.string,
  lastHost: is.string,
  authenticated: is.boolean,
  createdAfter: isTime,
  createdBefore: isTime,
  accessedAfter: isTime,
  accessedBefore: isTime,
  expiresBefore: isTime,
  idleLongerThan: isDuration,
  expiringBefore: isTime,
  expiringWithin: isDuration,
};
const LIST_QUERY: OptionSpec = {
  ...COUNT_QUERY,
  sort: is.oneOf('id', 'lastAccessedAt', 'createdAt'),
  order: is.oneOf('asc', 'desc'),
  limit: is.any,
  cursor: is.string,
};
const REASONS: readonly DestroyReason[] = ['invalidated', 'expired', 'revoked', 'evicted'];

/** What the administration needs of its manager. */
export interface AdminContext {
  store: Store;
  codec: Codec;
  events: SessionEmitter;
  /** The last run of this node's sweeper, for stores that cannot note runs. */
  localSweep(): SweepRecord | null;
  sweeperSettings(): { enabled: boolean; interval: number; batchSize: number };
}

function requireGroup<T>(store: Store, group: T | undefined, what: string): T {
  if (!group) throw new UnisessionError('UNISESSION_UNSUPPORTED', `the ${store.name} store ${what}`);
  return group;
}

export const requireListing = (store: Store): StoreListing =>
  requireGroup(store, store.listing, 'cannot list sessions');
export const requirePrincipals = (store: Store): StorePrincipals =>
  requireGroup(store, store.principals, 'has no principal index');
const requireStats = (store: Store): StoreStatsGroup =>
  requireGroup(store, store.stats, 'cannot compute statistics');

function checkReason(where: string, reason: unknown): DestroyReason {
  if (!REASONS.includes(reason as DestroyReason))
    throw invalidArgument(where, 'reason', `one of ${REASONS.join(', ')}`, reason);
  return reason as DestroyReason;
}

/**
 * The store filter of a manager query: relative filters become absolute with `now`, and
 * live sessions only unless `aliveAt` says otherwise. `expiringBefore` and `expiresBefore`
 * together keep the earlier bound.
 */
export function toStoreFilter(query: SessionCountQuery, now: number): CountFilter {
  const { idleLongerThan, expiringBefore, expiringWithin, ...filter } = query;
  const result: CountFilter = { aliveAt: now, ...filter };
  if (idleLongerThan !== undefined) {
    const bound = now - idleLongerThan;
    result.accessedBefore = Math.min(result.accessedBefore ?? bound, bound);
  }
  for (const bound of [expiringBefore, expiringWithin === undefined ? undefined : now + expiringWithin]) {
    if (bound !== undefined) result.expiresBefore = Math.min(result.expiresBefore ?? bound, bound);
  }
  return result;
}

export async function listSessions(store: Store, query: SessionQuery = {}): Promise<ListPage> {
  checkArgument('list', 'filter', query, LIST_QUERY);
  const limit = checkLimit('list', query.limit);
  const { sort, order, cursor, limit: _limit, ...filter } = query;
  const listFilter: ListFilter = { ...toStoreFilter(filter, Date.now()), limit };
  if (sort !== undefined) listFilter.sort = sort;
  if (order !== undefined) listFilter.order = order;
  if (cursor !== undefined) listFilter.cursor = cursor;
  return requireListing(store).list(listFilter);
}

export async function countSessions(store: Store, query: SessionCountQuery = {}): Promise<number> {
  checkArgument('count', 'filter', query, COUNT_QUERY);
  return requireListing(store).count(toStoreFilter(query, Date.now()));
}

/** Destroys one session and tells the listeners why. True if this call removed it. */
export async function destroyOne(context: AdminContext, id: string, reason: DestroyReason): Promise<boolean> {
  const meta = await context.store.destroy(id);
  if (meta) context.events.emit('destroyed', { meta, reason });
  return meta !== null;
}

/** At most this many deletes are in flight at once, so a large action never floods the store. */
const BATCH = 100;

export async function destroyMany(
  context: AdminContext,
  ids: readonly string[],
  reason: DestroyReason = 'revoked',
): Promise<number> {
  if (!Array.isArray(ids)) throw invalidArgument('destroyMany', 'ids', 'an array of ids', ids);
  for (const id of ids) checkString('destroyMany', 'id', id);
  checkReason('destroyMany', reason);
  let removed = 0;
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += BATCH) {
    const results = await Promise.all(
      unique.slice(i, i + BATCH).map((id) => destroyOne(context, id, reason)),
    );
    removed += results.filter(Boolean).length;
  }
  return removed;
}

/**
 * Destroys every session a query matches, page by page in id order (bounded batches, so it
 * holds one page at a time whatever the count); with `dryRun` it only counts them.
 */
export async function destroyWhere(
  context: AdminContext,
  query: SessionCountQuery,
  options: DestroyWhereOptions = {},
): Promise<number> {
  checkArgument('destroyWhere', 'filter', query, COUNT_QUERY);
  checkArgument('destroyWhere', 'options', options, { dryRun: is.boolean, reason: is.string });
  const reason = checkReason('destroyWhere', options.reason ?? 'revoked');
  const listing = requireListing(context.store);
  const filter = toStoreFilter(query, Date.now());
  if (options.dryRun) return listing.count(filter);
  let removed = 0;
  let cursor: string | undefined;
  do {
    const page = await listing.list({ ...filter, limit: 500, ...(cursor === undefined ? {} : { cursor }) });
    removed += await destroyMany(
      context,
      page.sessions.map((meta) => meta.id),
      reason,
    );
    cursor = page.next;
  } while (cursor !== undefined);
  return removed;
}

/** Signs a user out everywhere, but `except`. */
export async function revokePrincipal(
  context: AdminContext,
  principal: string,
  options: RevokeOptions = {},
): Promise<number> {
  checkString('revokePrincipal', 'principal', principal);
  checkArgument('revokePrincipal', 'options', options, { except: is.string, reason: is.string });
  const reason = checkReason('revokePrincipal', options.reason ?? 'revoked');
  const ids = await requirePrincipals(context.store).find(principal);
  return destroyMany(
    context,
    ids.filter((id) => id !== options.except),
    reason,
  );
}

/** Every attribute of every app, decoded; a value that fails to decode is shown with a generic error. */
export async function inspectSession(context: AdminContext, id: string): Promise<SessionView | null> {
  checkString('inspect', 'id', id);
  const loaded = await context.store.load(id, 'all', Date.now());
  if (!loaded) return null;
  const attributes = [...loaded.attributes]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, encoded]) => {
      const { namespace, name } = splitAttributeKey(key);
      try {
        return { key, namespace, name, value: context.codec.decode(encoded), encoded };
      } catch (error) {
        context.events.emit('decodeError', {
          sessionId: id,
          namespace,
          name,
          error: error instanceof Error ? error : new Error(String(error)),
        });
        return { key, namespace, name, value: undefined, encoded, error: 'the value cannot be decoded' };
      }
    });
  return { meta: loaded.meta, attributes };
}

/** Removes one attribute (any app's) and fires `attributeRemoved`. True if it existed. */
export async function removeAttribute(
  context: AdminContext,
  id: string,
  namespace: string,
  name: string,
): Promise<boolean> {
  checkString('removeAttribute', 'id', id);
  checkString('removeAttribute', 'namespace', namespace);
  checkString('removeAttribute', 'name', name);
  const key = attributeKey(namespace, name);
  const loaded = await context.store.load(id, [key], Date.now());
  const encoded = loaded?.attributes.get(key);
  if (encoded === undefined) return false;
  if (!(await context.store.update(id, { remove: [key] }))) return false;
  let oldValue: unknown;
  try {
    oldValue = context.codec.decode(encoded);
  } catch {
    oldValue = undefined;
  }
  context.events.emit('attributeRemoved', { sessionId: id, namespace, name, oldValue });
  return true;
}

/** A cheap read of an id that cannot exist: the store answers, or it does not. */
export async function ping(store: Store): Promise<StoreHealth> {
  const started = performance.now();
  try {
    await store.load(`unisession-ping-${randomBytes(12).toString('base64url')}`, [], Date.now());
    return { healthy: true, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch {
    return { healthy: false, latencyMs: null };
  }
}

export async function sweeperStatus(context: AdminContext, oldestExpiredAt?: number | null) {
  const settings = context.sweeperSettings();
  const { stats } = context.store;
  const lastRun = (stats ? await stats.lastSweep() : null) ?? context.localSweep();
  let lagMs: number | null = null;
  if (oldestExpiredAt !== undefined)
    lagMs = oldestExpiredAt === null ? 0 : Math.max(0, Date.now() - oldestExpiredAt);
  else if (stats) {
    const now = Date.now();
    const computed = await stats.compute({ now, onlineSince: now, idleBounds: [], ageBounds: [] });
    lagMs = computed.oldestExpiredAt === null ? 0 : Math.max(0, now - computed.oldestExpiredAt);
  }
  return {
    lastRun,
    lagMs,
    enabled: settings.enabled,
    intervalMs: settings.interval,
    batchSize: settings.batchSize,
  };
}

const STATS_OPTIONS: OptionSpec = {
  app: is.string,
  onlineWindowMs: isDuration,
  idleBounds: is.any,
  ageBounds: is.any,
};

/** The overview's numbers: the store's aggregates, its health, and the sweeper's last run and lag. */
export async function sessionStatistics(
  context: AdminContext,
  options: StatsOptions = {},
): Promise<SessionStatistics> {
  checkArgument('stats', 'options', options, STATS_OPTIONS);
  const stats = requireStats(context.store);
  const now = Date.now();
  const health = await ping(context.store);
  const computed = await stats.compute({
    now,
    ...(options.app === undefined ? {} : { app: options.app }),
    onlineSince: now - (options.onlineWindowMs ?? DEFAULT_ONLINE_WINDOW),
    idleBounds: [...(options.idleBounds ?? DEFAULT_IDLE_BOUNDS)],
    ageBounds: [...(options.ageBounds ?? DEFAULT_AGE_BOUNDS)],
  });
  return {
    ...computed,
    app: options.app ?? null,
    at: now,
    // Generic on purpose: the monitor shows it to its users; the driver's text goes to `error` listeners.
    store: {
      name: context.store.name,
      ...health,
      ...(health.healthy ? {} : { error: 'the store did not answer the probe' }),
    },
    sweeper: await sweeperStatus(context, computed.oldestExpiredAt),
  };
}

export type { SessionMeta };
