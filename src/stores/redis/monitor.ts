import type { AuditEntry, CountFilter, StatsQuery, StoreStats, SweepRecord } from '../../core/store.js';
import { AUDIT_LOG_LIMIT } from '../../core/store.js';
import { DAY, HOUR, MAX_HOSTS, sortHosts } from '../kit/stats.js';
import type { RedisClient } from './client.js';
import type { RedisLayout } from './layout.js';
import type { RedisQueries } from './queries.js';
import { evalScript, SCRIPTS } from './scripts.js';

/** Below every epoch-ms score, as a number Lua's tonumber reads (it may not read '-inf'). */
const LOWEST = String(-Number.MAX_SAFE_INTEGER);

/** Per-bucket counts from cumulative ones ("at most bound"), plus the +Inf bucket. */
function buckets(bounds: readonly number[], cumulative: number[], total: number) {
  return [
    ...bounds.map((le, i) => ({ le, count: cumulative[i]! - (i === 0 ? 0 : cumulative[i - 1]!) })),
    { le: null, count: total - (cumulative[cumulative.length - 1] ?? 0) },
  ];
}

/**
 * The monitor's side of the Redis store: statistics and range counts from the indexes kept
 * for the purpose (scripts.ts STATS, COUNT_RANGE), the sweep record and the audit log. All
 * of it lives in the index slot `{G}`, so it works the same in a Cluster.
 */
export class RedisMonitor {
  constructor(
    private readonly layout: RedisLayout,
    private readonly queries: RedisQueries,
  ) {}

  async stats(client: RedisClient, query: StatsQuery): Promise<StoreStats> {
    const { now } = query;
    const apps = await this.queries.apps(client, query.app);
    const since = (ms: number) => String(Math.ceil(now - ms));
    const reply = (await evalScript(
      client,
      SCRIPTS.stats,
      [this.layout.apps],
      [
        this.layout.indexPrefix,
        String(now),
        String(Math.ceil(query.onlineSince)),
        since(HOUR),
        since(DAY),
        String(query.idleBounds.length),
        ...query.idleBounds.map(since),
        String(query.ageBounds.length),
        ...query.ageBounds.map(since),
        ...apps,
      ],
    )) as Array<number | string>;
    const n = (i: number) => Number(reply[i] ?? 0);
    const live = n(0);
    const idleStart = 7;
    const ageStart = idleStart + query.idleBounds.length;
    const hostsStart = ageStart + query.ageBounds.length;
    const hosts: Array<{ host: string; sessions: number }> = [];
    for (let i = hostsStart; i + 1 < reply.length; i += 2)
      hosts.push({ host: String(reply[i]), sessions: n(i + 1) });
    return {
      live,
      authenticated: n(1),
      usersOnline: n(2),
      createdLastHour: n(3),
      createdLastDay: n(4),
      idle: buckets(
        query.idleBounds,
        query.idleBounds.map((_, i) => n(idleStart + i)),
        live,
      ),
      age: buckets(
        query.ageBounds,
        query.ageBounds.map((_, i) => n(ageStart + i)),
        live,
      ),
      perHost: sortHosts(hosts).slice(0, MAX_HOSTS),
      expiredPending: n(5),
      oldestExpiredAt: reply[6] === '' || reply[6] === undefined ? null : Number(reply[6]),
    };
  }

  /**
   * A count the indexes answer alone: live sessions (at `aliveAt`) of some apps whose access
   * or creation time is in a range, and nothing else. Undefined for any other filter.
   */
  async countByRange(client: RedisClient, filter: CountFilter): Promise<number | undefined> {
    const { app, aliveAt, accessedAfter, accessedBefore, createdAfter, createdBefore, ...rest } = filter;
    if (Object.values(rest).some((value) => value !== undefined) || aliveAt === undefined) return undefined;
    const accessed = accessedAfter !== undefined || accessedBefore !== undefined;
    const created = createdAfter !== undefined || createdBefore !== undefined;
    if (accessed === created) return undefined;
    const [min, max] = accessed ? [accessedAfter, accessedBefore] : [createdAfter, createdBefore];
    const apps = await this.queries.apps(client, app);
    if (apps.length === 0) return 0;
    const result = await evalScript(
      client,
      SCRIPTS.countRange,
      [this.layout.apps],
      [
        this.layout.indexPrefix,
        accessed ? 'acc' : 'created',
        min === undefined ? LOWEST : String(min),
        max === undefined ? '+inf' : `(${max}`,
        String(aliveAt),
        ...apps,
      ],
    );
    return Number(result);
  }

  async noteSweep(client: RedisClient, record: SweepRecord): Promise<void> {
    const { at, removed, durationMs, holder } = record;
    await client.set(this.layout.lastSweep, JSON.stringify({ at, removed, durationMs, holder }));
  }

  async lastSweep(client: RedisClient): Promise<SweepRecord | null> {
    const text = await client.get(this.layout.lastSweep);
    if (text === null) return null;
    try {
      const value = JSON.parse(text) as Partial<SweepRecord>;
      if (typeof value.at !== 'number' || typeof value.holder !== 'string') return null;
      return {
        at: value.at,
        removed: Number(value.removed ?? 0),
        durationMs: Number(value.durationMs ?? 0),
        holder: value.holder,
      };
    } catch {
      return null;
    }
  }

  async appendAudit(client: RedisClient, entry: AuditEntry): Promise<void> {
    await evalScript(
      client,
      SCRIPTS.auditAppend,
      [this.layout.audit, this.layout.auditSequence],
      [JSON.stringify(entry), String(AUDIT_LOG_LIMIT)],
    );
  }

  async listAudit(client: RedisClient, limit: number, before: string | undefined) {
    const max = before === undefined ? '+inf' : `(${before}`;
    const members = await client.zrevrangebyscore(this.layout.audit, max, '-inf', 'LIMIT', 0, limit + 1);
    return members.flatMap((member) => {
      const colon = member.indexOf(':');
      try {
        return [
          { position: member.slice(0, colon), entry: JSON.parse(member.slice(colon + 1)) as AuditEntry },
        ];
      } catch {
        return [];
      }
    });
  }
}
