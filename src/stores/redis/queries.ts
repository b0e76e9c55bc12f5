import type { CountFilter, SessionMeta } from '../../core/store.js';
import type { ListQuery } from '../kit/backend.js';
import { compareIn, isAfter, matches, type Ordering, type Position } from '../kit/paging.js';
import type { RedisClient } from './client.js';
import { META_FIELD_NAMES, metaFromFields, type RedisLayout } from './layout.js';
import { evalScript, SCRIPTS } from './scripts.js';

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
    const few =
      filter.id !== undefined
        ? await this.exactly(client, filter.id)
        : filter.principal !== undefined
          ? await this.principalSessions(client, filter.principal)
          : undefined;
    if (few) {
      // An id or a principal names a handful of sessions: read them and order them here.
      for (const meta of few.sort(compareIn(ordering))) {
        if (query.after === undefined || isAfter(meta, query.after, ordering)) take(meta);
      }
    } else {
      const apps = await this.apps(client, filter.app);
      let after = query.after;
      // The first read is the page (plus one): enough when the index order and bounds do the
      // filtering; later reads grow, for filters that reject many entries.
      let chunk = Math.min(SCAN_CHUNK, limit + 1);
      while (found.length <= limit) {
        const batch = await this.nextEntries(client, apps, query, after, chunk);
        chunk = Math.min(chunk * 4, SCAN_CHUNK * 5);
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
        const last = batch[batch.length - 1]!;
        after = { value: last.score, id: last.id };
      }
    }
    return found;
  }

  async count(client: RedisClient, filter: CountFilter): Promise<number> {
    if (filter.id !== undefined)
      return (await this.exactly(client, filter.id)).filter((meta) => matches(meta, filter)).length;
    if (filter.principal !== undefined) {
      const sessions = await this.principalSessions(client, filter.principal);
      return sessions.filter((meta) => matches(meta, filter)).length;
    }
    const { app: _app, aliveAt: _aliveAt, ...rest } = filter;
    if (Object.values(rest).some((value) => value !== undefined)) {
      const ranged = await this.rangeCount?.(client, filter);
      if (ranged !== undefined) return ranged;
      return this.scanCount(client, filter);
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

  /** The one session with this id, if it exists. */
  private async exactly(client: RedisClient, id: string): Promise<SessionMeta[]> {
    const [meta] = await this.metas(client, [id]);
    return meta ? [meta] : [];
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

  /** Set by the store: a count the indexes answer alone (RedisMonitor.countByRange), else undefined. */
  rangeCount: ((client: RedisClient, filter: CountFilter) => Promise<number | undefined>) | undefined;

  /** A count no index answers: walk the sessions in id order, reading their metadata. */
  private async scanCount(client: RedisClient, filter: CountFilter): Promise<number> {
    const apps = await this.apps(client, filter.app);
    const query: ListQuery = { filter, limit: SCAN_CHUNK, ordering: { sort: 'id', order: 'asc' } };
    let after: Position | undefined;
    let n = 0;
    for (;;) {
      const batch = await this.nextEntries(client, apps, query, after, SCAN_CHUNK);
      if (batch.length === 0) return n;
      const metas = await this.metas(
        client,
        batch.map((entry) => entry.id),
      );
      n += metas.filter((meta) => meta !== null && matches(meta, filter)).length;
      const last = batch[batch.length - 1]!;
      after = { value: last.score, id: last.id };
    }
  }

  /**
   * The next `n` index entries after `after` across the given apps, in the listing's order:
   * the id index (ZRANGEBYLEX) for `id`, else the app's time index (`acc` or `created`),
   * whose score range the filter's own bounds on that time narrow. Ties on a time are in id
   * (byte) order, as Redis keeps them.
   */
  private async nextEntries(
    client: RedisClient,
    apps: string[],
    query: ListQuery,
    after: Position | undefined,
    n: number,
  ): Promise<Array<{ id: string; app: string; score: number | null }>> {
    const { ordering } = query;
    const perApp = await Promise.all(
      apps.map(async (app) => {
        if (ordering.sort === 'id')
          return this.nextByLex(client, app, ordering, after?.id, n, query.filter.idPrefix);
        return this.nextByScore(client, app, query, after, n);
      }),
    );
    const sign = ordering.order === 'asc' ? 1 : -1;
    return perApp
      .flat()
      .sort((a, b) => sign * ((a.score ?? 0) - (b.score ?? 0) || byteOrder(a.id, b.id)))
      .slice(0, n);
  }

  /**
   * The next ids in byte order; an `idPrefix` bounds the range to the ids that start with it
   * (from `[prefix` to `[prefix` + 0xff, a byte no UTF-8 text has), so a prefix search reads
   * only what matches.
   */
  private async nextByLex(
    client: RedisClient,
    app: string,
    ordering: Ordering,
    after: string | undefined,
    n: number,
    prefix: string | undefined,
  ) {
    const key = this.layout.ids(app);
    const low = prefix === undefined ? '-' : `[${prefix}`;
    const high = prefix === undefined ? '+' : Buffer.concat([Buffer.from(`[${prefix}`), Buffer.from([0xff])]);
    const start = (bound: string | Buffer) => (after === undefined ? bound : `(${after}`);
    const ids =
      ordering.order === 'asc'
        ? await client.zrangebylex(key, start(low), high, 'LIMIT', 0, n)
        : await client.zrevrangebylex(key, start(high), low, 'LIMIT', 0, n);
    return ids.map((id) => ({ id, app, score: null }));
  }

  private async nextByScore(
    client: RedisClient,
    app: string,
    query: ListQuery,
    after: Position | undefined,
    n: number,
  ) {
    const { ordering, filter } = query;
    const accessed = ordering.sort === 'lastAccessedAt';
    const key = this.layout.appIndex(app, accessed ? 'acc' : 'created');
    const low = accessed ? filter.accessedAfter : filter.createdAfter;
    const high = accessed ? filter.accessedBefore : filter.createdBefore;
    const asc = ordering.order === 'asc';
    // From the cursor's score on (inclusive: ties with it follow by id), within the filter's bounds.
    const from = after?.value ?? null;
    const lowest = low === undefined ? '-inf' : String(low);
    const highest = high === undefined ? '+inf' : `(${high}`;
    const min = asc && from !== null && (low === undefined || from > low) ? String(from) : lowest;
    const max = !asc && from !== null && (high === undefined || from < high) ? String(from) : highest;
    const entries: Array<{ id: string; app: string; score: number }> = [];
    // Entries tied with the cursor and not after it are skipped; read on past them.
    for (let offset = 0; entries.length === 0; offset += n) {
      const flat = asc
        ? await client.zrangebyscore(key, min, max, 'WITHSCORES', 'LIMIT', offset, n)
        : await client.zrevrangebyscore(key, max, min, 'WITHSCORES', 'LIMIT', offset, n);
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const id = flat[i]!;
        const score = Number(flat[i + 1]);
        if (
          after &&
          from !== null &&
          score === from &&
          (asc ? byteOrder(id, after.id) <= 0 : byteOrder(id, after.id) >= 0)
        )
          continue;
        entries.push({ id, app, score });
      }
      if (flat.length < 2 * n) break;
    }
    return entries;
  }

  /** Drops index entries whose session is gone, from every index of its app (the INDEX script). */
  private async removeStale(client: RedisClient, stale: Array<{ id: string; app: string }>): Promise<void> {
    if (stale.length === 0) return;
    const ops = stale.flatMap(({ id, app }) => ['remove', id, app, '', '', '', '', '', '']);
    await evalScript(client, SCRIPTS.index, [this.layout.apps], [this.layout.indexPrefix, ...ops]);
  }
}
