import type { Document } from 'mongodb';
import type { StatsQuery, StoreStats } from '../../core/store.js';
import { DAY, HOUR, MAX_HOSTS } from '../kit/stats.js';
import type { MongoHandles } from './setup.js';

const count = (condition: Document) => ({ $sum: { $cond: [condition, 1, 0] } });

/** Per-bucket counts from cumulative ones ("at most bound"), plus the +Inf bucket. */
function buckets(bounds: readonly number[], cumulative: number[], total: number) {
  return [
    ...bounds.map((le, i) => ({ le, count: cumulative[i]! - (i === 0 ? 0 : cumulative[i - 1]!) })),
    { le: null, count: total - (cumulative[cumulative.length - 1] ?? 0) },
  ];
}

/**
 * `stats.compute` as four aggregations run in the server: the live counts and cumulative
 * histograms (conditional sums in one $group), the distinct online principals ($group then
 * $count), the sessions per host, and the expired ones not swept yet. Nothing but the
 * aggregates comes back to the process.
 */
export async function mongoStats({ sessions }: MongoHandles, query: StatsQuery): Promise<StoreStats> {
  const { now } = query;
  const app = query.app === undefined ? {} : { 'meta.app': query.app };
  const live = { ...app, $or: [{ 'meta.expiresAt': null }, { 'meta.expiresAt': { $gt: now } }] };
  const sums: Document = {
    _id: null,
    live: { $sum: 1 },
    authenticated: count({ $gt: ['$meta.principal', null] }),
    createdHour: count({ $gte: ['$meta.createdAt', now - HOUR] }),
    createdDay: count({ $gte: ['$meta.createdAt', now - DAY] }),
  };
  query.idleBounds.forEach((bound, i) => {
    sums[`idle${i}`] = count({ $gte: ['$meta.lastAccessedAt', now - bound] });
  });
  query.ageBounds.forEach((bound, i) => {
    sums[`age${i}`] = count({ $gte: ['$meta.createdAt', now - bound] });
  });
  const [totals, online, hosts, expired] = await Promise.all([
    sessions.aggregate([{ $match: live }, { $group: sums }]).toArray(),
    sessions
      .aggregate([
        {
          $match: {
            ...live,
            'meta.principal': { $ne: null },
            'meta.lastAccessedAt': { $gte: query.onlineSince },
          },
        },
        { $group: { _id: '$meta.principal' } },
        { $group: { _id: null, n: { $sum: 1 } } },
      ])
      .toArray(),
    sessions
      .aggregate([
        { $match: live },
        { $group: { _id: '$meta.host', n: { $sum: 1 } } },
        { $sort: { n: -1, _id: 1 } },
        { $limit: MAX_HOSTS },
      ])
      .toArray(),
    sessions
      .aggregate([
        { $match: { ...app, 'meta.expiresAt': { $ne: null, $lte: now } } },
        { $group: { _id: null, n: { $sum: 1 }, oldest: { $min: '$meta.expiresAt' } } },
      ])
      .toArray(),
  ]);
  const t = totals[0] ?? {};
  const total = Number(t.live ?? 0);
  const at = (name: string) => Number(t[name] ?? 0);
  return {
    live: total,
    authenticated: at('authenticated'),
    usersOnline: Number(online[0]?.n ?? 0),
    createdLastHour: at('createdHour'),
    createdLastDay: at('createdDay'),
    idle: buckets(
      query.idleBounds,
      query.idleBounds.map((_, i) => at(`idle${i}`)),
      total,
    ),
    age: buckets(
      query.ageBounds,
      query.ageBounds.map((_, i) => at(`age${i}`)),
      total,
    ),
    perHost: hosts.map((row) => ({ host: String(row._id ?? ''), sessions: Number(row.n) })),
    expiredPending: Number(expired[0]?.n ?? 0),
    oldestExpiredAt:
      expired[0]?.oldest === undefined || expired[0]?.oldest === null ? null : Number(expired[0].oldest),
  };
}
