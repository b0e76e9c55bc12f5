import type { HistogramBucket, SessionMeta, StatsQuery, StoreStats } from '../../core/store.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** `perHost` lists at most this many hosts, the busiest first. */
export const MAX_HOSTS = 100;

/** Empty buckets for `bounds`, plus the +Inf one. */
export function emptyHistogram(bounds: readonly number[]): HistogramBucket[] {
  return [...bounds.map((le) => ({ le, count: 0 })), { le: null, count: 0 }];
}

/** The index of the bucket `value` falls in: the first bound >= value, else the +Inf bucket. */
export function bucketIndex(bounds: readonly number[], value: number): number {
  const i = bounds.findIndex((bound) => value <= bound);
  return i === -1 ? bounds.length : i;
}

/**
 * Statistics over sessions a store walks itself (the memory store only: it has them in
 * memory already). Every other store computes the same numbers in its server; the
 * conformance suite checks that all agree.
 */
export function statsOf(sessions: Iterable<SessionMeta>, query: StatsQuery): StoreStats {
  const { now } = query;
  const stats: StoreStats = {
    live: 0,
    authenticated: 0,
    usersOnline: 0,
    createdLastHour: 0,
    createdLastDay: 0,
    idle: emptyHistogram(query.idleBounds),
    age: emptyHistogram(query.ageBounds),
    perHost: [],
    expiredPending: 0,
    oldestExpiredAt: null,
  };
  const online = new Set<string>();
  const hosts = new Map<string, number>();
  for (const meta of sessions) {
    if (query.app !== undefined && meta.app !== query.app) continue;
    if (meta.expiresAt !== null && meta.expiresAt <= now) {
      stats.expiredPending++;
      stats.oldestExpiredAt = Math.min(stats.oldestExpiredAt ?? meta.expiresAt, meta.expiresAt);
      continue;
    }
    stats.live++;
    if (meta.principal !== null) {
      stats.authenticated++;
      if (meta.lastAccessedAt >= query.onlineSince) online.add(meta.principal);
    }
    if (meta.createdAt >= now - HOUR) stats.createdLastHour++;
    if (meta.createdAt >= now - DAY) stats.createdLastDay++;
    stats.idle[bucketIndex(query.idleBounds, now - meta.lastAccessedAt)]!.count++;
    stats.age[bucketIndex(query.ageBounds, now - meta.createdAt)]!.count++;
    hosts.set(meta.host, (hosts.get(meta.host) ?? 0) + 1);
  }
  stats.usersOnline = online.size;
  stats.perHost = sortHosts([...hosts].map(([host, sessions]) => ({ host, sessions }))).slice(0, MAX_HOSTS);
  return stats;
}

/** Most sessions first, then by name, so every store lists hosts alike. */
export function sortHosts(
  hosts: Array<{ host: string; sessions: number }>,
): Array<{ host: string; sessions: number }> {
  return hosts.sort((a, b) => b.sessions - a.sessions || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}
