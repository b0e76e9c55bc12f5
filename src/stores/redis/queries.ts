import { UnisessionError } from '../../core/errors.js';
import type { CountFilter, SessionMeta } from '../../core/store.js';
import type { ListQuery } from '../kit/backend.js';
import { compareIn, isAfter, matches } from '../kit/paging.js';
import type { RedisClient } from './client.js';
import { META_FIELD_NAMES, metaFromFields, type RedisLayout } from './layout.js';

/** How many ids one list step reads at a time. */
const SCAN_CHUNK = 200;

/** Redis orders members by bytes (ZRANGEBYLEX); ids merged from several sets are ordered the same way. */
export const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * The read side of the indexes: listing, counting, principals. Index entries may be stale
 * (the session is gone); every reader here checks the session itself and removes such
 * entries as it meets them.
 */
export class RedisQueries {
  constructor(private readonly layout: RedisLayout) {}

  /** The apps to look at: the one asked for, or every app that has created sessions. */
  async apps(client: RedisClient, app: string | undefined): Promise<string[]> {
    return app !== undefined ? [app] : (await client.smembers(this.layout.apps)).sort(byteOrder);
  }

  async list(client: RedisClient, query: ListQuery): Promise<SessionMeta[]> {
    const { limit, filter, ordering } = query;
    // One more than a page tells whether there is a next page.
    const found: SessionMeta[] = [];
    const take = (meta: SessionMeta | null) => {
      if (meta && matches(meta, filter) && found.length <= limit) found.push(meta);
    };
    if (filter.principal !== undefined) {
      const sorted = (await this.principalSessions(client, filter.principal)).sort(compareIn(ordering));
      for (const meta of sorted) {
        if (query.after === undefined || isAfter(meta, query.after, ordering)) take(meta);
      }
    } else if (ordering.sort !== 'id' || ordering.order !== 'asc') {
      throw new UnisessionError('UNISESSION_UNSUPPORTED', 'redis: time-ordered listing is not available yet');
    } else {
      const apps = await this.apps(client, filter.app);
      let after = query.after?.id;
      while (found.length <= limit) {
        const batch = await this.nextIds(client, apps, after, SCAN_CHUNK);
        if (batch.length === 0) break;
        const metas = await this.metas(
          client,
          batch.map((entry) => entry.id),
        );
        await this.removeStale(
          client,
          batch.filter((_, i) => metas[i] === null),
        );
        for (const meta of metas) take(meta);
        after = batch[batch.length - 1]!.id;
      }
    }
    return found;
  }

  async count(client: RedisClient, filter: CountFilter): Promise<number> {
    if (filter.principal !== undefined) {
      const sessions = await this.principalSessions(client, filter.principal);
      return sessions.filter((meta) => matches(meta, filter)).length;
    }
    // O(log n) per app from the expiry index, without reading the sessions (see the docs on staleness).
    const apps = await this.apps(client, filter.app);
    const counts = await Promise.all(
      apps.map((app) =>
        filter.aliveAt === undefined
          ? client.zcard(this.layout.expiry(app))
          : client.zcount(this.layout.expiry(app), `(${filter.aliveAt}`, '+inf'),
      ),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /** The sessions that still exist with this principal, in id order; stale entries are removed. */
  async principalSessions(client: RedisClient, principal: string): Promise<SessionMeta[]> {
    const key = this.layout.principal(principal);
    const ids = (await client.smembers(key)).sort(byteOrder);
    const metas = await this.metas(client, ids);
    const stale = ids.filter((_, i) => metas[i]?.principal !== principal);
    if (stale.length > 0) await client.srem(key, ...stale);
    return metas.filter((meta): meta is SessionMeta => meta?.principal === principal);
  }

  /** The metadata of each id (null where the session is gone), read concurrently. */
  private metas(client: RedisClient, ids: string[]): Promise<Array<SessionMeta | null>> {
    return Promise.all(
      ids.map(async (id) => {
        const values = await client.hmget(this.layout.session(id), ...META_FIELD_NAMES);
        return metaFromFields(id, (field) => values[META_FIELD_NAMES.indexOf(field)]);
      }),
    );
  }

  /** The next `n` ids after `after`, in byte order, across the given apps' id indexes. */
  private async nextIds(client: RedisClient, apps: string[], after: string | undefined, n: number) {
    const perApp = await Promise.all(
      apps.map(async (app) => {
        const min = after === undefined ? '-' : `(${after}`;
        const ids = await client.zrangebylex(this.layout.ids(app), min, '+', 'LIMIT', 0, n);
        return ids.map((id) => ({ id, app }));
      }),
    );
    return perApp
      .flat()
      .sort((a, b) => byteOrder(a.id, b.id))
      .slice(0, n);
  }

  private async removeStale(client: RedisClient, stale: Array<{ id: string; app: string }>): Promise<void> {
    await Promise.all(
      stale.map(({ id, app }) =>
        Promise.all([client.zrem(this.layout.expiry(app), id), client.zrem(this.layout.ids(app), id)]),
      ),
    );
  }
}
